"""Receipts scored against the twin's ground truth: what a store operator cares about."""

from __future__ import annotations

import tempfile
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from realtime.checkout.fusion import AGE_NOT_VERIFIED
from realtime.checkout.service import run_checkout
from twin.run import SimulationPlan, simulate_to_kafka
from twin.truth import GroundTruth, StoreDayTruth
from walkout.broker import kafka_available
from walkout.contracts import Event, Purchase, ShelfAction, ShelfEvent, parse_event
from walkout.kafka import drain, make_consumer
from walkout.settings import Settings


@dataclass(frozen=True)
class CheckoutScore:
    visits: int
    exact_receipt_rate: float
    line_precision: float
    line_recall: float
    review_rate: float  # sent to review, for any reason
    charge_review_rate: float  # ... because the charge may be wrong (not only to check someone's age)
    age_check_rate: float  # ... because someone not known to be an adult carried out alcohol or tobacco
    wrong_unflagged_rate: (
        float  # charged wrongly (or not at all) with no flag on the charge: reaches shoppers
    )
    charge_error_krw: float  # mean absolute difference per visit
    missing_receipts: int
    unexpected_receipts: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class ReceiptCheck:
    """One true visit beside the receipt the checkout emitted for it (None: no charge)."""

    visit: dict[str, Any]  # its row of the truth's ``visits`` table
    receipt: Purchase | None
    charged: dict[str, int]  # product → units on the receipt
    expected: dict[str, int]  # product → units the visit truly carried out


def check_receipts(
    receipts: Iterable[Purchase], visits: pl.DataFrame, true_lines: pl.DataFrame
) -> Iterator[ReceiptCheck]:
    """Pair every true visit with its receipt; visits join on the QR token (visit id = store-token)."""
    emitted: dict[str, Purchase] = {}
    for purchase in receipts:
        emitted.setdefault(purchase.visit_id, purchase)
    truth: dict[str, dict[str, int]] = {}
    for row in true_lines.iter_rows(named=True):
        truth.setdefault(row["visit_id"], {})[row["product_id"]] = row["quantity"]
    for row in visits.iter_rows(named=True):
        receipt = emitted.get(f"{row['store_id']}-{row['token_id']}")
        charged = {line.product_id: line.quantity for line in receipt.lines} if receipt else {}
        yield ReceiptCheck(row, receipt, charged, truth.get(row["visit_id"], {}))


def score_receipts(
    receipts: Iterable[Purchase], visits: pl.DataFrame, true_lines: pl.DataFrame
) -> CheckoutScore:
    """Compare emitted receipts with the true ones."""
    prices = dict(
        zip(true_lines["product_id"].to_list(), true_lines["unit_price_krw"].to_list(), strict=True)
    )
    exact = matched_units = emitted_units = true_units = unflagged_wrong = missing = unexpected = 0
    reviewed = charge_reviewed = age_checked = 0
    charge_error = 0.0
    for check in check_receipts(receipts, visits, true_lines):
        receipt, charged, expected = check.receipt, check.charged, check.expected
        exact += charged == expected
        missing += bool(expected) and receipt is None
        unexpected += receipt is not None and not expected
        reasons = set(receipt.review_reasons) if receipt is not None else set()
        reviewed += receipt is not None and receipt.needs_review
        age_checked += AGE_NOT_VERIFIED in reasons
        flagged = receipt is not None and receipt.needs_review and reasons != {AGE_NOT_VERIFIED}
        charge_reviewed += flagged
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
        charge_review_rate=charge_reviewed / count,
        age_check_rate=age_checked / count,
        wrong_unflagged_rate=unflagged_wrong / count,
        charge_error_krw=charge_error / count,
        missing_receipts=missing,
        unexpected_receipts=unexpected,
    )


HAND_TO_EVENT_S = (-1.0, 8.0)  # a plate's event settles about this long after the hand touched it


@dataclass(frozen=True)
class WrongReceipts:
    """Why receipts came out wrong, told from the twin's truth and the shelf events alone.

    A receipt goes to the first cause that fits one of its wrong lines: a shelf message lost on its
    way to Kafka (no checkout can charge what it never heard of); a plate that misread the hands on
    it (weighed them half a unit or more off, or reported a change no hand made); else the item went
    to the wrong shopper: every shelf event was right (attribution, id swaps, two hands as one).
    """

    lost_message: int = 0
    shelf_misread: int = 0
    wrong_shopper: int = 0

    def __add__(self, other: WrongReceipts) -> WrongReceipts:
        return WrongReceipts(
            self.lost_message + other.lost_message,
            self.shelf_misread + other.shelf_misread,
            self.wrong_shopper + other.wrong_shopper,
        )


def explain_wrong_receipts(
    receipts: Iterable[Purchase], truth: StoreDayTruth, delivered: Iterable[Event], lost: Iterable[Event]
) -> WrongReceipts:
    """Sort a store-day's wrong receipts by cause (see :class:`WrongReceipts`). ``delivered``: the
    events the checkout got (repeats count once); ``lost``: the messages the transport dropped."""
    heard = list({event.event_id: event for event in delivered if isinstance(event, ShelfEvent)}.values())
    dropped = [event for event in lost if isinstance(event, ShelfEvent)]
    hands = truth.hands
    causes = Counter[str]()
    for check in check_receipts(receipts, truth.visits, truth.receipts):
        if check.charged == check.expected:
            continue
        found: set[str | None] = set()
        for product in check.charged.keys() | check.expected.keys():
            if check.charged.get(product) == check.expected.get(product):
                continue
            # the hands behind a wrong line: the visit's own, or anyone's while it was in the store
            # (a line it should not have got); none at all: the plate reported a change nobody made
            of_product = hands.filter(pl.col("product_id") == product)
            behind = of_product.filter(pl.col("visit_id") == check.visit["visit_id"])
            if behind.is_empty():
                behind = of_product.filter(
                    pl.col("at").is_between(check.visit["entered_at"], check.visit["exited_at"])
                )
            if behind.is_empty():
                found.add("misread")
            found |= {_shelf_cause(hand, hands, heard, dropped) for hand in behind.iter_rows(named=True)}
        causes["lost" if "lost" in found else "misread" if "misread" in found else "wrong_shopper"] += 1
    return WrongReceipts(causes["lost"], causes["misread"], causes["wrong_shopper"])


def _shelf_cause(
    hand: dict[str, Any], hands: pl.DataFrame, heard: list[ShelfEvent], dropped: list[ShelfEvent]
) -> str | None:
    """Whether the plate's events for a true hand were lost or weighed wrong (None: they were right).
    Hands on the plate moments apart are weighed together: the plate sees what they moved in all."""
    early, late = (timedelta(seconds=offset) for offset in HAND_TO_EVENT_S)

    def on_plate(event: ShelfEvent, start: datetime, end: datetime) -> bool:
        return event.plate_id == hand["plate_id"] and start <= event.ts <= end

    picked = hand["action"] == ShelfAction.PICK
    own = (hand["at"] + early, hand["at"] + late)
    if any(on_plate(event, *own) and (event.action is ShelfAction.PICK) == picked for event in dropped):
        return "lost"
    together = hands.filter(
        (pl.col("plate_id") == hand["plate_id"])
        & pl.col("at").is_between(hand["at"] - (late - early), hand["at"] + (late - early))
    )
    start, end = min(together["at"]) + early, max(together["at"]) + late
    weighed = sum(event.weight_delta_g for event in heard if on_plate(event, start, end))
    unit = abs(hand["delta_g"]) / max(hand["quantity"], 1)
    return "misread" if abs(weighed - float(together["delta_g"].sum())) >= unit / 2 else None


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
        truth = GroundTruth(settings.paths.ground_truth_dir)
        return score_receipts(receipts, truth.read("visits"), truth.read("receipts"))
