"""Scoring receipts against the ground truth: what counts as exact, reviewed, and wrong unchecked."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from realtime.checkout.evaluate import score_receipts
from walkout.contracts import Purchase, ReceiptLine, make_event_id

PRICE = 1500


def receipt(token: str, quantity: int, needs_review: bool) -> Purchase:
    line = ReceiptLine(
        product_id="P0001",
        quantity=quantity,
        unit_price_krw=PRICE,
        amount_krw=PRICE * quantity,
        confidence=0.6 if needs_review else 0.95,
    )
    return Purchase(
        event_id=make_event_id("purchase", token),
        store_id="S001",
        ts=datetime(2026, 11, 18, 12, 0, tzinfo=UTC),
        visit_id=f"S001-{token}",
        shopper_id=f"M{token}",
        lines=(line,),
        total_krw=line.amount_krw,
        confidence=line.confidence,
        needs_review=needs_review,
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
        receipt("T1", 1, False),
        receipt("T2", 2, True),
        receipt("T3", 2, False),
        receipt("T4", 1, True),
    ]
    score = score_receipts(receipts, visits, true_lines)
    assert score.exact_receipt_rate == pytest.approx(2 / 5)
    assert score.review_rate == pytest.approx(2 / 5)
    assert score.wrong_unflagged_rate == pytest.approx(2 / 5)  # T3 charged wrongly unchecked, T5 not at all
    assert score.missing_receipts == 1
    assert score.charge_error_krw == pytest.approx(3 * PRICE / 5)
