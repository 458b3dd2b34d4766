"""Scoring receipts against the ground truth: what counts as exact, reviewed, and wrong unchecked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from realtime.checkout.fusion import AGE_NOT_VERIFIED
from twin.checkout_evaluate import WrongReceipts, explain_wrong_receipts, score_receipts
from twin.truth import StoreDayTruth
from walkout.contracts import Purchase, ReceiptLine, ShelfAction, ShelfEvent, make_event_id

PRICE = 1500
NOON = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
UNIT_G = 250.0


def charge(token: str, lines: dict[str, int], needs_review: bool = False, *reasons: str) -> Purchase:
    """A receipt for visit ``token``: product → units, unsure (0.6) when sent to review."""
    confidence = 0.6 if needs_review else 0.95
    items = tuple(
        ReceiptLine(
            product_id=product,
            quantity=quantity,
            unit_price_krw=PRICE,
            amount_krw=PRICE * quantity,
            confidence=confidence,
        )
        for product, quantity in lines.items()
    )
    return Purchase(
        event_id=make_event_id("purchase", token),
        store_id="S001",
        ts=NOON,
        visit_id=f"S001-{token}",
        shopper_id=f"M{token}",
        lines=items,
        total_krw=sum(line.amount_krw for line in items),
        confidence=confidence,
        needs_review=needs_review,
        review_reasons=reasons,
    )


def test_a_wrong_receipt_sent_to_review_is_not_exact_but_is_not_unchecked_either() -> None:
    """Five visits, each took one P0001: charged right; charged two and flagged; charged two unflagged;
    charged right but flagged; no receipt at all (a missed take nobody can flag)."""
    tokens = ["T1", "T2", "T3", "T4", "T5"]
    visits = pl.DataFrame(
        {"visit_id": [f"V{t}" for t in tokens], "store_id": ["S001"] * 5, "token_id": tokens}
    )
    true_lines = pl.DataFrame(
        {
            "visit_id": [f"V{t}" for t in tokens],
            "product_id": ["P0001"] * 5,
            "quantity": [1] * 5,
            "unit_price_krw": [PRICE] * 5,
        }
    )
    receipts = [
        charge("T1", {"P0001": 1}, needs_review=False),
        charge("T2", {"P0001": 2}, needs_review=True),
        charge("T3", {"P0001": 2}, needs_review=False),
        charge("T4", {"P0001": 1}, needs_review=True),
    ]
    score = score_receipts(receipts, visits, true_lines)
    assert score.exact_receipt_rate == pytest.approx(2 / 5)
    assert score.review_rate == pytest.approx(2 / 5)
    assert score.wrong_unflagged_rate == pytest.approx(2 / 5)  # T3 charged wrongly unchecked, T5 not at all
    assert score.missing_receipts == 1
    assert score.charge_error_krw == pytest.approx(3 * PRICE / 5)


def test_an_age_check_is_no_flag_on_the_charge() -> None:
    """A receipt sent to review only to check someone's age is counted apart: if its charge is wrong,
    that is a wrong charge nobody was asked to look at."""
    visits = pl.DataFrame({"visit_id": ["V1", "V2"], "store_id": ["S001"] * 2, "token_id": ["T1", "T2"]})
    true_lines = pl.DataFrame(
        {
            "visit_id": ["V1", "V2"],
            "product_id": ["P0001"] * 2,
            "quantity": [1, 1],
            "unit_price_krw": [PRICE] * 2,
        }
    )
    receipts = [
        charge("T1", {"P0001": 2}, True, AGE_NOT_VERIFIED),
        charge("T2", {"P0001": 2}, True, AGE_NOT_VERIFIED, "low attribution confidence"),
    ]
    score = score_receipts(receipts, visits, true_lines)
    assert (score.review_rate, score.age_check_rate, score.charge_review_rate) == (1.0, 1.0, 0.5)
    assert score.wrong_unflagged_rate == pytest.approx(0.5)


def plate_event(plate: str, product: str, at_s: float, units: int) -> ShelfEvent:
    ts = NOON + timedelta(seconds=at_s)
    return ShelfEvent(
        event_id=make_event_id("shelf", plate, at_s),
        store_id="S001",
        ts=ts,
        shelf_id="S001-GD01-SH1",
        plate_id=plate,
        action=ShelfAction.PICK,
        weight_delta_g=-UNIT_G * units,
        product_id=product,
        quantity=units,
        confidence=0.99,
    )


def test_wrong_receipts_are_put_down_to_a_lost_message_a_misread_plate_or_the_wrong_shopper() -> None:
    """Six visits, each in the store for a minute. V1 took one P0001 and paid for it. V2's pick never
    reached Kafka; V3's plate weighed two where one went; V4's pick was charged to V5, in the store
    with V4 but taking nothing; V6 was charged a P0002 no hand ever took (a plate reporting a change
    nobody made)."""
    tokens = ["T1", "T2", "T3", "T4", "T5", "T6"]
    visits = pl.DataFrame(
        {
            "visit_id": [f"V{t}" for t in tokens],
            "store_id": ["S001"] * 6,
            "token_id": tokens,
            "entered_at": [NOON + timedelta(minutes=2 * n) for n in (0, 1, 2, 3, 3, 5)],
            "exited_at": [NOON + timedelta(minutes=2 * n + 1) for n in (0, 1, 2, 3, 3, 5)],
        }
    )
    takers = ["VT1", "VT2", "VT3", "VT4"]
    true_lines = pl.DataFrame(
        {"visit_id": takers, "product_id": ["P0001"] * 4, "quantity": [1] * 4, "unit_price_krw": [PRICE] * 4}
    )
    picked_at_s = [20.0 + 120 * n for n in range(4)]  # each taker picks 20 s after coming in
    hands = pl.DataFrame(
        {
            "visit_id": takers,
            "at": [NOON + timedelta(seconds=s) for s in picked_at_s],
            "plate_id": ["PL1"] * 4,
            "product_id": ["P0001"] * 4,
            "action": ["pick"] * 4,
            "quantity": [1] * 4,
            "delta_g": [-UNIT_G] * 4,
        }
    )
    empty = pl.DataFrame()
    truth = StoreDayTruth("S001", NOON.date(), visits, empty, true_lines, hands, empty, empty, empty, empty)
    events = [plate_event("PL1", "P0001", s + 2.0, 1) for s in picked_at_s]
    lost, misread = events[1], events[2].model_copy(update={"quantity": 2, "weight_delta_g": -2 * UNIT_G})
    delivered = [events[0], misread, events[3], events[3], plate_event("PL2", "P0002", 620.0, 1)]
    receipts = [
        charge("T1", {"P0001": 1}),
        charge("T3", {"P0001": 2}),
        charge("T5", {"P0001": 1}),
        charge("T6", {"P0002": 1}),
    ]
    causes = explain_wrong_receipts(receipts, truth, delivered, [lost])
    assert causes == WrongReceipts(lost_message=1, shelf_misread=2, wrong_shopper=2)
