"""Shared fixtures: one Kafka broker per test session, and a small simulated store-day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from ingestion.simulator.run import SimulationPlan, StoreDay, simulate_store_days
from walkout.broker import kafka_available
from walkout.catalog import load_catalog
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


@pytest.fixture(scope="session")
def simulated_day() -> list[StoreDay]:
    """One noisy day of the smallest store, simulated once per session (no Kafka)."""
    return list(
        simulate_store_days(load_catalog(), SimulationPlan(("S002",), date(2026, 11, 18), 1, seed=11))
    )
