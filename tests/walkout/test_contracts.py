"""Event contracts: exact round trips; every class of bad input is a ContractError naming the field."""

from __future__ import annotations

import contextlib
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walkout.contracts import (
    DEAD_LETTER_KEEP_BYTES,
    DEFAULT_MAX_EVENT_BYTES,
    EDGE_TOPICS,
    EVENT_TYPES,
    AdImpression,
    AdjustmentKind,
    AdjustmentLine,
    Alert,
    AlertItem,
    AlertKind,
    AlertSeverity,
    Attribution,
    CameraTrack,
    Cart,
    ContractError,
    DeadLetter,
    DisputeKind,
    DwellSegment,
    EdgeHeartbeat,
    Event,
    GateDirection,
    GateScan,
    Purchase,
    ReceiptAdjustment,
    ReceiptDispute,
    ReceiptLine,
    ScanOutcome,
    ScanRejection,
    ShelfAction,
    ShelfEvent,
    Visit,
    VisitStatus,
    alert_id,
    dead_letter,
    dispute_id,
    make_event_id,
    parse_event,
)
from walkout.vocabulary import AgeBand, Gender

NOW = datetime.now(UTC).replace(microsecond=123_000) - timedelta(hours=1)
RECEIPT_ID = make_event_id("purchase", NOW)


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
        Attribution(
            **common("attribution"),
            shelf_event_id=make_event_id("shelf", NOW),
            visit_id="V1",
            shopper_id="M000001",
            plate_id="S001-GD01-SH2-P03",
            action=ShelfAction.PUT_BACK,
            product_id="P0001",
            quantity=1,
            confidence=0.87,
        ),
        ReceiptDispute(
            **{**common("dispute"), "event_id": dispute_id(RECEIPT_ID, "P0001", DisputeKind.WRONG_QUANTITY)},
            purchase_id=RECEIPT_ID,
            visit_id="V1",
            shopper_id="M000001",
            product_id="P0001",
            kind=DisputeKind.WRONG_QUANTITY,
            quantity=1,
            note="I took one, not two",
        ),
        ReceiptAdjustment(
            **common("adjustment"),
            case_id="C1",
            decision=1,
            kind=AdjustmentKind.CHANGE_QUANTITY,
            visit_id="V1",
            purchase_id=make_event_id("purchase", NOW),
            shopper_id="M000001",
            lines=(
                AdjustmentLine(
                    product_id="P0001", quantity_delta=-1, unit_price_krw=1800, amount_delta_krw=-1800
                ),
            ),
            amount_delta_krw=-1800,
            reason="one unit was put back on the next plate",
            decided_by="OP0001",
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
        Alert(
            **{**common("alert"), "event_id": alert_id(AlertKind.UNPAID_EXIT, "S001", "shelf-1")},
            kind=AlertKind.UNPAID_EXIT,
            severity=AlertSeverity.MEDIUM,
            zone_id="S001-entrance",
            x_m=1.0,
            y_m=0.5,
            gate_id="S001-G1",
            track_ids=("S001-T7",),
            evidence="left carrying goods no visit was charged for",
            items=(AlertItem(product_id="P0001", quantity=2, unit_price_krw=1800),),
            value_krw=3600,
        ),
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
(
    SCAN,
    SHELF,
    _TRACK,
    VISIT,
    _DWELL,
    PURCHASE,
    CART,
    ATTRIBUTION,
    DISPUTE,
    ADJUSTMENT,
    _AD,
    _LETTER,
    ALERT,
) = one_of_each()
ADJUSTED_LINE = json.loads(ADJUSTMENT.to_bytes())["lines"][0]


def adjusted(kind: str = "change_quantity", **line: Any) -> bytes:
    """The adjustment with its one line changed, its amount kept the line's."""
    changed = {**ADJUSTED_LINE, **line}
    return mutate(ADJUSTMENT, kind=kind, lines=[changed], amount_delta_krw=changed["amount_delta_krw"])


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
    ("attribution of no units", mutate(ATTRIBUTION, quantity=0), "quantity"),
    ("attribution of an unknown action", mutate(ATTRIBUTION, action="stolen"), "action"),
    ("adjustment amount differs from lines", mutate(ADJUSTMENT, amount_delta_krw=-1000), "(event)"),
    ("confirmation that changes a line", mutate(ADJUSTMENT, kind="confirm"), "(event)"),
    (
        "removal that adds units",
        adjusted(kind="remove_line", quantity_delta=1, amount_delta_krw=1800),
        "(event)",
    ),
    ("addition that takes units off", mutate(ADJUSTMENT, kind="add_line"), "(event)"),
    ("adjustment without lines", mutate(ADJUSTMENT, lines=[], amount_delta_krw=0), "(event)"),
    ("adjustment line of no units", adjusted(quantity_delta=0, amount_delta_krw=0), "lines.0"),
    ("adjustment line amount differs", adjusted(amount_delta_krw=-1), "lines.0"),
    (
        "adjustment of 101 units",
        adjusted(quantity_delta=-101, amount_delta_krw=-181_800),
        "lines.0.quantity_delta",
    ),
    (
        "adjustment naming a product twice",
        mutate(ADJUSTMENT, lines=[ADJUSTED_LINE, ADJUSTED_LINE], amount_delta_krw=-3600),
        "(event)",
    ),
    ("adjustment of an unknown kind", mutate(ADJUSTMENT, kind="refund_everything"), "kind"),
    ("adjustment of no visit", mutate(ADJUSTMENT, visit_id=None), "(event)"),
    ("adjustment of a visit without its shopper", mutate(ADJUSTMENT, shopper_id=None), "(event)"),
    (
        "write-off naming a visit",
        mutate(ADJUSTMENT, kind="write_off", lines=[], amount_delta_krw=0, purchase_id=None, shopper_id=None),
        "(event)",
    ),
    (
        "write-off naming a shopper",
        mutate(ADJUSTMENT, kind="write_off", lines=[], amount_delta_krw=0, purchase_id=None, visit_id=None),
        "(event)",
    ),
    (
        "write-off that changes a line",
        mutate(ADJUSTMENT, kind="write_off", purchase_id=None, visit_id=None, shopper_id=None),
        "(event)",
    ),
    ("adjustment decision zero", mutate(ADJUSTMENT, decision=0), "decision"),
    ("adjustment without a reason", mutate(ADJUSTMENT, reason=""), "reason"),
    ("adjustment reason of a page", mutate(ADJUSTMENT, reason="x" * 201), "reason"),
    ("dispute of an unknown kind", mutate(DISPUTE, kind="refund_everything"), "kind"),
    ("dispute of no units", mutate(DISPUTE, quantity=0), "quantity"),
    ("dispute of 101 units", mutate(DISPUTE, quantity=101), "quantity"),
    ("dispute note of a page", mutate(DISPUTE, note="x" * 501), "note"),
    ("dispute note with a control character", mutate(DISPUTE, note="took \x00 nothing"), "note"),
    ("dispute whose id is not its own", mutate(DISPUTE, event_id=make_event_id("dispute", NOW)), "(event)"),
    ("dispute of another kind under the same id", mutate(DISPUTE, kind="not_taken"), "(event)"),
    ("dispute without a receipt", mutate(DISPUTE, purchase_id=DROP), "purchase_id"),
    ("alert of an unknown kind", mutate(ALERT, kind="shoplifting"), "kind"),
    ("alert of an unknown severity", mutate(ALERT, severity="critical"), "severity"),
    ("alert naming nobody", mutate(ALERT, track_ids=[]), "track_ids"),
    ("alert naming a crowd", mutate(ALERT, track_ids=[f"T{n}" for n in range(21)]), "track_ids"),
    ("alert evidence of a page", mutate(ALERT, evidence="x" * 301), "evidence"),
    ("alert without evidence", mutate(ALERT, evidence=""), "evidence"),
    ("alert with x but no y", mutate(ALERT, y_m=None), "(event)"),
    ("alert value that is not its items'", mutate(ALERT, value_krw=1), "(event)"),
    (
        "alert of 1,001 units",
        mutate(ALERT, items=[{"product_id": "P0001", "quantity": 1001, "unit_price_krw": 1800}]),
        "items.0.quantity",
    ),
    ("nested arrays 4 KB deep", b"[" * 4096 + b"]" * 4096, "(payload)"),
    (
        "nested objects in a field",
        mutate(SCAN, gate_id=DROP)[:-1] + b', "gate_id": ' + b'{"a": ' * 3000 + b"1" + b"}" * 3000 + b"}",
        "(payload)",
    ),
    (
        "integer of 5,000 digits",
        b'{"event_type": "shelf.event", "quantity": ' + b"9" * 5000 + b"}",
        "(payload)",
    ),
    ("NaN", mutate(SHELF)[:-1] + b', "confidence": NaN}', "(payload)"),
    ("Infinity", mutate(_TRACK)[:-1].replace(b'"x_m": ', b'"x_m": Infinity, "was": ') + b"}", "(payload)"),
    (
        "a float past the double range",
        mutate(_TRACK).replace(b'"x_m": ', b'"x_m": 1e400, "was": '),
        "(payload)",
    ),
    ("timestamp in 1970", mutate(SCAN, ts="1970-01-01T00:00:00Z"), "ts"),
    ("timestamp in 9999", mutate(SCAN, ts="9999-12-31T23:59:59.999Z"), "ts"),
    ("an empty message", b"", "(payload)"),
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


def test_a_tombstone_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="tombstone"):
        parse_event(None, topic="shelf.events")


def test_a_heartbeat_travels_on_every_edge_topic_and_nowhere_else() -> None:
    beat = EdgeHeartbeat(**common("beat"), device_id="S001-GW")
    for topic in EDGE_TOPICS:
        assert parse_event(beat.to_bytes(), topic=topic) == beat
    with pytest.raises(ContractError, match="does not belong on topic 'purchases'"):
        parse_event(beat.to_bytes(), topic="purchases")


@pytest.mark.parametrize("size", [70_000, 1_000_000])
def test_a_dead_letter_of_a_huge_message_stays_small_and_keeps_its_hash(size: int) -> None:
    raw = b'{"event_type": "camera.track", "x": "' + b"y" * size + b'"}'
    letter = dead_letter(raw, "camera.tracks", ContractError("(payload)", "too big"), "checkout")
    wire = letter.to_bytes()
    assert len(wire) < DEFAULT_MAX_EVENT_BYTES  # so the lander can land it like any event
    parsed = parse_event(wire, topic="deadletter")
    assert isinstance(parsed, DeadLetter)
    assert parsed.original() == raw[:DEAD_LETTER_KEEP_BYTES]
    assert (parsed.original_bytes, parsed.original_sha256) == (len(raw), hashlib.sha256(raw).hexdigest())


def test_a_dead_letter_of_no_bytes_at_all() -> None:
    letter = dead_letter(None, "shelf.events", ContractError("(payload)", "tombstone"), "checkout")
    assert parse_event(letter.to_bytes(), topic="deadletter") == letter
    assert letter.original_bytes == 0


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def only_contract_errors(raw: bytes, topic: str | None = None) -> None:
    with contextlib.suppress(ContractError):
        parse_event(raw, topic)


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_parse_or_raise_a_contract_error(raw: bytes) -> None:
    only_contract_errors(raw)


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(one_of_each()),
    st.sampled_from(["(drop)", "(any)"]),
    st.data(),
)
@pytest.mark.slow
def test_any_field_set_to_any_json_value_parses_or_raises_a_contract_error(
    event: Event, how: str, data: st.DataObject
) -> None:
    document = json.loads(event.to_bytes())
    key = data.draw(st.sampled_from(sorted(document)))
    if how == "(drop)":
        del document[key]
    else:
        document[key] = data.draw(JSON_VALUES)
    raw = json.dumps(document, allow_nan=True).encode()
    only_contract_errors(raw, event.TOPIC)
    only_contract_errors(raw[: data.draw(st.integers(0, len(raw)))], event.TOPIC)


def test_a_confirmation_changes_nothing_a_move_is_two_adjustments_and_a_write_off_names_no_visit() -> None:
    confirmed = ADJUSTMENT.model_copy(
        update={"kind": AdjustmentKind.CONFIRM, "lines": (), "amount_delta_krw": 0}
    )
    assert parse_event(confirmed.to_bytes(), topic="receipt.adjustments") == confirmed
    line = ADJUSTMENT.lines[0]
    into = line.model_copy(update={"quantity_delta": 1, "amount_delta_krw": 1800})
    halves = [
        ADJUSTMENT.model_copy(update={"kind": AdjustmentKind.MOVE_LINE_OUT}),
        ADJUSTMENT.model_copy(
            update={
                "kind": AdjustmentKind.MOVE_LINE_IN,
                "visit_id": "V2",
                "purchase_id": None,
                "lines": (into,),
                "amount_delta_krw": 1800,
            }
        ),
    ]
    for half in halves:  # model_copy skips validation: parsing the bytes is what checks them
        assert parse_event(half.to_bytes(), topic="receipt.adjustments") == half
    assert sum(half.amount_delta_krw for half in halves) == 0
    written_off = ADJUSTMENT.model_copy(
        update={
            "kind": AdjustmentKind.WRITE_OFF,
            "visit_id": None,
            "purchase_id": None,
            "shopper_id": None,
            "lines": (),
            "amount_delta_krw": 0,
        }
    )
    assert parse_event(written_off.to_bytes(), topic="receipt.adjustments") == written_off


def test_a_dispute_filed_again_is_the_same_event_and_its_note_is_trimmed() -> None:
    again = DISPUTE.model_copy(update={"ts": NOW + timedelta(minutes=5)})
    assert again.event_id == DISPUTE.event_id == dispute_id(RECEIPT_ID, "P0001", DisputeKind.WRONG_QUANTITY)
    assert dispute_id(RECEIPT_ID, "P0001", DisputeKind.NOT_TAKEN) != DISPUTE.event_id
    parsed = parse_event(mutate(DISPUTE, note="  took one\nnot two \t "), topic="receipt.disputes")
    assert isinstance(parsed, ReceiptDispute)
    assert parsed.note == "took one\nnot two"
    unsaid = parse_event(mutate(DISPUTE, note=DROP), topic="receipt.disputes")
    assert isinstance(unsaid, ReceiptDispute)
    assert unsaid.note == ""
