"""Decisions on a receipt as adjustments: each kind's lines and amounts, the charge as it stands after
earlier decisions, one event per decision however often it is built, and decisions refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from review.decisions import (
    Charge,
    Decision,
    DecisionError,
    add_line,
    change_quantity,
    confirm_receipt,
    move_line,
    publish_adjustments,
    remove_line,
    write_off,
)
from walkout.catalog import load_catalog
from walkout.contracts import (
    AdjustmentKind,
    Purchase,
    ReceiptLine,
    Visit,
    VisitStatus,
    make_event_id,
    parse_event,
)
from walkout.kafka import Outbox, PublishError

EXITED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
DECISION = Decision("C-1", 1, "OP0001", EXITED + timedelta(minutes=30), "the plate misread a put-back")
CATALOG = load_catalog()


def line(product_id: str, quantity: int, unit_price_krw: int) -> ReceiptLine:
    return ReceiptLine(
        product_id=product_id,
        quantity=quantity,
        unit_price_krw=unit_price_krw,
        amount_krw=quantity * unit_price_krw,
        confidence=0.6,
    )


RECEIPT = Purchase(
    event_id=make_event_id("purchase", "V1"),
    store_id="S001",
    ts=EXITED,
    visit_id="V1",
    shopper_id="M000001",
    lines=(line("P0001", 2, 2600), line("P0002", 1, 2000)),
    total_krw=7200,
    confidence=0.6,
    needs_review=True,
    review_reasons=("low confidence line",),
)
OTHER_VISIT = Visit(
    event_id=make_event_id("visit", "V2"),
    store_id="S001",
    ts=EXITED,
    visit_id="V2",
    shopper_id="M000002",
    status=VisitStatus.CLOSED,
    group_size=1,
    entered_at=EXITED - timedelta(minutes=5),
    exited_at=EXITED,
)
CHARGE = Charge.of_receipt(RECEIPT)


def test_a_confirmation_changes_nothing_and_is_one_event_however_often_it_is_built() -> None:
    (confirmed,) = confirm_receipt(CHARGE, DECISION)
    assert (confirmed.kind, confirmed.lines, confirmed.amount_delta_krw) == (AdjustmentKind.CONFIRM, (), 0)
    assert (confirmed.purchase_id, confirmed.visit_id, confirmed.ts) == (
        RECEIPT.event_id,
        "V1",
        DECISION.decided_at,
    )
    assert confirm_receipt(CHARGE, DECISION) == [confirmed]
    assert parse_event(confirmed.to_bytes(), topic="receipt.adjustments") == confirmed


def test_removing_a_line_credits_what_it_charged() -> None:
    (whole,) = remove_line(CHARGE, "P0001", DECISION)
    (one,) = remove_line(CHARGE, "P0001", DECISION, units=1)
    assert [(item.product_id, item.quantity_delta, item.amount_delta_krw) for item in whole.lines] == [
        ("P0001", -2, -5200)
    ]
    assert (whole.kind, whole.amount_delta_krw, one.amount_delta_krw) == (
        AdjustmentKind.REMOVE_LINE,
        -5200,
        -2600,
    )


@pytest.mark.parametrize(("quantity", "delta"), [(3, 2600), (1, -2600)])
def test_a_changed_quantity_charges_the_difference_at_the_receipts_price(quantity: int, delta: int) -> None:
    (changed,) = change_quantity(CHARGE, "P0001", quantity, DECISION)
    assert (changed.kind, changed.amount_delta_krw) == (AdjustmentKind.CHANGE_QUANTITY, delta)


def test_an_added_line_is_charged_at_the_catalog_price() -> None:
    (added,) = add_line(CHARGE, "P0003", 2, DECISION, CATALOG)
    price = CATALOG.product("P0003").price_krw
    assert (added.kind, added.amount_delta_krw, added.lines[0].unit_price_krw) == (
        AdjustmentKind.ADD_LINE,
        2 * price,
        price,
    )


def test_a_move_takes_the_line_off_one_visit_and_charges_it_to_the_other() -> None:
    out, into = move_line(CHARGE, "P0002", 1, Charge.of_visit(OTHER_VISIT), DECISION)
    assert (out.kind, out.visit_id, out.amount_delta_krw) == (AdjustmentKind.MOVE_LINE_OUT, "V1", -2000)
    assert (into.kind, into.visit_id, into.shopper_id, into.amount_delta_krw) == (
        AdjustmentKind.MOVE_LINE_IN,
        "V2",
        "M000002",
        2000,
    )
    assert into.purchase_id is None  # V2 was charged nothing before
    assert out.event_id != into.event_id
    assert move_line(CHARGE, "P0002", 1, Charge.of_visit(OTHER_VISIT), DECISION) == [out, into]


def test_a_write_off_closes_a_take_charged_to_nobody_and_changes_no_charge() -> None:
    decision = replace(DECISION, case_id="take:E1", reason="nobody admitted took it")
    (written_off,) = write_off("S001", decision)
    assert (written_off.kind, written_off.store_id, written_off.case_id) == (
        AdjustmentKind.WRITE_OFF,
        "S001",
        "take:E1",
    )
    assert (written_off.visit_id, written_off.purchase_id, written_off.shopper_id) == (None, None, None)
    assert (written_off.lines, written_off.amount_delta_krw) == ((), 0)
    assert write_off("S001", decision) == [written_off]
    assert CHARGE.after([written_off]) == CHARGE


def test_the_charge_counts_each_earlier_decision_once() -> None:
    first = remove_line(CHARGE, "P0001", DECISION, units=1)
    charge = Charge.of_receipt(RECEIPT, first + first)  # the same adjustment landed twice
    assert dict(charge.units) == {"P0001": 1, "P0002": 1}
    second = replace(DECISION, number=2)
    with pytest.raises(DecisionError, match="charged 1 of P0001: 2 cannot be taken off"):
        remove_line(charge, "P0001", second, units=2)
    (rest,) = remove_line(charge, "P0001", second)
    assert rest.amount_delta_krw == -2600
    assert "P0001" not in Charge.of_receipt(RECEIPT, [*first, rest]).units


@pytest.mark.parametrize(
    ("decide", "message"),
    [
        (
            lambda: remove_line(CHARGE, "P0001", DECISION, units=3),
            "charged 2 of P0001: 3 cannot be taken off",
        ),
        (lambda: remove_line(CHARGE, "P0003", DECISION), "not charged for P0003"),
        (lambda: remove_line(CHARGE, "P0001", DECISION, units=0), "1..100 units"),
        (lambda: change_quantity(CHARGE, "P0001", 101, DECISION), "1..100 units"),
        (lambda: change_quantity(CHARGE, "P0001", 0, DECISION), "1..100 units"),
        (lambda: change_quantity(CHARGE, "P0001", 2, DECISION), "already charged 2"),
        (lambda: add_line(CHARGE, "P9999", 1, DECISION, CATALOG), "cannot add P9999"),
        (lambda: add_line(CHARGE, "P0001", 99, DECISION, CATALOG), "at most 100 units"),
        (lambda: move_line(CHARGE, "P0001", 1, CHARGE, DECISION), "not back to V1"),
        (
            lambda: move_line(CHARGE, "P0001", 5, Charge.of_visit(OTHER_VISIT), DECISION),
            "5 cannot be taken off",
        ),
        (lambda: confirm_receipt(Charge.of_visit(OTHER_VISIT), DECISION), "no receipt to confirm"),
        (lambda: confirm_receipt(CHARGE, replace(DECISION, reason="")), "reason"),
        (lambda: confirm_receipt(CHARGE, replace(DECISION, decided_by="operator #1")), "decided_by"),
        (lambda: confirm_receipt(CHARGE, replace(DECISION, number=0)), "decision"),
    ],
)
def test_impossible_decisions_are_refused(decide: Any, message: str) -> None:
    with pytest.raises(DecisionError, match=message):
        decide()


class AnsweringProducer:
    """Takes sends and acknowledges them as told (the broker is in tests/review/test_publish.py)."""

    def __init__(self, acknowledges: bool) -> None:
        self.acknowledges = acknowledges
        self.sent: list[tuple[str, bytes]] = []

    def send(self, topic: str, key: bytes, value: bytes, headers: Any) -> Any:
        self.sent.append((topic, value))
        return self

    def succeeded(self) -> bool:
        return self.acknowledges

    exception = None

    def flush(self, timeout: float) -> None:
        return None


def test_publishing_sends_each_adjustment_to_its_topic_and_checks_every_send() -> None:
    adjustments = move_line(CHARGE, "P0002", 1, Charge.of_visit(OTHER_VISIT), DECISION)
    producer = AnsweringProducer(acknowledges=True)
    assert publish_adjustments(Outbox(producer), adjustments) == 2
    assert producer.sent == [("receipt.adjustments", adjustment.to_bytes()) for adjustment in adjustments]
    with pytest.raises(PublishError, match="did not acknowledge 2 of 2"):
        publish_adjustments(Outbox(AnsweringProducer(acknowledges=False)), adjustments)
