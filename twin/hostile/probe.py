"""The probe run: the store-day forwarded through its gateway with its hostile messages in their places,
published to Kafka, and each hostile message's dead letters found again."""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from twin.hostile.kinds import ONE_MB
from twin.hostile.message import Fate, HostileMessage, SentHostile, place_of
from twin.run import StoreDay, forward_store_day
from walkout.contracts import ContractError, DeadLetter, EdgeHeartbeat, Event, parse_event
from walkout.edge import EdgeSigner
from walkout.kafka import Outbox, create_topics, drain, make_consumer, make_producer
from walkout.settings import Settings

MAX_REQUEST_BYTES = 4 * ONE_MB  # the hostile producer sends a 1 MB message whole (its default limit is 1 MB)


def forward_hostile_day(
    store_day: StoreDay,
    messages: Sequence[HostileMessage],
    send: Callable[[Event, str], None],
    send_hostile: Callable[[HostileMessage], None],
) -> None:
    """The store-day through its gateway (``send`` gets each event and heartbeat with its topic), each
    hostile message handed to ``send_hostile`` just before the day's event it is due before."""
    due = deque(sorted(messages, key=lambda message: message.before))
    forwarded = 0

    def send_due(upto: int) -> None:
        while due and due[0].before <= upto:
            send_hostile(due.popleft())

    def forward(event: Event, topic: str) -> None:
        nonlocal forwarded
        if not isinstance(event, EdgeHeartbeat):  # the gateway forwards the day's events one by one
            send_due(forwarded)
            forwarded += 1
        send(event, topic)

    forward_store_day(store_day, forward)
    send_due(len(store_day.events))


def publish_hostile_day(
    settings: Settings, store_day: StoreDay, messages: Sequence[HostileMessage]
) -> list[SentHostile]:
    """Send the store-day through its gateway, each event signed by its device as ``edge_to_kafka``
    does, with the hostile messages in their places; one producer sends both, so each partition keeps
    the order they were sent in. Returns, once Kafka acknowledged every send, where each hostile
    message landed."""
    signer = EdgeSigner(settings.secret("edge_key"))
    create_topics(settings)
    producer = make_producer(settings, max_request_size=MAX_REQUEST_BYTES)
    outbox = Outbox(producer)
    futures: list[tuple[HostileMessage, Any]] = []

    def send_hostile(message: HostileMessage) -> None:
        headers = message.headers or None
        future = producer.send(message.topic, key=message.key, value=message.value, headers=headers)
        futures.append((message, future))

    def send(event: Event, topic: str) -> None:
        outbox.send(event, topic=topic, signer=signer)
        if len(outbox) >= 10_000:
            outbox.confirm()

    try:
        forward_hostile_day(store_day, messages, send, send_hostile)
        outbox.confirm()
        landed = [(message, future.get(timeout=60)) for message, future in futures]
    finally:
        producer.close()
    events = len(store_day.events)
    return [SentHostile(m, meta.partition, meta.offset, place_of(m, events)) for m, meta in landed]


def read_topic(settings: Settings, topic: str, idle_s: float = 6.0) -> list[bytes]:
    """Every message value of a topic (tombstones left out), read from its beginning by a new group."""
    consumer = make_consumer(settings, f"hostile-reader-{random.getrandbits(48):012x}", [topic])
    try:
        return [record.value for record in drain(consumer, 10**12, idle_s) if record.value is not None]
    finally:
        consumer.close(autocommit=False)


def read_dead_letters(settings: Settings) -> list[DeadLetter]:
    """Every dead letter on the ``deadletter`` topic."""
    letters = []
    for raw in read_topic(settings, DeadLetter.TOPIC):
        try:
            letter = parse_event(raw, DeadLetter.TOPIC)
        except ContractError:
            continue
        if isinstance(letter, DeadLetter):
            letters.append(letter)
    return letters


def dead_letters_of(hostile: SentHostile, letters: Sequence[DeadLetter]) -> list[DeadLetter]:
    """The dead letters of one hostile message: by its source position, and (a corrected reading the
    checkout could charge to nobody carries none) by its event id."""
    message = hostile.message
    found = [
        letter
        for letter in letters
        if (letter.source_topic, letter.source_partition, letter.source_offset)
        == (message.topic, hostile.partition, hostile.offset)
    ]
    if message.fate is Fate.CORRECTED:
        found += [
            letter
            for letter in letters
            if letter.source_topic == message.topic
            and letter.source_offset is None
            and _event_id(letter) == message.event_id
        ]
    return found


def _event_id(letter: DeadLetter) -> str | None:
    try:
        document = json.loads(letter.original())
    except ValueError:
        return None
    event_id = document.get("event_id") if isinstance(document, dict) else None
    return event_id if isinstance(event_id, str) else None
