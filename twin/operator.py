"""The twin plays the store operator: ``walkout review simulate`` decides open review cases from the
ground truth, as a careful person with the evidence would, with a configurable share of mistakes and a
delay, so the whole loop (flag, decide, adjust, lake, marts) runs in the demo and in tests.

A receipt case is corrected to what the visit truly took (a line removed, a quantity changed, a missed
line added) or confirmed when it was right; a pick charged to nobody is charged to the visit near the
plate whose truth has more of the product than it was charged, and written off when none has. A mistake
confirms a wrong receipt as charged: the error an operator makes in a hurry.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from review.cases import case_file
from review.decisions import (
    Charge,
    Decision,
    add_line,
    change_quantity,
    confirm_receipt,
    remove_line,
    write_off,
)
from review.queue import OpenCase, open_cases
from twin.truth import GroundTruth
from walkout.catalog import Catalog
from walkout.contracts import ReceiptAdjustment
from walkout.settings import Settings

TWIN_OPERATOR = "twin-operator"
RECEIPT_KINDS = frozenset({"flagged", "disputed"})


@dataclass(frozen=True)
class OperatorHabits:
    """How the twin's operator works: a share of cases decided wrongly, and the mean delay from a case
    arising to its decision (exponentially spread, never later than now)."""

    mistake_rate: float = 0.0
    mean_delay: timedelta = timedelta(minutes=30)
    seed: int = 0
    operator_id: str = TWIN_OPERATOR


@dataclass
class SimulatedReview:
    """What the twin decided: the adjustments to publish and a count per outcome."""

    adjustments: list[ReceiptAdjustment] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def simulate_review(
    settings: Settings, catalog: Catalog, now: datetime, habits: OperatorHabits, limit: int | None = None
) -> SimulatedReview:
    """Decide the open cases (the ``limit`` oldest, if given) from the ground truth."""
    published = settings.paths.published_review_file
    truth = _true_charges(GroundTruth(settings.paths.ground_truth_dir))
    rng = random.Random(habits.seed)
    review = SimulatedReview()
    for case in open_cases(published, now)[:limit]:
        delay = timedelta(seconds=rng.expovariate(1.0) * habits.mean_delay.total_seconds())
        decided_at = min(now, case.opened_at + delay)
        mistaken = rng.random() < habits.mistake_rate
        adjustments, outcome = _decide(
            case, published, truth, decided_at, mistaken, habits.operator_id, catalog
        )
        review.adjustments += adjustments
        review.count(outcome)
    return review


def _true_charges(truth: GroundTruth) -> dict[str, dict[str, int]]:
    receipts = truth.read("receipts")
    charges: dict[str, dict[str, int]] = {}
    for visit_id, product_id, quantity in receipts.select("visit_id", "product_id", "quantity").iter_rows():
        charges.setdefault(visit_id, {})[product_id] = quantity
    return charges


def _decide(
    case: OpenCase,
    published: Path,
    truth: dict[str, dict[str, int]],
    decided_at: datetime,
    mistaken: bool,
    operator_id: str,
    catalog: Catalog,
) -> tuple[list[ReceiptAdjustment], str]:
    """The case's adjustments and what became of it: corrected, confirmed, confirmed by mistake, charged
    to a visit, written off, left open."""
    evidence = case_file(published, case)
    numbers = iter(range(1, 1000))

    def decision(why: str) -> Decision:
        return Decision(case.case_id, next(numbers), operator_id, decided_at, why)

    if case.kind in RECEIPT_KINDS and case.visit_id is not None:
        charge = evidence.charges[case.visit_id]
        true = truth.get(case.visit_id, {})
        adjustments = list(_correct(charge, true, decision, mistaken, catalog))
        if not adjustments:
            return [], "left open"
        if true == dict(charge.units):
            return adjustments, "confirmed right"
        return adjustments, "confirmed wrong (a mistake)" if mistaken else "corrected"
    if case.product_id is not None and case.quantity is not None:
        for visit_id in sorted(evidence.charges):
            near = evidence.charges[visit_id]
            if truth.get(visit_id, {}).get(case.product_id, 0) > near.units.get(case.product_id, 0):
                why = decision("seen at the plate")
                return add_line(near, case.product_id, case.quantity, why, catalog), "charged to a visit"
        return write_off(case.store_id, decision("no visit took it")), "written off"
    return [], "left open"


def _correct(
    charge: Charge,
    true: dict[str, int],
    decide: Callable[[str], Decision],
    mistaken: bool,
    catalog: Catalog,
) -> Iterator[ReceiptAdjustment]:
    """Confirm the charge when it is what the visit took (or when the operator errs), else one decision
    per product to make it so."""
    if true == dict(charge.units) or mistaken:
        if charge.purchase_id is not None:
            yield from confirm_receipt(charge, decide("as charged"))
        return
    for product_id in sorted(set(true) | set(charge.units)):
        charged, taken = charge.units.get(product_id, 0), true.get(product_id, 0)
        if taken == charged:
            continue
        if taken == 0:
            yield from remove_line(charge, product_id, decide("not taken"))
        elif charged == 0:
            yield from add_line(charge, product_id, taken, decide("taken, not charged"), catalog)
        else:
            yield from change_quantity(charge, product_id, taken, decide("other units taken"))
