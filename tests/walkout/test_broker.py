"""The embedded broker starts, answers, reports its status and stops without leaving a process behind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from walkout.broker import BrokerError, EmbeddedBroker
from walkout.kafka import create_topics, list_topics
from walkout.settings import Settings

pytestmark = pytest.mark.kafka


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "State:\tZ" not in status.read_text()


def test_start_status_stop_leaves_no_process(tmp_path: Path) -> None:
    broker = EmbeddedBroker(Settings(data_dir=tmp_path))
    assert broker.status() is None
    state = broker.start()
    try:
        assert broker.start() == state  # a second start reuses the running broker
        assert broker.status() == state
        settings = Settings(data_dir=tmp_path)
        create_topics(settings)
        assert "purchases" in list_topics(settings)
    finally:
        stopped = broker.stop()
    assert stopped == state
    assert not alive(state.pid)
    assert broker.status() is None
    assert broker.stop() is None


def test_stale_state_of_a_dead_broker_is_ignored(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    settings.paths.run_dir.mkdir(parents=True)
    settings.paths.broker_state_file.write_text(
        json.dumps({"pid": 999_999, "host": "127.0.0.1", "port": 1, "binary": "/x", "log_file": "/x"})
    )
    assert EmbeddedBroker(settings).status() is None
    assert not settings.paths.broker_state_file.exists()


def test_never_starts_a_broker_when_a_cluster_is_configured(tmp_path: Path) -> None:
    with pytest.raises(BrokerError, match="WALKOUT_KAFKA_BOOTSTRAP"):
        EmbeddedBroker(Settings(data_dir=tmp_path, kafka_bootstrap="kafka.example:9092")).start()
