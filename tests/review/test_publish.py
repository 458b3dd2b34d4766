"""Through Kafka: a decision's adjustments published by the review layer land in the lake once each,
however often the decision is sent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from realtime.lander import run_lander
from review.decisions import Charge, Decision, move_line, publish_adjustments
from walkout.contracts import Purchase, ReceiptAdjustment, ReceiptLine, make_event_id
from walkout.kafka import Outbox, bootstrap_servers, make_producer
from walkout.lake import read_lake
from walkout.settings import Settings

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

EXITED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)


def receipt(store: str, visit: str, quantity: int) -> Purchase:
    line = ReceiptLine(
        product_id="P0001",
        quantity=quantity,
        unit_price_krw=2600,
        amount_krw=2600 * quantity,
        confidence=0.55,
    )
    return Purchase(
        event_id=make_event_id("purchase", store, visit),
        store_id=store,
        ts=EXITED,
        visit_id=visit,
        shopper_id="M000001",
        lines=(line,),
        total_krw=line.amount_krw,
        confidence=0.55,
        needs_review=True,
    )


def test_a_decision_sent_twice_lands_once(kafka_settings: Settings, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, kafka_bootstrap=bootstrap_servers(kafka_settings))
    store = f"T{uuid.uuid4().hex[:8]}"  # this test's rows, whatever else the session's topic holds
    taken_by, charged_to = receipt(store, "V-taker", 1), receipt(store, "V-charged", 2)
    decision = Decision(f"C-{store}", 1, "OP0001", EXITED + timedelta(minutes=10), "the other visit took it")
    adjustments = move_line(Charge.of_receipt(charged_to), "P0001", 1, Charge.of_receipt(taken_by), decision)
    outbox = Outbox(make_producer(settings))
    try:
        assert publish_adjustments(outbox, adjustments) == 2
        assert publish_adjustments(outbox, adjustments) == 2  # the console retried: the same events
    finally:
        outbox.close()

    stats = run_lander(settings, idle_exit_s=1.0, group=f"lander-{store}", topics=[ReceiptAdjustment.TOPIC])

    landed = read_lake(settings, ReceiptAdjustment.TOPIC).filter(pl.col("store_id") == store)
    assert stats.duplicates_skipped >= 2
    assert sorted(landed["event_id"].to_list()) == sorted(adjustment.event_id for adjustment in adjustments)
    assert dict(zip(landed["visit_id"], landed["amount_delta_krw"], strict=True)) == {
        "V-charged": -2600,
        "V-taker": 2600,
    }
