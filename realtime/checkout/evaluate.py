"""Receipts scored against the twin's ground truth: what a store operator cares about."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl

from ingestion.simulator.run import SimulationPlan, ground_truth_dir, simulate_to_kafka
from ingestion.simulator.truth import GroundTruth
from realtime.checkout.service import run_checkout
from walkout.broker import kafka_available
from walkout.contracts import Purchase, parse_event
from walkout.kafka import drain, make_consumer
from walkout.settings import Settings


@dataclass(frozen=True)
class CheckoutScore:
    visits: int
    exact_receipt_rate: float
    line_precision: float
    line_recall: float
    review_rate: float
    wrong_unflagged_rate: float  # charged wrongly (or not at all) with no review flag: what reaches shoppers
    charge_error_krw: float  # mean absolute difference per visit
    missing_receipts: int
    unexpected_receipts: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def score_receipts(
    receipts: Iterable[Purchase], visits: pl.DataFrame, true_lines: pl.DataFrame
) -> CheckoutScore:
    """Compare emitted receipts with the true ones; visits join on the QR token (visit id = store-token)."""
    emitted: dict[str, Purchase] = {}
    for purchase in receipts:
        emitted.setdefault(purchase.visit_id, purchase)
    truth: dict[str, dict[str, int]] = {}
    for row in true_lines.iter_rows(named=True):
        truth.setdefault(row["visit_id"], {})[row["product_id"]] = row["quantity"]
    prices = dict(
        zip(true_lines["product_id"].to_list(), true_lines["unit_price_krw"].to_list(), strict=True)
    )
    exact = matched_units = emitted_units = true_units = reviewed = unflagged_wrong = missing = unexpected = 0
    charge_error = 0.0
    for row in visits.iter_rows(named=True):
        receipt = emitted.get(f"{row['store_id']}-{row['token_id']}")
        charged = {line.product_id: line.quantity for line in receipt.lines} if receipt else {}
        expected = truth.get(row["visit_id"], {})
        exact += charged == expected
        missing += bool(expected) and receipt is None
        unexpected += receipt is not None and not expected
        flagged = receipt is not None and receipt.needs_review
        reviewed += flagged
        unflagged_wrong += charged != expected and not flagged
        for product in charged.keys() | expected.keys():
            matched_units += min(charged.get(product, 0), expected.get(product, 0))
        emitted_units += sum(charged.values())
        true_units += sum(expected.values())
        true_total = sum(quantity * prices[product] for product, quantity in expected.items())
        charge_error += abs((receipt.total_krw if receipt else 0) - true_total)
    count = max(visits.height, 1)
    return CheckoutScore(
        visits=visits.height,
        exact_receipt_rate=exact / count,
        line_precision=matched_units / max(emitted_units, 1),
        line_recall=matched_units / max(true_units, 1),
        review_rate=reviewed / count,
        wrong_unflagged_rate=unflagged_wrong / count,
        charge_error_krw=charge_error / count,
        missing_receipts=missing,
        unexpected_receipts=unexpected,
    )


def read_receipts(settings: Settings, idle_s: float = 8.0) -> list[Purchase]:
    """Every receipt on the ``purchases`` topic, read by a fresh consumer group."""
    consumer = make_consumer(settings, f"receipts-reader-{uuid.uuid4().hex[:8]}", [Purchase.TOPIC])
    try:
        parsed = [parse_event(record.value, record.topic) for record in drain(consumer, 10**12, idle_s)]
    finally:
        consumer.close(autocommit=False)
    return [event for event in parsed if isinstance(event, Purchase)]


def evaluate_checkout(plan: SimulationPlan, bootstrap: str | None = None) -> CheckoutScore:
    """Simulate the plan through a real broker and the real service, then score its receipts.

    Runs on a throw-away data directory: an embedded broker of its own, or ``bootstrap``'s cluster.
    """
    with tempfile.TemporaryDirectory(prefix="walkout-evaluate-") as data_dir:
        settings = Settings(data_dir=Path(data_dir), kafka_bootstrap=bootstrap)
        with kafka_available(settings):
            simulate_to_kafka(settings, plan)
            run_checkout(settings, idle_exit_s=5.0, group=f"checkout-evaluate-{uuid.uuid4().hex[:8]}")
            receipts = read_receipts(settings)
        truth = GroundTruth(ground_truth_dir(settings))
        return score_receipts(receipts, truth.read("visits"), truth.read("receipts"))
