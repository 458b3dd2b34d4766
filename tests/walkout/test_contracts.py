"""Event contracts: exact round trips; every class of bad input is a ContractError naming the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from walkout.contracts import (
    EVENT_TYPES,
    AdImpression,
    CameraTrack,
    Cart,
    ContractError,
    DeadLetter,
    DwellSegment,
    Event,
    GateDirection,
    GateScan,
    Purchase,
    ReceiptLine,
    ScanOutcome,
    ScanRejection,
    ShelfAction,
    ShelfEvent,
    Visit,
    VisitStatus,
    dead_letter,
    make_event_id,
    parse_event,
)
from walkout.vocabulary import AgeBand, Gender

NOW = datetime.now(UTC).replace(microsecond=123_000) - timedelta(hours=1)


def common(kind: str) -> dict[str, Any]:
    return {"event_id": make_event_id(kind, NOW), "store_id": "S001", "ts": NOW}


def one_of_each() -> list[Event]:
    line = ReceiptLine(product_id="P0001", quantity=2, unit_price_krw=1800, amount_krw=3600, confidence=0.99)
    return [
        GateScan(
            **common("scan"),
            gate_id="S001-G1",
            direction=GateDirection.ENTRY,
            token_id="tok1",
            shopper_id="M000001",
            outcome=ScanOutcome.ACCEPTED,
            group_size=2,
            people_passed=2,
        ),
        ShelfEvent(
            **common("shelf"),
            shelf_id="S001-GD01-SH2",
            plate_id="S001-GD01-SH2-P03",
            action=ShelfAction.PICK,
            weight_delta_g=-262.5,
            product_id="P0001",
            quantity=1,
            confidence=0.95,
        ),
        CameraTrack(
            **common("track"),
            camera_id="S001-CAM1",
            track_id="T17",
            x_m=3.25,
            y_m=1.5,
            zone_id="S001-beverages",
            age_band=AgeBand.AGE_19_29,
            gender=Gender.FEMALE,
            demographic_confidence=0.7,
        ),
        Visit(
            **common("visit"),
            visit_id="V1",
            shopper_id="M000001",
            status=VisitStatus.CLOSED,
            group_size=2,
            track_ids=("T17", "T18"),
            entered_at=NOW - timedelta(minutes=4),
            exited_at=NOW,
        ),
        DwellSegment(
            **common("dwell"),
            visit_id="V1",
            shopper_id="M000001",
            zone_id="S001-snacks",
            entered_at=NOW - timedelta(seconds=40),
            exited_at=NOW,
            dwell_s=40.0,
            stopped=True,
        ),
        Purchase(
            **common("purchase"),
            visit_id="V1",
            shopper_id="M000001",
            lines=(line,),
            total_krw=3600,
            confidence=0.99,
            needs_review=False,
        ),
        Cart(
            **common("cart"),
            visit_id="V1",
            shopper_id="M000001",
            revision=2,
            lines=(line,),
            total_krw=3600,
        ),
        AdImpression(
            **common("ad"),
            screen_id="S001-AD1",
            zone_id="S001-beverages",
            product_id="P0001",
            creative_id="C-P0001",
            reason="personal",
            shopper_ids=("M000001",),
            model_version="als-1",
        ),
        dead_letter(b"\x00\xffnot json", "shelf.events", ContractError("(payload)", "not JSON"), "test"),
    ]


def test_every_event_type_has_a_sample() -> None:
    assert {type(event) for event in one_of_each()} == set(EVENT_TYPES)


@pytest.mark.parametrize("event", one_of_each(), ids=lambda event: event.event_type)
def test_round_trip_is_exact(event: Event) -> None:
    parsed = parse_event(event.to_bytes(), topic=event.TOPIC)
    assert parsed == event
    assert parsed.to_bytes() == event.to_bytes()


def test_timestamps_are_utc_iso_with_z() -> None:
    seoul = GateScan(
        **{**common("scan"), "ts": datetime(2026, 5, 1, 9, 0, tzinfo=UTC).astimezone()},
        gate_id="G1",
        direction=GateDirection.EXIT,
        outcome=ScanOutcome.REJECTED,
        rejection=ScanRejection.EXPIRED,
    )
    assert json.loads(seoul.to_bytes())["ts"] == "2026-05-01T09:00:00.000Z"


def test_dead_letter_keeps_the_original_bytes() -> None:
    raw = b"\x00\xff{broken"
    letter = dead_letter(raw, "gate.scans", ContractError("(payload)", "not JSON"), "lander", "S002", 3, 41)
    parsed = parse_event(letter.to_bytes(), topic="deadletter")
    assert isinstance(parsed, DeadLetter)
    assert parsed.original() == raw
    assert (parsed.source_topic, parsed.source_partition, parsed.source_offset) == ("gate.scans", 3, 41)
    assert parsed.error_field == "(payload)"


def test_event_ids_are_stable_for_the_same_parts() -> None:
    assert make_event_id("scan", "S001", 1) == make_event_id("scan", "S001", 1)
    assert make_event_id("scan", "S001", 1) != make_event_id("scan", "S001", 2)


def mutate(event: Event, **changes: Any) -> bytes:
    document = json.loads(event.to_bytes())
    for key, value in changes.items():
        if value is DROP:
            del document[key]
        else:
            document[key] = value
    return json.dumps(document).encode()


DROP = object()
SCAN, SHELF, _TRACK, VISIT, _DWELL, PURCHASE, CART, _AD, _LETTER = one_of_each()
YEARS_AHEAD = (datetime.now(UTC) + timedelta(days=3 * 365)).isoformat().replace("+00:00", "Z")

BAD_INPUTS: list[tuple[str, bytes, str]] = [
    ("not json", b"{not json", "(payload)"),
    ("not utf-8", b"\xff\xfe\x00", "(payload)"),
    ("not an object", b"[1, 2]", "(payload)"),
    ("oversized", b'{"event_type": "gate.scan", "pad": "' + b"x" * 70_000 + b'"}', "(payload)"),
    ("unknown event type", mutate(SCAN, event_type="gate.teleport"), "event_type"),
    ("missing event type", mutate(SCAN, event_type=DROP), "event_type"),
    ("missing field", mutate(SCAN, gate_id=DROP), "gate_id"),
    ("missing event id", mutate(SCAN, event_id=DROP), "event_id"),
    ("unknown field", mutate(SCAN, colour="red"), "colour"),
    ("wrong type: string for int", mutate(SCAN, group_size="2"), "group_size"),
    ("wrong type: float for int", mutate(SHELF, quantity=1.5), "quantity"),
    ("wrong type: int for bool", mutate(SCAN, tailgating=1), "tailgating"),
    ("bad enum value", mutate(SCAN, direction="sideways"), "direction"),
    ("group too large", mutate(SCAN, group_size=5), "group_size"),
    ("negative quantity", mutate(SHELF, quantity=-2), "quantity"),
    ("confidence above 1", mutate(SHELF, confidence=1.3), "confidence"),
    ("timestamp years ahead", mutate(SCAN, ts=YEARS_AHEAD), "ts"),
    ("timestamp long ago", mutate(SCAN, ts="1999-12-31T23:59:59Z"), "ts"),
    ("timestamp without offset", mutate(SCAN, ts="2026-01-01T08:00:00"), "ts"),
    ("timestamp not a date", mutate(SCAN, ts="yesterday"), "ts"),
    ("unsupported schema version", mutate(SCAN, schema_version=2), "schema_version"),
    ("empty store id", mutate(SCAN, store_id=""), "store_id"),
    ("pick that adds weight", mutate(SHELF, weight_delta_g=120.0), "(event)"),
    ("closed visit without exit", mutate(VISIT, exited_at=None), "(event)"),
    ("receipt total differs from lines", mutate(PURCHASE, total_krw=999), "(event)"),
    ("receipt without lines", mutate(PURCHASE, lines=[], total_krw=0), "lines"),
    ("cart total differs from lines", mutate(CART, total_krw=0), "(event)"),
    ("cart revision zero", mutate(CART, revision=0), "revision"),
    (
        "negative line quantity",
        mutate(PURCHASE, lines=[{**json.loads(PURCHASE.to_bytes())["lines"][0], "quantity": -1}]),
        "lines.0.quantity",
    ),
]


@pytest.mark.parametrize(("case", "raw", "field"), BAD_INPUTS, ids=[case for case, _, _ in BAD_INPUTS])
def test_bad_input_is_a_typed_error_naming_the_field(case: str, raw: bytes, field: str) -> None:
    with pytest.raises(ContractError) as caught:
        parse_event(raw)
    assert caught.value.field == field, caught.value
    assert field in str(caught.value)


def test_event_on_the_wrong_topic_is_rejected() -> None:
    with pytest.raises(ContractError, match="does not belong on topic 'purchases'"):
        parse_event(SCAN.to_bytes(), topic="purchases")


def test_accepted_scan_must_name_its_shopper() -> None:
    with pytest.raises(ContractError, match="shopper_id"):
        parse_event(mutate(SCAN, shopper_id=None))


def test_rejected_scan_must_say_why() -> None:
    with pytest.raises(ContractError, match="rejection"):
        parse_event(mutate(SCAN, outcome="rejected"))
