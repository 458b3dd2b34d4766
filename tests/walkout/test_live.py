"""The live feed both readers use, through the session's broker: events handed over in order, what it
cannot read or apply skipped, counted and logged with its place and reason, its health, a clean stop."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from walkout.contracts import Event, Visit, VisitStatus, make_event_id
from walkout.kafka import make_producer, publish
from walkout.live import LiveFeed
from walkout.settings import Settings


def visits(run: str, count: int) -> list[Visit]:
    """Visits of one store (one key, so one partition: their order is kept)."""
    start = datetime.now(UTC).replace(microsecond=0)
    return [
        Visit(
            event_id=make_event_id("test-live-feed", run, n),
            store_id="S001",
            ts=start + timedelta(seconds=n),
            visit_id=f"{run}-{n}",
            shopper_id="M000001",
            status=VisitStatus.OPENED,
            group_size=1,
            entered_at=start + timedelta(seconds=n),
        )
        for n in range(count)
    ]


def eventually(condition: Callable[[], bool], timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)
    return condition()


@pytest.mark.kafka
def test_the_feed_hands_over_events_in_order_and_skips_what_it_cannot_read_or_apply(
    kafka_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    run = uuid.uuid4().hex[:8]
    sent = visits(run, 6)
    refused = sent[2].event_id  # read, but its apply fails
    producer = make_producer(kafka_settings)
    for event in sent[:3]:
        publish(producer, event)
    bad = producer.send(Visit.TOPIC, key=b"S001", value=b"not json").get(timeout=30)  # between ours
    for event in sent[3:]:
        publish(producer, event)
    producer.flush()
    producer.close()
    caplog.set_level(logging.WARNING, logger="walkout.live")

    ours = {event.event_id for event in sent}
    applied: list[str] = []
    lock = threading.Lock()

    def apply(event: Event) -> None:
        if event.event_id == refused:
            raise ValueError("this visit is refused on purpose")
        if event.event_id in ours:  # the session's broker holds other tests' events too
            with lock:
                applied.append(event.event_id)

    feed = LiveFeed(kafka_settings, "test-live-feed", [Visit.TOPIC], apply, stale_s=5.0).start()
    try:
        assert eventually(lambda: len(applied) == len(sent) - 1)
        assert applied == [event.event_id for event in sent if event.event_id != refused]
        health = feed.health()
        assert health.problem is None
        assert health.connected
        assert health.bootstrap is not None
        assert health.last_received_at is not None
        assert health.skipped >= 2  # our two, and whatever garbage other tests left on the topic
        logged = [record.message for record in caplog.records]
        assert any(f"{Visit.TOPIC}[{bad.partition}]@{bad.offset}: ContractError" in line for line in logged)
        assert any("ValueError: this visit is refused on purpose" in line for line in logged)
    finally:
        feed.stop()
    health = feed.health()
    assert not health.running  # its thread has ended, the consumer closed
    assert health.problem == "the live feed is not running"


@pytest.mark.slow
def test_a_feed_that_cannot_reach_kafka_says_why_and_stops_at_once(tmp_path: Path) -> None:
    nowhere = Settings(data_dir=tmp_path, kafka_bootstrap="127.0.0.1:9")
    feed = LiveFeed(nowhere, "test-live-feed", [Visit.TOPIC], lambda _: None).start()
    try:
        assert eventually(lambda: feed.health().cut_off is not None)
        health = feed.health()
        assert not health.connected
        assert "127.0.0.1:9" in (health.problem or "")
        assert "cannot read Kafka" in (health.problem or "")
    finally:
        started = time.monotonic()
        feed.stop()
    assert not feed.health().running
    assert time.monotonic() - started < 10  # its retry wait ends with the stop
