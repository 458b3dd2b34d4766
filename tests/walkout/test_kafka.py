"""A real round trip through the broker with kafka-python: produce, consume in a group, commit, resume."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest

from walkout.broker import EmbeddedBroker
from walkout.contracts import GateDirection, GateScan, ScanOutcome, make_event_id, parse_event
from walkout.kafka import (
    KafkaSetupError,
    Outbox,
    TopicSpec,
    create_topics,
    drain,
    list_topics,
    make_consumer,
    make_producer,
    publish,
    topic_specs,
    validate_topic_spec,
)
from walkout.settings import Settings

pytestmark = pytest.mark.kafka


def scans(store_id: str, count: int, run: str) -> list[GateScan]:
    return [
        GateScan(
            event_id=make_event_id(run, store_id, n),
            store_id=store_id,
            ts=datetime.now(UTC),
            gate_id=f"{store_id}-G1",
            direction=GateDirection.ENTRY,
            shopper_id=f"M{n:06d}",
            outcome=ScanOutcome.ACCEPTED,
        )
        for n in range(count)
    ]


@pytest.mark.parametrize(
    "spec", [TopicSpec("bad name!", 3), TopicSpec("", 3), TopicSpec("ok", 0), TopicSpec("..", 1)]
)
def test_invalid_topic_specs_are_rejected(spec: TopicSpec) -> None:
    with pytest.raises(KafkaSetupError):
        validate_topic_spec(spec)


def test_topics_exist_with_configured_partitions(kafka_settings: Settings) -> None:
    topics = list_topics(kafka_settings)
    for spec in topic_specs(kafka_settings):
        assert topics[spec.name] == kafka_settings.topic_partitions
    assert create_topics(kafka_settings) == []  # idempotent


def test_produce_consume_commit_and_resume(kafka_settings: Settings) -> None:
    topic = "test.roundtrip"
    create_topics(kafka_settings, [TopicSpec(topic, 3)])
    events = scans("S001", 40, "first") + scans("S002", 40, "first")
    producer = make_producer(kafka_settings)
    for event in events:
        producer.send(topic, key=event.key, value=event.to_bytes())
    producer.flush()

    first = make_consumer(kafka_settings, "test-resume", [topic])
    seen = [parse_event(record.value) for record in drain(first, expected=len(events))]
    assert sorted(event.event_id for event in seen) == sorted(event.event_id for event in events)
    # One store's events share a partition, so each store's sequence keeps its order.
    for store in ("S001", "S002"):
        assert [e.shopper_id for e in seen if e.store_id == store] == [
            e.shopper_id for e in events if e.store_id == store
        ]
    first.commit()
    first.close()

    later = scans("S003", 15, "second")
    for event in later:
        producer.send(topic, key=event.key, value=event.to_bytes())
    producer.flush()
    producer.close()

    resumed = make_consumer(kafka_settings, "test-resume", [topic])
    again = [
        parse_event(record.value) for record in drain(resumed, expected=len(later) + 1, idle_timeout_s=4)
    ]
    resumed.close()
    assert sorted(event.event_id for event in again) == sorted(event.event_id for event in later)


def test_uncommitted_messages_are_delivered_again(kafka_settings: Settings) -> None:
    topic = "test.redelivery"
    create_topics(kafka_settings, [TopicSpec(topic, 2)])
    events = scans("S001", 10, "redelivery")
    producer = make_producer(kafka_settings)
    for event in events:
        producer.send(topic, key=event.key, value=event.to_bytes())
    producer.flush()
    producer.close()
    crashed = make_consumer(kafka_settings, "test-redelivery", [topic])
    assert len(list(drain(crashed, expected=len(events)))) == len(events)
    crashed.close(autocommit=False)  # a crash before the write: nothing committed
    retry = make_consumer(kafka_settings, "test-redelivery", [topic])
    assert len(list(drain(retry, expected=len(events)))) == len(events)
    retry.close()


def test_publish_routes_by_contract_topic(kafka_settings: Settings) -> None:
    producer = make_producer(kafka_settings)
    metadata = publish(producer, scans("S009", 1, "publish")[0]).get(timeout=10)
    producer.close()
    assert metadata.topic == GateScan.TOPIC


def test_an_outbox_closes_at_once_on_a_broker_that_stopped_answering(tmp_path: Path) -> None:
    """A service that stops (a full disk, a bad broker) closes its outbox with sends still in flight;
    the close must neither wait for the broker nor raise over the error that stopped the service."""
    settings = Settings(data_dir=tmp_path, topic_partitions=1)  # its own broker, on a free port
    broker = EmbeddedBroker(settings)
    state = broker.start()
    try:
        create_topics(settings, [TopicSpec("test.outbox", 1)])
        outbox = Outbox(make_producer(settings))
        (answered,) = scans("S001", 1, "answered")
        outbox.send(answered, topic="test.outbox")
        outbox.confirm()  # the producer knows the topic: the next send goes straight to the wire
        os.kill(state.pid, signal.SIGSTOP)  # the broker hangs: nothing sent now is ever acknowledged
        try:
            for event in scans("S001", 3, "in-flight"):
                outbox.send(event, topic="test.outbox")
            outbox.close()
            assert len(outbox) == 0
        finally:
            os.kill(state.pid, signal.SIGCONT)
    finally:
        broker.stop()
