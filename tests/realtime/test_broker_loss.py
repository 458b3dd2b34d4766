"""The broker dies under the checkout and the lander, and comes back without its data.

The embedded broker keeps its topics in memory only, like a cluster that lost its disks. The services
must notice (the topics they read are gone or have new ids), stop with one line instead of resuming at
offsets that now mean something else, and lose or duplicate nothing once the edge sends the day again:
the checkout sets aside its snapshot of the lost broker and decides the day afresh, and the lake,
which keeps what was landed, takes each receipt once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from twin.checkout_evaluate import read_receipts
from twin.run import StoreDay, edge_to_kafka, forward_store_day
from walkout.broker import EmbeddedBroker
from walkout.contracts import Purchase
from walkout.lake import read_lake
from walkout.settings import Settings

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
SERVICES = {
    "checkout": ["checkout", "run", "--idle-exit", "8"],
    "lander": ["land", "run", "--idle-exit", "8"],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(settings: Settings, service: str) -> subprocess.Popen[str]:
    environment = {
        **os.environ,
        "WALKOUT_DATA_DIR": str(settings.data_dir),
        "WALKOUT_BROKER_PORT": str(settings.broker_port),
    }
    environment.pop("WALKOUT_KAFKA_BOOTSTRAP", None)
    return subprocess.Popen(
        [sys.executable, "-m", "walkout", *SERVICES[service]],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def crash(broker: EmbeddedBroker) -> None:
    """kill -9: the broker's topics, offsets and groups are gone with it."""
    state = broker.status()
    assert state is not None
    os.kill(state.pid, signal.SIGKILL)
    os.waitpid(state.pid, 0)  # the broker is this process's child: collect it
    assert broker.status() is None


def landed_receipts(settings: Settings) -> pl.DataFrame:
    return read_lake(settings, Purchase.TOPIC)


def test_a_broker_that_comes_back_empty_stops_the_services_and_nothing_is_lost_or_doubled(
    tmp_path: Path, simulated_day: list[StoreDay]
) -> None:
    (day,) = simulated_day
    settings = Settings(data_dir=tmp_path, broker_port=free_port())
    broker = EmbeddedBroker(settings)
    broker.start()
    try:
        with edge_to_kafka(settings) as send:
            forward_store_day(day, send)
        services = {name: start(settings, name) for name in SERVICES}
        deadline = time.monotonic() + 300
        while landed_receipts(settings).height < 40:  # well into the day: receipts decided and landed
            assert time.monotonic() < deadline, "no receipts landed"
            assert all(service.poll() is None for service in services.values())
            time.sleep(0.5)

        crash(broker)
        broker.start()  # the same address, no data: what a restarted memory-only broker is

        for name, service in services.items():
            _, stderr = service.communicate(timeout=120)
            assert service.returncode == 1, f"{name}: {stderr}"
            last = stderr.strip().splitlines()[-1]
            # it noticed the topics are new, or the new broker refused what it sent: either way, one line
            assert last.startswith("walkout: error: "), stderr
            print(name, last)
            assert "lost its data" in last or "Kafka failed" in last, stderr
            assert "Traceback" not in stderr
        before = landed_receipts(settings)
        assert before.height == before["event_id"].n_unique()  # what was landed, once

        # the embedded broker took what the services sent while they had not yet noticed: restarted
        # once more before anything is published again (walkout/kafka.py)
        broker.stop()
        broker.start()
        with edge_to_kafka(settings) as send:  # the edge sends the day again
            forward_store_day(day, send)
        for name in SERVICES:
            finished = start(settings, name)
            try:
                _, stderr = finished.communicate(timeout=400)
            finally:
                finished.kill()  # never left behind
            assert finished.returncode == 0, f"{name}: {stderr}"

        published = {receipt.event_id: receipt for receipt in read_receipts(settings)}
        after = landed_receipts(settings)
        assert after.height == after["event_id"].n_unique()  # nothing doubled
        assert set(after["event_id"]) == set(published)  # nothing lost: every receipt of the day landed
        assert set(before["event_id"]) <= set(published)  # what landed before is what the day charges
        assert len(published) == len({receipt.visit_id for receipt in published.values()})
        aside = list(settings.paths.checkout_state_dir.glob("checkout-*.snapshot.other-broker-*"))
        assert len(aside) == 1  # the lost broker's snapshot, set aside, not resumed from
    finally:
        broker.stop()
