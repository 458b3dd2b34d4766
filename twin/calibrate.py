"""The calibration of line confidence measured on the twin: fitted on some seeds' store-days, judged on
others'.

Each store-day goes through the service's fusion offline (:func:`realtime.checkout.replay.replay_checkout`)
and every receipt line is labelled right or wrong from the ground truth (its product, its units); each
true visit's receipt is wrong when it differs from what the visit carried out (or is missing). The fit
(:func:`review.calibration.fit_calibration`) learns from the fitting seeds; the figures are those of the
other seeds: the expected calibration error of line confidence before and after, and the review and
wrong-unflagged shares of visits at the chosen threshold beside those of today's ``review_below``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from realtime.checkout.fusion import AGE_NOT_VERIFIED, DEFAULT_PARAMS, LOW_CONFIDENCE
from realtime.checkout.replay import replay_checkout
from review.calibration import (
    LineOutcome,
    ReceiptOutcome,
    ReviewAt,
    expected_calibration_error,
    fit_calibration,
    review_at,
)
from twin.checkout_evaluate import check_receipts
from twin.run import SimulationPlan, simulate_store_days
from twin.truth import StoreDayTruth
from walkout.calibration import Calibration
from walkout.catalog import Catalog
from walkout.contracts import Purchase
from walkout.versions import new_version

DAY = date(2026, 11, 18)
NOT_THE_CHARGE = frozenset({AGE_NOT_VERIFIED, LOW_CONFIDENCE})
"""Review reasons a threshold does not stand in for: an age check is not a doubt about the charge, and
the low-confidence flag is what the threshold itself decides."""


@dataclass
class Labelled:
    """Receipt lines known right or wrong, and every true visit's receipt as a threshold sees it."""

    lines: list[LineOutcome] = field(default_factory=list)
    receipts: list[ReceiptOutcome] = field(default_factory=list)

    def __iadd__(self, other: Labelled) -> Labelled:
        self.lines += other.lines
        self.receipts += other.receipts
        return self


def label_receipts(receipts: Iterable[Purchase], truth: StoreDayTruth) -> Labelled:
    """A store-day's receipts labelled from its ground truth."""
    labelled = Labelled()
    for check in check_receipts(receipts, truth.visits, truth.receipts):
        receipt = check.receipt
        if receipt is None:
            labelled.receipts.append(ReceiptOutcome(None, wrong=bool(check.expected)))
            continue
        for line in receipt.lines:
            right = check.expected.get(line.product_id, 0) == line.quantity
            labelled.lines.append(LineOutcome(line.confidence, right))
        otherwise = receipt.needs_review and bool(set(receipt.review_reasons) - NOT_THE_CHARGE)
        wrong = check.charged != check.expected
        labelled.receipts.append(ReceiptOutcome(receipt.confidence, wrong, otherwise))
    return labelled


def replay_labelled(
    catalog: Catalog, stores: Sequence[str], seeds: Sequence[int], day: date = DAY
) -> Labelled:
    """The store-days of these stores and seeds replayed through the fusion and labelled."""
    labelled = Labelled()
    for seed in seeds:
        for store_day in simulate_store_days(catalog, SimulationPlan(tuple(stores), day, 1, seed=seed)):
            outputs = replay_checkout(catalog, store_day.store_id, (event for _, event in store_day.events))
            receipts = [event for event in outputs if isinstance(event, Purchase)]
            labelled += label_receipts(receipts, store_day.truth)
    return labelled


@dataclass(frozen=True)
class CalibrationFigures:
    """The calibration fitted on ``fit_seeds`` and how it did on ``eval_seeds``' store-days."""

    stores: tuple[str, ...]
    day: date
    fit_seeds: tuple[int, ...]
    eval_seeds: tuple[int, ...]
    fit_lines: int
    eval_lines: int
    eval_visits: int
    eval_wrong_receipts: int
    ece_before: float
    ece_after: float
    fitted: ReviewAt  # the chosen threshold on the store-days it was chosen on
    today: ReviewAt  # the fusion's own review_below over raw confidence
    chosen: ReviewAt  # the calibration's threshold over calibrated confidence
    calibration: Calibration

    def as_dict(self) -> dict[str, Any]:
        return {
            "stores": list(self.stores),
            "day": self.day.isoformat(),
            "fit_seeds": list(self.fit_seeds),
            "eval_seeds": list(self.eval_seeds),
            "target": self.calibration.target,
            "fit_lines": self.fit_lines,
            "eval_lines": self.eval_lines,
            "eval_visits": self.eval_visits,
            "eval_wrong_receipts": self.eval_wrong_receipts,
            "ece_before": self.ece_before,
            "ece_after": self.ece_after,
            "target_met_on_fit": self.fitted.wrong_unflagged_rate <= self.calibration.target,
            "fitted": self.fitted.as_dict(),
            "today": self.today.as_dict(),
            "chosen": self.chosen.as_dict(),
            "calibration_version": self.calibration.version,
        }


def calibrate_on_twin(
    catalog: Catalog,
    stores: Sequence[str],
    fit_seeds: Sequence[int],
    eval_seeds: Sequence[int],
    target: float,
    day: date = DAY,
) -> CalibrationFigures:
    """Fit a calibration on the fitting seeds' store-days and measure it on the evaluation seeds'."""
    fit = replay_labelled(catalog, stores, fit_seeds, day)
    held_out = replay_labelled(catalog, stores, eval_seeds, day)
    calibration = fit_calibration(
        fit.lines, fit.receipts, target, new_version(), {"twin_lines": len(fit.lines)}, require_target=False
    )
    fit_scores = [None if r.lowest is None else calibration.calibrated(r.lowest) for r in fit.receipts]
    raw = [line.confidence for line in held_out.lines]
    right = [line.right for line in held_out.lines]
    lowest = [r.lowest for r in held_out.receipts]
    calibrated = [None if x is None else calibration.calibrated(x) for x in lowest]
    return CalibrationFigures(
        stores=tuple(stores),
        day=day,
        fit_seeds=tuple(fit_seeds),
        eval_seeds=tuple(eval_seeds),
        fit_lines=len(fit.lines),
        eval_lines=len(held_out.lines),
        eval_visits=len(held_out.receipts),
        eval_wrong_receipts=sum(r.wrong for r in held_out.receipts),
        ece_before=expected_calibration_error(raw, right),
        ece_after=expected_calibration_error([calibration.calibrated(x) for x in raw], right),
        fitted=review_at(fit_scores, fit.receipts, calibration.threshold),
        today=review_at(lowest, held_out.receipts, DEFAULT_PARAMS.review_below),
        chosen=review_at(calibrated, held_out.receipts, calibration.threshold),
        calibration=calibration,
    )
