"""The checkout service: edge topics in, visits, carts, dwell paths, receipts and dead letters out.

One loop: poll the edge topics; admit each message (its contract, its device's signature, the
catalog: see :mod:`walkout.edge`), dead-lettering what fails with its reason; dead-letter an event
dated so far behind its stream that the ids of its time were forgotten (it could not be told from a
repeat); drop repeats of an ``event_id`` within its topic (a repeat with other content is a dead
letter: a conflicting duplicate); put events in event-time order per store
(:mod:`realtime.checkout.ordering`, which also says how far each store can be decided); feed each
store's fusion; publish what it decides; and at a checkpoint, wait until Kafka acknowledged every
send, write a state snapshot with the consumer positions it covers, and only then commit those
positions. After a crash (even ``kill -9``) the service restores the last snapshot and seeks to its
positions: what happened after it is processed again and re-sends the same events with the same ids
(a receipt's id is derived from its visit), so downstream consumers, which drop duplicate ids, see
each receipt once.

A snapshot names the topics it indexes by their ids: restored against a broker whose topics are not
those (a fresh embedded broker, another cluster), it is set aside with a notice and the service starts
from the beginning of this broker's topics. A broker that loses its data under a running service (its
topics recreated or gone, an offset out of range) or stops acknowledging sends stops the service with
a one-line error, never a silent resume from the wrong place.

Scaling: partitions are keyed by store, so each store's events reach one instance; run several
instances with different ``--instance`` names in the same group to spread stores. A snapshot
belongs to its instance; after a rebalance that moves a store, the new owner rebuilds that store's
state from the retained messages it is handed.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from realtime.checkout.calibration import CalibrationWatch
from realtime.checkout.errors import CheckoutError
from realtime.checkout.fusion import StoreCheckout
from realtime.checkout.ordering import HELD_APART, LATE_S, NO_ROOM, EventTimeBuffer
from realtime.checkout.snapshot import read_snapshot, write_snapshot
from walkout.calibration import Calibration
from walkout.catalog import Catalog, load_catalog
from walkout.contracts import (
    EDGE_TOPICS,
    ContractError,
    EdgeHeartbeat,
    Event,
    GateDirection,
    GateScan,
    Purchase,
    dead_letter,
    rejected_event,
)
from walkout.edge import EdgeAdmission
from walkout.errors import WalkoutError
from walkout.kafka import STRICT_OFFSETS, BrokerWatch, Outbox, leave_group, make_consumer, make_producer
from walkout.settings import Settings
from walkout.stream import Service, Stream, failing_as

SNAPSHOT_EVERY_S = 1.0
BATCH_MAX_RECORDS = 2000
BATCH_MAX_WAIT_S = 0.2
DEDUPE_WINDOW_S = LATE_S  # ids are remembered this long (event time) behind the decided watermark; an
# event dated further behind its stream is refused as too late, so no repeat is taken for a new event
log = logging.getLogger(__name__)


@dataclass
class CheckoutState:
    """Everything the service must remember across a crash, with the positions it covers."""

    stores: dict[str, StoreCheckout] = field(default_factory=dict)
    buffer: EventTimeBuffer = field(default_factory=lambda: EventTimeBuffer(EDGE_TOPICS))
    # store → (topic, event id) → event time and a checksum of its bytes, to drop repeats and catch
    # conflicts. Per store: stores are read at their own pace (their partitions), so one store's
    # progress must not make another's events too late
    seen: dict[str, dict[tuple[str, str], tuple[float, int]]] = field(default_factory=dict)
    seen_until: dict[str, float] = field(default_factory=dict)  # store → ids before this are forgotten
    decided_until: dict[str, float] = field(default_factory=dict)  # store → its watermark so far
    positions: dict[tuple[str, int], int] = field(default_factory=dict)

    def fusion(self, catalog: Catalog, store_id: str) -> StoreCheckout:
        if store_id not in self.stores:
            self.stores[store_id] = StoreCheckout(catalog.store(store_id), catalog)
        return self.stores[store_id]

    def repeat_of(self, topic: str, event: Event, raw: bytes) -> str | None:
        """None for an event not seen before in its topic; else "repeat" or "conflicting"."""
        seen = self.seen.get(event.store_id, {}).get((topic, event.event_id))
        if seen is None:
            return None
        return "repeat" if seen[1] == zlib.crc32(raw) else "conflicting"

    def remember(self, topic: str, event: Event, raw: bytes) -> None:
        self.seen.setdefault(event.store_id, {})[(topic, event.event_id)] = (
            event.ts.timestamp(),
            zlib.crc32(raw),
        )

    def forgotten_until(self, store_id: str) -> float:
        """Ids of the store's events before this instant have been forgotten."""
        return self.seen_until.get(store_id, -math.inf)

    def forget_seen_before(self, store_id: str, at: float) -> None:
        """Forget ids of a store's events long decided; at most once a minute of event time (it walks
        them all)."""
        if at - self.forgotten_until(store_id) >= 60.0:
            seen = self.seen.get(store_id, {})
            self.seen[store_id] = {key: value for key, value in seen.items() if value[0] >= at}
            self.seen_until[store_id] = at


def _plain_name(value: str, what: str) -> str:
    """A group or instance name: it names the snapshot file, so never a path."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", value):
        raise CheckoutError(
            f"{what} name {value[:80]!r} must be 1-64 letters, digits, _ or -, not starting with _ or -"
        )
    return value


def save_state(state: CheckoutState, path: Path, topics: Mapping[str, str] | None = None) -> None:
    """Write atomically and durably: a reader (or a restart) sees the old snapshot or the new one.
    ``topics`` are the ids of the topics whose positions it holds."""
    write_snapshot(path, state, origin=topics or {})


def load_state(path: Path, catalog: Catalog) -> CheckoutState:
    """The last snapshot's state, or a fresh one; an unusable snapshot is a :class:`CheckoutError`."""
    return read_state(path, catalog)[0]


def read_state(path: Path, catalog: Catalog) -> tuple[CheckoutState, dict[str, str]]:
    """The last snapshot's state and the ids of the topics it indexes (a fresh state: none)."""
    pickled = path.with_suffix(".pickle")
    if pickled.exists():  # what older versions wrote: unpickling a file can run any code in it
        log.warning("never loading %s, a pickled checkout state of an older walkout: delete it", pickled)
    if not path.exists():
        return CheckoutState(), {}
    snapshot = read_snapshot(path, CheckoutState, catalog)
    return snapshot.body, snapshot.origin


@dataclass
class CheckoutStats:
    records: int = 0
    duplicates: int = 0
    heartbeats: int = 0
    # dated far ahead of their stream, or of the devices that started their store: used only once their
    # stream gets there (a store's first events, waiting for a second device to agree, are not counted)
    held_apart: int = 0
    heartbeats_let_go: int = 0  # found no room to be held apart (they carry no data)
    dead_lettered: int = 0
    dead_letter_reasons: Counter[str] = field(default_factory=Counter)  # by offending field
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
    Raises :class:`CheckoutError` (one line) when Kafka fails it or the broker lost its data.
    """
    catalog = load_catalog()
    admission = EdgeAdmission(catalog, settings.secret("edge_key"), settings.max_event_bytes)
    path = settings.paths.checkout_snapshot_file(
        f"{_plain_name(group, 'group')}-{_plain_name(instance, 'instance')}"
    )
    state, indexed = read_state(path, catalog)
    consumer = make_consumer(settings, group, (), client_id=f"{group}-{instance}", **STRICT_OFFSETS)
    outbox = Outbox(make_producer(settings))
    service = Service(
        "the checkout",
        CheckoutError,
        kept="nothing was committed past what was published",
        if_offsets_lost=f"Move {path} away to start from the beginning of what the broker has",
        if_data_lost="Publish the edge topics again and restart the checkout: it sets its state aside and "
        "starts afresh",
    )
    try:
        with failing_as(service):
            stream = Stream(consumer, EDGE_TOPICS, max_records=BATCH_MAX_RECORDS, max_wait_s=BATCH_MAX_WAIT_S)
            state = _on_this_broker(state, indexed, path, stream.watch)
            state.buffer.resume(time.monotonic())
            calibrations = CalibrationWatch(settings.paths.calibration_dir)
            return _serve(state, path, admission, stream, service, outbox, stop, idle_exit_s, calibrations)
    finally:
        leave_group(consumer)
        outbox.close()  # all that counts was confirmed; a dying run abandons the rest


def _on_this_broker(
    state: CheckoutState, indexed: Mapping[str, str], path: Path, watch: BrokerWatch
) -> CheckoutState:
    """The restored state if it indexes this broker's topics; else set aside, and a fresh one."""
    if not watch.replaced(indexed):
        return state
    aside = path.with_name(f"{path.name}.other-broker-{int(time.time())}")
    path.replace(aside)
    log.warning(
        "checkout state %s indexes topics this broker does not have (another broker, or one restarted "
        "without its data): set aside as %s; starting from the beginning of this broker's topics",
        path,
        aside,
    )
    return CheckoutState()


def _serve(
    state: CheckoutState,
    path: Path,
    admission: EdgeAdmission,
    stream: Stream,
    service: Service,
    outbox: Outbox,
    stop: threading.Event | None,
    idle_exit_s: float | None,
    calibrations: CalibrationWatch,
) -> CheckoutStats:
    stats = CheckoutStats()
    last_snapshot = time.monotonic()

    def seek_to_snapshot(assigned: Iterable[TopicPartition]) -> None:
        """Resume each partition where the snapshot left it (ahead of the last commit); the others
        resume where the group committed, or at their beginning (see ``poll_strictly``)."""
        for partition in assigned:
            position = state.positions.get((partition.topic, partition.partition))
            if position is not None:
                stream.consumer.seek(partition, position)

    for batch in stream.batches(service, stop, idle_exit_s, seek_to_snapshot):
        now, epoch_now = time.monotonic(), time.time()
        calibration = calibrations.current(now)
        outputs = take_records(
            state, admission, batch.records, stats, now, epoch_now, last=batch.last, calibration=calibration
        )
        for record in batch.records:
            state.positions[(record.topic, record.partition)] = record.offset + 1
        _send(outbox, outputs, stats)
        if batch.records and now - last_snapshot >= SNAPSHOT_EVERY_S:
            _checkpoint(state, path, outbox, stream)
            last_snapshot = now
    _checkpoint(state, path, outbox, stream)  # the end of a replay, or a clean stop keeping held events
    return stats


def take_records(
    state: CheckoutState,
    admission: EdgeAdmission,
    records: Iterable[Any],
    stats: CheckoutStats,
    now: float,
    epoch_now: float,
    *,
    last: bool = False,
    calibration: Calibration | None = None,
) -> list[Event]:
    """What one poll's records make, in the order the service publishes it: each record admitted (or
    dead-lettered), de-duplicated and put in event-time order, then what the stores can decide now.
    ``last`` (the end of a replay) decides every held event and closes the open visits instead.

    ``records`` are Kafka consumer records (``topic``, ``partition``, ``offset``, ``value``,
    ``headers``); ``now`` is the monotonic clock and ``epoch_now`` the wall clock of the poll. The
    service calls this once a poll; offline replays call it as well, so they decide as it does.
    ``calibration`` decides the receipts' review flags (None: the fusion's own ``review_below``)."""
    catalog = admission.catalog
    for fusion in state.stores.values():
        fusion.calibration = calibration
    outputs: list[Event] = []
    for record in records:
        outputs += _ingest(state, admission, record, stats, now, epoch_now)
    if last:
        outputs += _decide(state, catalog, state.buffer.release_all(), {}, calibration)
        outputs += [event for fusion in state.stores.values() for event in fusion.close_all()]
    else:
        outputs += _decide(state, catalog, *_release(state, stats, now, epoch_now), calibration)
    return outputs


def _ingest(
    state: CheckoutState,
    admission: EdgeAdmission,
    record: Any,
    stats: CheckoutStats,
    now: float,
    epoch_now: float,
) -> list[Event]:
    stats.records += 1
    if stats.first_record_at is None:
        stats.first_record_at = now
    try:
        event = admission.admit(record.value, record.topic, record.headers)
    except ContractError as error:
        return [_dead_letter(record, error, stats)]
    if isinstance(event, EdgeHeartbeat):
        stats.heartbeats += 1
    else:
        # behind its stream, or behind what was decided when ids were last forgotten
        behind = max(
            state.buffer.lag_s(event, record.topic),
            state.forgotten_until(event.store_id) + DEDUPE_WINDOW_S - event.ts.timestamp(),
        )
        if behind > DEDUPE_WINDOW_S:
            too_late = ContractError(
                "ts",
                f"dated {behind:.0f} s behind its stream: too late to be told from a repeat (time decided)",
                event.event_type,
            )
            return [_dead_letter(record, too_late, stats, event.store_id)]
        repeat = state.repeat_of(record.topic, event, record.value)
        if repeat == "repeat":
            stats.duplicates += 1
            return []
        if repeat == "conflicting":
            conflict = ContractError(
                "event_id", f"conflicting duplicate: {event.event_id} was already taken with other content"
            )
            return [_dead_letter(record, conflict, stats, event.store_id)]
    started = state.buffer.started(event.store_id)
    refusal = state.buffer.add(event, record.topic, now, epoch_now)
    if refusal == HELD_APART:
        if started:  # else it waits with its store's first events: counted if they leave it behind
            stats.held_apart += 1
    elif refusal == NO_ROOM:
        stats.heartbeats_let_go += 1
    elif refusal is not None:
        return [_dead_letter(record, ContractError("ts", refusal, event.event_type), stats, event.store_id)]
    if isinstance(event, EdgeHeartbeat):
        return []
    state.remember(record.topic, event, record.value)
    if isinstance(event, GateScan) and event.direction is GateDirection.EXIT and event.token_id:
        stats.exits_seen[f"{event.store_id}-{event.token_id}"] = now
    return []


def _release(
    state: CheckoutState, stats: CheckoutStats, now: float, epoch_now: float
) -> tuple[list[Event], dict[str, float]]:
    """What the stores can decide now; a store's first events left parked when it starts are held apart."""
    waiting = [store_id for store_id in state.buffer.parked if not state.buffer.started(store_id)]
    released = state.buffer.release(now, epoch_now)
    stats.held_apart += sum(state.buffer.parked_count(s) for s in waiting if state.buffer.started(s))
    return released


def _dead_letter(record: Any, error: ContractError, stats: CheckoutStats, store_id: str = "unknown") -> Event:
    stats.dead_lettered += 1
    stats.dead_letter_reasons[error.field] += 1
    return dead_letter(
        record.value, record.topic, error, "checkout", store_id, record.partition, record.offset
    )


def _decide(
    state: CheckoutState,
    catalog: Catalog,
    ready: list[Event],
    marks: dict[str, float],
    calibration: Calibration | None,
) -> list[Event]:
    outputs: list[Event] = []
    for event in ready:
        fusion = state.fusion(catalog, event.store_id)
        fusion.calibration = calibration  # a store's first event makes its fusion
        try:
            outputs += fusion.apply(event)
        except WalkoutError as error:  # a flaw of ours; the event is kept with what went wrong
            log.exception("checkout could not apply %s", event.event_id)
            outputs.append(rejected_event(event, f"checkout failed on this event: {error}", "checkout"))
    for store_id, until in marks.items():
        if store_id in state.stores and until > state.decided_until.get(store_id, -math.inf):
            state.decided_until[store_id] = until
            outputs += state.stores[store_id].advance(until)
            outputs += state.stores[store_id].expire(until)
            state.forget_seen_before(store_id, until - DEDUPE_WINDOW_S)
    return outputs


def _send(outbox: Outbox, outputs: list[Event], stats: CheckoutStats) -> None:
    now = time.monotonic()
    for event in outputs:
        outbox.send(event)
        stats.published[event.TOPIC] += 1
        if isinstance(event, Purchase) and event.visit_id in stats.exits_seen:
            stats.exit_to_receipt_s.append(now - stats.exits_seen.pop(event.visit_id))
    if outputs:
        stats.last_output_at = now


def _checkpoint(state: CheckoutState, path: Path, outbox: Outbox, stream: Stream) -> None:
    """Outputs acknowledged first, then the snapshot, then the commit: never the other way round."""
    outbox.confirm()
    save_state(state, path, stream.watch.identity())
    owned = stream.consumer.assignment()
    positions = {
        TopicPartition(topic, partition): OffsetAndMetadata(position, "", -1)
        for (topic, partition), position in state.positions.items()
        if TopicPartition(topic, partition) in owned
    }
    if positions:
        stream.consumer.commit(positions)
