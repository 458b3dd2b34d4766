"""Hostile and odd input mixed into a simulated store-day: the probe of issue #25 as Kafka messages.

:func:`hostile_messages` builds, for one store-day of the twin, every class of bad message the issue
measured (poison bytes, impossible and future timestamps, unknown places, forged scans, conflicting
duplicates, wrong picks), each with its place in the day's send order (before the day's first events,
mid-day, at the end) and what the consumers of the edge topics must make of it (its :class:`Fate`).
:func:`publish_hostile_day` sends the day through its gateway, signed as
:func:`~twin.run.edge_to_kafka` signs it, with the hostile messages in their places,
and says where each one landed (partition, offset), so that its dead letter can be found by its source.

"Signed" means signed as a faulty genuine device signs: with that device's own key. Proof of origin
does not make a message right; the consumers must still refuse it, correct it or hold it apart.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from twin.run import StoreDay, forward_store_day
from walkout.catalog import Catalog
from walkout.contracts import (
    CameraTrack,
    ContractError,
    DeadLetter,
    EdgeHeartbeat,
    Event,
    GateDirection,
    GateScan,
    ScanOutcome,
    ShelfAction,
    ShelfEvent,
    make_event_id,
    parse_event,
)
from walkout.edge import EdgeSigner, gateway_id
from walkout.kafka import Outbox, create_topics, drain, make_consumer, make_producer
from walkout.settings import Settings

ONE_MB = 1024 * 1024
MAX_REQUEST_BYTES = 4 * ONE_MB  # the hostile producer sends a 1 MB message whole (its default limit is 1 MB)
UNKNOWN_STORE = "S999"
UNKNOWN_MEMBER = "M9999999"
UNKNOWN_PRODUCT = "P9999"
QUIET_S = 240.0  # "where nobody stands": a stretch this long in which no camera saw anyone
Headers = list[tuple[str, bytes]]


class Fate(StrEnum):
    """What the consumers of the edge topics (the checkout, the lander) must make of a message."""

    REFUSED = "refused"
    """Both dead-letter it at its source position, naming ``field``: nothing of it is used or landed."""
    DUPLICATE = "refused as a duplicate"
    """A genuine device's second message with a taken id and other content: the checkout dead-letters it
    at its source position (a conflicting duplicate, or too late to be told from one); the lander
    keeps the first copy in the lake and skips this one."""
    CORRECTED = "corrected, charged to nobody"
    """A genuine plate's reading that the catalog corrects (the plate's product, the units its weight
    makes), dated where nobody stands: the checkout dead-letters the corrected event as unattributable
    (a dead letter without a source position: found by its event id); the lander lands the corrected
    reading."""
    HELD_APART = "held apart"
    """A genuine device's message dated a day ahead of its stream: the checkout holds it apart (it
    releases nothing early); the lander lands a frame under its own date (a heartbeat never lands)."""


class Place(StrEnum):
    BEFORE = "before the day"
    MIDDAY = "mid-day"
    END = "at the end"


@dataclass(frozen=True)
class HostileMessage:
    kind: str  # the class of hostile input (a row of the probe's table)
    variant: str  # how this one is made
    item: int  # the item of issue #25 that measured it
    topic: str
    before: int  # sent just before the day's event of this index (len(events): after all of them)
    key: bytes
    value: bytes | None
    headers: Headers
    fate: Fate
    field: str = ""  # its dead letters' error_field
    reason: str = ""  # a fragment of its dead letters' reason
    event_id: str | None = None


@dataclass(frozen=True)
class SentHostile:
    message: HostileMessage
    partition: int
    offset: int
    place: Place


class _Day:
    """The store-day's events in send order, its store, and the signer of its devices."""

    def __init__(self, store_day: StoreDay, catalog: Catalog, edge_key: bytes) -> None:
        self.store = catalog.store(store_day.store_id)
        self.catalog = catalog
        self.signer = EdgeSigner(edge_key)
        self.events = [event for _, event in store_day.events]
        self.sent_at = [at for at, _ in store_day.events]
        self.end = len(self.events)
        self.middle = self.end // 2

    def places(self) -> dict[Place, int]:
        return {Place.BEFORE: 0, Place.MIDDAY: self.middle, Place.END: self.end}

    def first(self, kind: type[Event], start: int, accept: Callable[[Any], bool] = bool) -> tuple[int, Any]:
        """The first event of a kind at or after index ``start`` that ``accept`` takes, and its index."""
        for index in range(start, self.end):
            event = self.events[index]
            if isinstance(event, kind) and accept(event):
                return index, event
        raise ValueError(f"no {kind.__name__} after event {start} of {self.store.store_id}")

    def last_sent(self, event: Event) -> int:
        """The index of the last send of an event (a device may retry it)."""
        return max(i for i, each in enumerate(self.events) if each.event_id == event.event_id)

    def index_at(self, at: float) -> int:
        """The index of the first event sent at or after ``at`` (epoch seconds)."""
        return next((i for i, sent in enumerate(self.sent_at) if sent >= at), self.end)

    def quiet_moment(self, start: int) -> float:
        """The middle (epoch s) of the first stretch of :data:`QUIET_S` after event ``start`` in which no
        camera saw anyone: nobody stands near any plate."""
        frames = sorted(e.ts.timestamp() for e in self.events[start:] if isinstance(e, CameraTrack))
        for earlier, later in itertools.pairwise(frames):
            if later - earlier >= QUIET_S:
                return (earlier + later) / 2
        raise ValueError(f"no quiet {QUIET_S:.0f} s after event {start} of {self.store.store_id}")

    def signed(self, event: Event, raw: bytes | None = None) -> Headers:
        """Headers of ``raw`` (default: the event's bytes) signed by the device of ``event``."""
        return self.signer.headers(event, event.to_bytes() if raw is None else raw)

    def samples(self) -> dict[str, Event]:
        """A real mid-day event of each edge topic, for hostile messages to pass for."""
        return {
            GateScan.TOPIC: self.first(GateScan, self.middle, _accepted_entry)[1],
            ShelfEvent.TOPIC: self.first(ShelfEvent, self.middle, _pick)[1],
            CameraTrack.TOPIC: self.first(CameraTrack, self.middle)[1],
        }


def _accepted_entry(event: GateScan) -> bool:
    return event.outcome is ScanOutcome.ACCEPTED and event.direction is GateDirection.ENTRY


def _pick(event: ShelfEvent) -> bool:
    return event.action is ShelfAction.PICK


def _hostile_id(*parts: object) -> str:
    return make_event_id("hostile", *parts)


def _json(event: Event, **changes: Any) -> bytes:
    """The event's JSON with fields changed to any JSON value, whatever its contract says."""
    document = {**json.loads(event.to_bytes()), **changes}
    return json.dumps(document, separators=(",", ":")).encode()


def _with_number(event: Event, field: str, literal: bytes) -> bytes:
    """The event's JSON with ``field`` set to a raw JSON number text (NaN, a 5,000-digit integer)."""
    return _json(event, **{field: "__number__"}).replace(b'"__number__"', literal)


_NUMBER_FIELDS = {GateScan.TOPIC: "group_size", ShelfEvent.TOPIC: "quantity", CameraTrack.TOPIC: "x_m"}


def hostile_messages(store_day: StoreDay, catalog: Catalog, edge_key: bytes) -> list[HostileMessage]:
    """Every class of hostile message of issue #25, for this store-day, on every edge topic it applies
    to and in every place it applies to; ``edge_key`` is the key its genuine devices sign with."""
    day = _Day(store_day, catalog, edge_key)
    return [
        *_poison(day),
        *_impossible_times(day),
        *_dated_ahead(day),
        *_unknown_places(day),
        *_forged_scans(day),
        *_conflicting_duplicates(day),
        *_wrong_picks(day),
    ]


def _signed(
    day: _Day,
    kind: str,
    variant: str,
    item: int,
    event: Event,
    before: int,
    fate: Fate,
    field: str = "",
    reason: str = "",
    topic: str | None = None,
) -> HostileMessage:
    """An event sent as it is, signed by its device."""
    raw = event.to_bytes()
    return HostileMessage(
        kind, variant, item, topic or event.TOPIC, before, event.key, raw, day.signed(event, raw), fate,
        field, reason, event.event_id,
    )  # fmt: skip


def _poison(day: _Day) -> Iterator[HostileMessage]:
    """Item 1: bytes that crash-looped the services. Signed by the device they pass for: a signature
    does not make bytes parse."""
    padding = base64.b64encode(random.Random(25).randbytes(ONE_MB * 3 // 4))  # does not compress
    for topic, sample in day.samples().items():
        number = _NUMBER_FIELDS[topic]
        one_mb = sample.to_bytes()[:-1] + b',"padding":"' + padding + b'"}'
        poisons: list[tuple[str, str, bytes | None, str]] = [
            ("4 KB nested arrays", "2,048 deep", b"[" * 2048 + b"]" * 2048, "nested too deeply"),
            ("5,000-digit integers", number, _with_number(sample, number, b"9" * 5000), "not a valid number"),
            ("1 MB payloads", "1 MiB of padding", one_mb, "-byte limit"),
            ("tombstones", "no value", None, "tombstone"),
            ("NaN / Infinity", f"NaN {number}", _with_number(sample, number, b"NaN"), "NaN is not a"),
            ("NaN / Infinity", f"-Inf {number}", _with_number(sample, number, b"-Infinity"), "-Infinity"),
        ]  # fmt: skip
        for kind, variant, value, reason in poisons:
            headers = day.signed(sample, value) if value is not None else []
            for before in day.places().values():
                yield HostileMessage(
                    kind, variant, 1, topic, before, sample.key, value, headers, Fate.REFUSED, "(payload)",
                    reason,
                )  # fmt: skip


def _impossible_times(day: _Day) -> Iterator[HostileMessage]:
    """Item 2: a genuine device's event dated in 1970 or in 9999."""
    for topic, sample in day.samples().items():
        for kind, ts in (
            ("timestamps in 1970", "1970-01-01T00:00:00Z"),
            ("timestamps in 9999", "9999-12-31T23:59:59Z"),
        ):
            for place, before in day.places().items():
                event_id = _hostile_id(kind, topic, place)
                raw = _json(sample, event_id=event_id, ts=ts)
                yield HostileMessage(
                    kind, topic, 2, topic, before, sample.key, raw, day.signed(sample, raw), Fate.REFUSED,
                    "ts", "is outside", event_id,
                )  # fmt: skip


def _dated_ahead(day: _Day) -> Iterator[HostileMessage]:
    """Item 2: one genuine camera's frames dated a day after their own time (before the day's first
    events and mid-day), the gateway's heartbeat dated a day ahead, and a frame dated a day after the
    wall clock (a replay's day is in the past: only this one is in the future)."""
    for place, before, frame in (
        (Place.BEFORE, 0, day.first(CameraTrack, 0)[1]),
        (Place.MIDDAY, day.middle, day.first(CameraTrack, day.middle)[1]),
    ):
        ahead = frame.model_copy(
            update={"event_id": _hostile_id("+1 day", place), "ts": frame.ts + timedelta(days=1)}
        )
        yield _signed(day, "dated +1 day, signed", "camera frame", 2, ahead, before, Fate.HELD_APART)
    index, late = day.first(CameraTrack, day.end * 3 // 4)
    beat = EdgeHeartbeat(
        event_id=_hostile_id("+1 day heartbeat"),
        store_id=late.store_id,
        ts=late.ts + timedelta(days=1),
        device_id=gateway_id(late.store_id),
    )
    kind = "dated +1 day, signed"
    yield _signed(day, kind, "gateway heartbeat", 2, beat, index, Fate.HELD_APART, topic=GateScan.TOPIC)
    tomorrow = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    future = late.model_copy(update={"event_id": _hostile_id("after the wall clock"), "ts": tomorrow})
    kind = "dated +1 day after the wall clock, signed"
    yield _signed(
        day, kind, "camera frame", 2, future, day.middle, Fate.REFUSED, "ts", "after the wall clock"
    )


def _moved(event: Event) -> Event:
    return event.model_copy(update={"store_id": UNKNOWN_STORE})


def _unknown_places(day: _Day) -> Iterator[HostileMessage]:
    """Items 3 and 6: signed events of a store, gate, plate, zone or floor position the catalog lacks."""
    samples = day.samples()
    store = day.store.store_id
    pick, scan, frame = samples[ShelfEvent.TOPIC], samples[GateScan.TOPIC], samples[CameraTrack.TOPIC]
    nowhere = f"{store}-GD99"
    shelf = f"{nowhere}-SH1"
    places = "unknown plates, gates, zones"
    unknown: list[tuple[str, str, Event, str, str]] = [
        *(
            ("unknown stores", topic, _moved(sample), "store_id", "unknown")
            for topic, sample in samples.items()
        ),
        (places, "plate", pick.model_copy(update={"plate_id": f"{nowhere}-S1-P1", "shelf_id": shelf}),
         "plate_id", "no plate"),
        (places, "gate", scan.model_copy(update={"gate_id": f"{store}-G9"}), "gate_id", "no gate"),
        (places, "zone", frame.model_copy(update={"zone_id": f"{store}-nowhere"}), "zone_id", "no zone"),
        (places, "off the floor", frame.model_copy(update={"x_m": 400.0}), "x_m", "off the floor"),
    ]  # fmt: skip
    for kind, variant, template, field, reason in unknown:
        for place, before in day.places().items():
            event = template.model_copy(update={"event_id": _hostile_id(kind, variant, place)})
            yield _signed(day, kind, variant, 3, event, before, Fate.REFUSED, field, reason)


def _forged_scans(day: _Day) -> Iterator[HostileMessage]:
    """Item 3: accepted entry scans no gate made: unsigned, signed with another key, signed by a shelf,
    and one signed by the gate for a member who does not exist."""
    _, scan = day.first(GateScan, day.middle, _accepted_entry)
    forger = EdgeSigner(b"not-the-store-key")
    shelf = day.first(ShelfEvent, 0)[1]
    member = next(iter(day.catalog.members))
    kind = "forged accepted scans"
    for place, before in day.places().items():
        update = {
            "event_id": _hostile_id("forged", place),
            "token_id": f"forged{before}",
            "shopper_id": member,
        }
        entry = scan.model_copy(update=update)
        raw = entry.to_bytes()
        for variant, headers, reason in (
            ("unsigned", [], "unsigned"),
            ("signed with another key", forger.headers(entry, raw), "forged"),
            ("signed by a shelf", day.signer.headers(shelf, raw), "not by"),
        ):
            yield HostileMessage(
                kind, variant, 3, GateScan.TOPIC, before, entry.key, raw, headers, Fate.REFUSED,
                "(signature)", reason,
                entry.event_id,
            )  # fmt: skip
        ghost = entry.model_copy(
            update={"event_id": _hostile_id("ghost", place), "shopper_id": UNKNOWN_MEMBER}
        )
        variant = "signed by the gate, for a member who does not exist"
        yield _signed(day, kind, variant, 3, ghost, before, Fate.REFUSED, "shopper_id", "unknown member")


def _other_content(event: Event) -> Event:
    """The same id, other content: another shopper, another count, another place."""
    if isinstance(event, GateScan):
        return event.model_copy(update={"people_passed": event.people_passed + 1, "shopper_id": "M000001"})
    if isinstance(event, ShelfEvent):
        return event.model_copy(update={"quantity": event.quantity + 1, "confidence": 0.99})
    if isinstance(event, CameraTrack):
        return event.model_copy(update={"x_m": round(event.x_m + 0.5, 2)})
    raise TypeError(f"no other content for a {type(event).__name__}")


def _conflicting_duplicates(day: _Day) -> Iterator[HostileMessage]:
    """Item 3: a real event's id with other content, sent ahead of it unsigned (before the day, and
    just before it) and after it signed by its device (just after it, and hours after, at the end)."""
    kinds: list[tuple[type[Event], Callable[[Any], bool]]] = [
        (GateScan, _accepted_entry),
        (ShelfEvent, _pick),
        (CameraTrack, bool),
    ]
    for kind, accept in kinds:
        index, middle = day.first(kind, day.middle, accept)
        early = day.first(kind, day.end // 20, accept)[1]
        after = day.last_sent(middle) + 1
        copies = [
            ("unsigned, sent before the day", middle, 0, Fate.REFUSED, "(signature)", "unsigned"),
            ("unsigned, sent just ahead", middle, index, Fate.REFUSED, "(signature)", "unsigned"),
            ("signed, sent just after", middle, after, Fate.DUPLICATE, "event_id", "conflicting duplicate"),
            ("signed, sent hours after", early, day.end, Fate.DUPLICATE, "ts", "too late to be told from"),
        ]  # fmt: skip
        for variant, original, before, fate, field, reason in copies:
            copy = _other_content(original)
            raw = copy.to_bytes()
            headers = day.signed(copy, raw) if fate is Fate.DUPLICATE else []
            yield HostileMessage(
                "conflicting duplicates", f"{copy.TOPIC}, {variant}", 3, copy.TOPIC, before, copy.key, raw,
                headers, fate, field, reason, copy.event_id,
            )  # fmt: skip


def _wrong_picks(day: _Day) -> Iterator[HostileMessage]:
    """Items 3 and 8: picks of the wrong product, of an unknown product or of 100 units: unsigned copies
    of real picks sent just ahead of them, and new picks signed by a genuine plate where nobody stands
    (mid-day in a quiet stretch, and after the day's last events)."""
    for start in (day.middle, (day.middle + day.end) // 2):
        index, pick = day.first(ShelfEvent, start, _pick)
        other = next(p.product_id for p in day.store.plates if p.product_id != pick.product_id)
        for kind, item, update in (
            ("wrong-product picks", 3, {"product_id": other}),
            ("100-unit picks", 3, {"quantity": 100}),
            ("unknown-product picks", 8, {"product_id": UNKNOWN_PRODUCT}),
        ):
            copy = pick.model_copy(update=update)
            yield HostileMessage(
                kind, "unsigned copy of a real pick, sent ahead", item, ShelfEvent.TOPIC, index, copy.key,
                copy.to_bytes(), [], Fate.REFUSED, "(signature)", "unsigned", copy.event_id,
            )  # fmt: skip
    weight = {p.plate_id: day.catalog.product(p.product_id).unit_weight_g for p in day.store.plates}
    plate = max(
        (p for p in day.store.plates if weight[p.plate_id] * 100 <= 40_000), key=lambda p: weight[p.plate_id]
    )
    other = next(p.product_id for p in day.store.plates if p.product_id != plate.product_id)
    unit = float(weight[plate.plate_id])
    quiet = day.quiet_moment(day.middle)
    last = max(event.ts.timestamp() for event in day.events)
    for place, at, before in ((Place.MIDDAY, quiet, day.index_at(quiet)), (Place.END, last + 90.0, day.end)):
        nobody = "signed, where nobody stands"
        own = plate.product_id
        picks = [
            ("wrong-product picks", 3, nobody, other, 1, -unit, Fate.CORRECTED),
            ("unknown-product picks", 8, nobody, UNKNOWN_PRODUCT, 1, -unit, Fate.CORRECTED),
            ("100-unit picks", 3, f"{nobody}, weighing one unit", own, 100, -unit, Fate.CORRECTED),
            ("100-unit picks", 3, "signed, weighing 100 units", own, 100, -100 * unit, Fate.REFUSED),
        ]  # fmt: skip
        for number, (kind, item, variant, product, quantity, delta, fate) in enumerate(picks):
            event = ShelfEvent(
                event_id=_hostile_id(kind, variant, place),
                store_id=plate.store_id,
                ts=datetime.fromtimestamp(round(at + number, 3), UTC),
                shelf_id=f"{plate.gondola_id}-SH{plate.shelf}",
                plate_id=plate.plate_id,
                action=ShelfAction.PICK,
                weight_delta_g=delta,
                product_id=product,
                quantity=quantity,
                confidence=0.99,
            )
            field, reason = (
                ("weight_delta_g", "holds at most") if fate is Fate.REFUSED else ("(event)", "nobody stood")
            )
            yield _signed(day, kind, variant, item, event, before, fate, field, reason)


def place_of(message: HostileMessage, events: int) -> Place:
    if message.before == 0:
        return Place.BEFORE
    return Place.END if message.before >= events else Place.MIDDAY


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
