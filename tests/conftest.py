"""Shared fixtures: settings on a temporary data directory and one Kafka broker per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from walkout.broker import kafka_available
from walkout.kafka import create_topics
from walkout.settings import Settings


@pytest.fixture(scope="session")
def session_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("walkout-data")


@pytest.fixture(scope="session")
def kafka_settings(session_data_dir: Path) -> Iterator[Settings]:
    """Settings with live Kafka: WALKOUT_KAFKA_BOOTSTRAP if set, else an embedded broker for the session."""
    settings = Settings(data_dir=session_data_dir)
    with kafka_available(settings):
        create_topics(settings)
        yield settings
