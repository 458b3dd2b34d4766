"""Every class of hostile message issue #25 measured, made for one store-day, on every edge topic and
in every place it applies to."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from twin.hostile.day import HostileDay, is_accepted_entry, is_pick
from twin.hostile.message import Fate, HostileMessage, Place
from twin.run import StoreDay
from walkout.catalog import Catalog
from walkout.contracts import (
    CameraTrack,
    EdgeHeartbeat,
    Event,
    GateScan,
    ShelfAction,
    ShelfEvent,
    make_event_id,
)
from walkout.edge import EdgeSigner, gateway_id

ONE_MB = 1024 * 1024
UNKNOWN_STORE = "S999"
UNKNOWN_MEMBER = "M9999999"
UNKNOWN_PRODUCT = "P9999"


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
    day = HostileDay(store_day, catalog, edge_key)
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
    day: HostileDay,
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


def _poison(day: HostileDay) -> Iterator[HostileMessage]:
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


def _impossible_times(day: HostileDay) -> Iterator[HostileMessage]:
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


def _dated_ahead(day: HostileDay) -> Iterator[HostileMessage]:
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


def _unknown_places(day: HostileDay) -> Iterator[HostileMessage]:
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


def _forged_scans(day: HostileDay) -> Iterator[HostileMessage]:
    """Item 3: accepted entry scans no gate made: unsigned, signed with another key, signed by a shelf,
    and one signed by the gate for a member who does not exist."""
    _, scan = day.first(GateScan, day.middle, is_accepted_entry)
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


def _conflicting_duplicates(day: HostileDay) -> Iterator[HostileMessage]:
    """Item 3: a real event's id with other content, sent ahead of it unsigned (before the day, and
    just before it) and after it signed by its device (just after it, and hours after, at the end)."""
    kinds: list[tuple[type[Event], Callable[[Any], bool]]] = [
        (GateScan, is_accepted_entry),
        (ShelfEvent, is_pick),
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


def _wrong_picks(day: HostileDay) -> Iterator[HostileMessage]:
    """Items 3 and 8: picks of the wrong product, of an unknown product or of 100 units: unsigned copies
    of real picks sent just ahead of them, and new picks signed by a genuine plate where nobody stands
    (mid-day in a quiet stretch, and after the day's last events)."""
    for start in (day.middle, (day.middle + day.end) // 2):
        index, pick = day.first(ShelfEvent, start, is_pick)
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
