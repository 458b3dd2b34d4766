"""The checkout service: edge topics in, visits, dwell paths, receipts and dead letters out.

One loop: poll the edge topics, parse each message against its contract (a bad one goes to
``deadletter`` with its reason), drop duplicates by ``event_id``, put events in event-time order
per store, feed each store's fusion, publish what it decides, flush, write a state snapshot with
the consumer positions it covers, and only then commit those positions. After a crash (even
``kill -9``) the service restores the last snapshot and seeks to its positions: what happened after
it is processed again and re-sends the same events with the same ids (a receipt's id is derived
from its visit), so downstream consumers, which drop duplicate ids, see each receipt once.

Scaling: partitions are keyed by store, so each store's events reach one instance; run several
instances with different ``--instance`` names in the same group to spread stores. A snapshot
belongs to its instance; after a rebalance that moves a store, the new owner rebuilds that store's
state from the retained messages it is handed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import ConsumerRebalanceListener, TopicPartition
from kafka.structs import OffsetAndMetadata

from realtime.checkout.fusion import StoreCheckout
from realtime.checkout.ordering import EventTimeBuffer
from realtime.checkout.snapshot import read_snapshot, write_snapshot
from walkout.catalog import Catalog, load_catalog
from walkout.contracts import (
    CameraTrack,
    ContractError,
    Event,
    GateDirection,
    GateScan,
    Purchase,
    ShelfEvent,
    dead_letter,
    parse_event,
    rejected_event,
)
from walkout.errors import WalkoutError
from walkout.kafka import make_consumer, make_producer, publish
from walkout.settings import Settings

EDGE_TOPICS = (GateScan.TOPIC, ShelfEvent.TOPIC, CameraTrack.TOPIC)
SNAPSHOT_EVERY_S = 1.0
DEDUPE_WINDOW_S = 3600.0
log = logging.getLogger(__name__)


@dataclass
class CheckoutState:
    """Everything the service must remember across a crash, with the positions it covers."""

    stores: dict[str, StoreCheckout] = field(default_factory=dict)
    buffer: EventTimeBuffer = field(default_factory=lambda: EventTimeBuffer(EDGE_TOPICS))
    seen: dict[str, float] = field(default_factory=dict)  # event id → event time, for dropping duplicates
    positions: dict[tuple[str, int], int] = field(default_factory=dict)

    def fusion(self, catalog: Catalog, store_id: str) -> StoreCheckout:
        if store_id not in self.stores:
            self.stores[store_id] = StoreCheckout(catalog.store(store_id), catalog)
        return self.stores[store_id]

    def first_time(self, event: Event) -> bool:
        if event.event_id in self.seen:
            return False
        self.seen[event.event_id] = event.ts.timestamp()
        return True

    def forget_seen_before(self, at: float) -> None:
        self.seen = {event_id: ts for event_id, ts in self.seen.items() if ts >= at}


def snapshot_path(settings: Settings, instance: str) -> Path:
    return settings.data_dir / "state" / f"checkout-{instance}.snapshot"


def save_state(state: CheckoutState, path: Path) -> None:
    """Write atomically and durably: a reader (or a restart) sees the old snapshot or the new one."""
    write_snapshot(path, state, origin={})  # what the state was taken against: none recorded yet


def load_state(path: Path, catalog: Catalog) -> CheckoutState:
    """The last snapshot's state, or a fresh one; an unusable snapshot is a :class:`CheckoutError`."""
    pickled = path.with_suffix(".pickle")
    if pickled.exists():  # what older versions wrote: unpickling a file can run any code in it
        log.warning("never loading %s, a pickled checkout state of an older walkout: delete it", pickled)
    if not path.exists():
        return CheckoutState()
    return read_snapshot(path, CheckoutState, catalog).body


class _SeekToSnapshot(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, resume each partition where the snapshot left it (ahead of the last commit)."""

    def __init__(self, state: CheckoutState) -> None:
        self.state = state
        self.consumer: Any = None

    def on_partitions_revoked(self, revoked: Any) -> None:
        return None

    def on_partitions_assigned(self, assigned: Any) -> None:
        for partition in assigned:
            position = self.state.positions.get((partition.topic, partition.partition))
            if position is not None:
                self.consumer.seek(partition, position)


@dataclass
class CheckoutStats:
    records: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    published: Counter[str] = field(default_factory=Counter)
    first_record_at: float | None = None
    last_output_at: float | None = None
    exits_seen: dict[str, float] = field(default_factory=dict)  # visit id → when its exit scan arrived
    exit_to_receipt_s: list[float] = field(default_factory=list)

    @property
    def events_per_s(self) -> float:
        """Records over the time from the first record to the last decision (join and idle excluded)."""
        if self.first_record_at is None or self.last_output_at is None:
            return 0.0
        return self.records / max(self.last_output_at - self.first_record_at, 1e-9)


def run_checkout(
    settings: Settings,
    stop: threading.Event | None = None,
    idle_exit_s: float | None = None,
    group: str = "checkout",
    instance: str = "0",
) -> CheckoutStats:
    """Run until ``stop`` is set or, with ``idle_exit_s``, until the inputs stay quiet that long.

    An idle exit is the end of a replay: every held event is decided and open visits are closed.
    """
    catalog = load_catalog()
    path = snapshot_path(settings, f"{group}-{instance}")
    state = load_state(path, catalog)
    state.buffer.resume(time.monotonic())
    listener = _SeekToSnapshot(state)
    consumer = make_consumer(settings, group, (), client_id=f"{group}-{instance}")
    listener.consumer = consumer
    consumer.subscribe(list(EDGE_TOPICS), listener=listener)
    producer = make_producer(settings)
    stats = CheckoutStats()
    last_record = last_snapshot = time.monotonic()
    try:
        while True:
            if stop is not None and stop.is_set():  # a clean stop keeps held events in the snapshot
                _checkpoint(state, path, producer, consumer)
                break
            batches = consumer.poll(timeout_ms=200)
            now = time.monotonic()
            outputs: list[Event] = []
            for partition, records in batches.items():
                for record in records:
                    outputs += _ingest(state, record, settings, stats, now)
                state.positions[(partition.topic, partition.partition)] = records[-1].offset + 1
            if batches or not consumer.assignment():  # idle time counts once the group has let us in
                last_record = now
            idle = idle_exit_s is not None and now - last_record >= idle_exit_s
            outputs += _decide(
                state, catalog, state.buffer.release_all() if idle else state.buffer.release(now)
            )
            if idle:
                outputs += [event for fusion in state.stores.values() for event in fusion.close_all()]
            _send(producer, outputs, stats)
            if idle or (batches and now - last_snapshot >= SNAPSHOT_EVERY_S):
                _checkpoint(state, path, producer, consumer)
                last_snapshot = now
            if idle:
                break
    finally:
        consumer.close(autocommit=False)
        producer.close()
    return stats


def _ingest(
    state: CheckoutState, record: Any, settings: Settings, stats: CheckoutStats, now: float
) -> list[Event]:
    stats.records += 1
    if stats.first_record_at is None:
        stats.first_record_at = now
    try:
        event = parse_event(record.value, record.topic, settings.max_event_bytes)
    except ContractError as error:
        stats.dead_lettered += 1
        return [
            dead_letter(
                record.value, record.topic, error, "checkout", "unknown", record.partition, record.offset
            )
        ]
    if not state.first_time(event):
        stats.duplicates += 1
        return []
    if isinstance(event, GateScan) and event.direction is GateDirection.EXIT and event.token_id:
        stats.exits_seen[f"{event.store_id}-{event.token_id}"] = now
    state.buffer.add(event, now)
    return []


def _decide(state: CheckoutState, catalog: Catalog, ready: list[Event]) -> list[Event]:
    outputs: list[Event] = []
    newest: dict[str, float] = {}
    for event in ready:
        try:
            outputs += state.fusion(catalog, event.store_id).apply(event)
        except WalkoutError as error:  # e.g. a store the catalog does not know
            outputs.append(rejected_event(event, str(error), "checkout"))
            continue
        newest[event.store_id] = max(newest.get(event.store_id, 0.0), event.ts.timestamp())
    for store_id, at in newest.items():
        outputs += state.stores[store_id].expire(at)
    if newest:
        state.forget_seen_before(min(newest.values()) - DEDUPE_WINDOW_S)
    return outputs


def _send(producer: Any, outputs: list[Event], stats: CheckoutStats) -> None:
    now = time.monotonic()
    for event in outputs:
        publish(producer, event)
        stats.published[event.TOPIC] += 1
        if isinstance(event, Purchase) and event.visit_id in stats.exits_seen:
            stats.exit_to_receipt_s.append(now - stats.exits_seen.pop(event.visit_id))
    if outputs:
        stats.last_output_at = now


def _checkpoint(state: CheckoutState, path: Path, producer: Any, consumer: Any) -> None:
    """Outputs durable first, then the snapshot, then the commit: never the other way round."""
    producer.flush()
    save_state(state, path)
    owned = consumer.assignment()
    positions = {
        TopicPartition(topic, partition): OffsetAndMetadata(position, "", -1)
        for (topic, partition), position in state.positions.items()
        if TopicPartition(topic, partition) in owned
    }
    if positions:
        consumer.commit(positions)
