"""The fusion learns from reviews: line confidence calibrated on lines known right or wrong, and the review
threshold that keeps wrong receipts no one looks at under a target at the least review.

The fusion's line confidence is a share of likelihood among the people who stood at a plate; it says
which take is surer than another, not how often a take that sure is right. An isotonic regression
(monotone, so the order is kept) maps it to the share of such lines that were right, learned from
decided review cases and audited visits (:mod:`review.audits`; the twin audits every visit from its
ground truth). The threshold is then chosen over the
calibrated confidence of each receipt's least sure line: the lowest one at which no more than
``target`` of the visits leave with a wrong, unflagged receipt, so operators see as few as that allows.
The result is a :class:`walkout.calibration.Calibration`, written as a version the checkout reloads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
from scipy.optimize import isotonic_regression

from review.audits import read_audits
from walkout.calibration import Calibration, CalibrationError

ECE_BINS = 10


@dataclass(frozen=True)
class LineOutcome:
    """A receipt line's confidence and whether the line was right (its product, its units)."""

    confidence: float
    right: bool


@dataclass(frozen=True)
class ReceiptOutcome:
    """One visit's receipt as a threshold sees it: its least sure confidence (None: nothing was charged,
    so no threshold flags it), whether the charge was wrong, and whether it went to review on the
    charge for another reason (an undecided id swap, a take it could not place) whatever the threshold."""

    lowest: float | None
    wrong: bool
    flagged_otherwise: bool = False


@dataclass(frozen=True)
class ReviewAt:
    """What a threshold does to the visits: the share sent to review on the charge, and the share charged
    wrongly with no flag (what reaches shoppers)."""

    threshold: float
    review_rate: float
    wrong_unflagged_rate: float

    def as_dict(self) -> dict[str, float]:
        return {
            "threshold": self.threshold,
            "review_rate": self.review_rate,
            "wrong_unflagged_rate": self.wrong_unflagged_rate,
        }


def fit_isotonic(confidences: Sequence[float], right: Sequence[bool]) -> tuple[tuple[float, ...], ...]:
    """Breakpoints ``(confidences, right_shares)`` of the monotone map from confidence to the share right.

    Lines of one confidence are pooled first (so ties never split), then pooled further wherever a less
    sure group was right more often than a surer one; each pool's share right holds from its least to its
    surest confidence (both ends kept as breakpoints, linear in between, as scikit-learn's does)."""
    if len(confidences) != len(right) or not confidences:
        raise CalibrationError("calibration needs at least one line with a confidence and an outcome")
    x = np.asarray(confidences, dtype=np.float64)
    if not np.all((x >= 0.0) & (x <= 1.0)):
        raise CalibrationError("line confidences must lie within 0 and 1")
    values, group = np.unique(x, return_inverse=True)
    counts = np.bincount(group).astype(np.float64)
    shares = np.bincount(group, weights=np.asarray(right, dtype=np.float64)) / counts
    fitted = isotonic_regression(shares, weights=counts, increasing=True)
    xs: list[float] = []
    ys: list[float] = []
    for start, end in zip(fitted.blocks[:-1], fitted.blocks[1:], strict=True):
        share = float(fitted.x[start])
        for point in dict.fromkeys((float(values[start]), float(values[end - 1]))):
            xs.append(point)
            ys.append(share)
    return tuple(xs), tuple(ys)


def expected_calibration_error(
    predicted: Sequence[float] | npt.NDArray[np.float64], right: Sequence[bool], bins: int = ECE_BINS
) -> float:
    """How far stated confidence is from the share right, weighted by lines: confidence cut into ``bins``
    equal-width bins (the last one closed), each bin's |share right - mean confidence| times its share."""
    p = np.asarray(predicted, dtype=np.float64)
    y = np.asarray(right, dtype=np.float64)
    if p.size == 0:
        raise CalibrationError("the calibration error needs at least one line")
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    error = 0.0
    for number in range(bins):
        inside = which == number
        if inside.any():
            error += inside.sum() / p.size * abs(float(y[inside].mean()) - float(p[inside].mean()))
    return error


def review_at(
    scores: Sequence[float | None], receipts: Sequence[ReceiptOutcome], threshold: float
) -> ReviewAt:
    """Review and wrong-unflagged shares of the visits when receipts scoring below ``threshold`` are
    flagged (``scores``: each receipt's least sure confidence, raw or calibrated; None: no receipt)."""
    flagged = np.array(
        [
            r.flagged_otherwise or (s is not None and s < threshold)
            for s, r in zip(scores, receipts, strict=True)
        ],
        dtype=bool,
    )
    wrong = np.array([r.wrong for r in receipts], dtype=bool)
    visits = max(len(receipts), 1)
    return ReviewAt(threshold, float(flagged.sum() / visits), float((wrong & ~flagged).sum() / visits))


def choose_threshold(
    scores: Sequence[float | None], receipts: Sequence[ReceiptOutcome], target: float
) -> ReviewAt:
    """The lowest threshold (so the least review) at which wrong, unflagged receipts are at most ``target``
    of the visits; if none reaches it, the lowest that leaves the fewest (every candidate threshold is a
    receipt's score, so a higher one would only flag more)."""
    candidates = sorted({0.0} | {s for s in scores if s is not None})
    best: ReviewAt | None = None
    for threshold in candidates:
        outcome = review_at(scores, receipts, threshold)
        if outcome.wrong_unflagged_rate <= target:
            return outcome
        if best is None or outcome.wrong_unflagged_rate < best.wrong_unflagged_rate:
            best = outcome
    assert best is not None  # candidates always hold 0.0
    return best


def fit_calibration(
    lines: Sequence[LineOutcome],
    receipts: Sequence[ReceiptOutcome],
    target: float,
    version: str,
    sources: dict[str, int] | None = None,
    *,
    require_target: bool = True,
) -> Calibration:
    """Calibrate line confidence on ``lines`` and choose the threshold on ``receipts`` (one a visit);
    ``sources`` counts where the lines came from (decided cases, the twin's truth) for ``fitted_on``.

    When no threshold keeps wrong, unflagged receipts under the target, :class:`CalibrationError` (unless
    ``require_target`` is off, to report such a fit): a threshold chosen only to leave the fewest would be
    the lowest of equals, and could stop the checkout flagging what it flags today."""
    if not 0.0 <= target <= 1.0:
        raise CalibrationError(
            f"the target share of wrong, unflagged receipts must lie within 0 and 1, not {target}"
        )
    xs, ys = fit_isotonic([line.confidence for line in lines], [line.right for line in lines])
    draft = Calibration(version, xs, ys, 0.0, target, {})
    scores = [None if r.lowest is None else draft.calibrated(r.lowest) for r in receipts]
    chosen = choose_threshold(scores, receipts, target)
    if require_target and chosen.wrong_unflagged_rate > target:
        raise CalibrationError(
            f"no review threshold keeps wrong, unflagged receipts at {target:.2%} of visits (the best leaves "
            f"{chosen.wrong_unflagged_rate:.2%}): line confidence does not tell those lines apart; "
            "the checkout keeps the calibration it has"
        )
    fitted_on = {"lines": len(lines), "receipts": len(receipts), **(sources or {})}
    return Calibration(version, xs, ys, chosen.threshold, target, fitted_on)


MIN_WRONG_LINES = 5
"""Fewer lines found wrong than this, and a fit from decisions and audits is refused: a calibration that
never saw a wrong line calls every line right and would stop flagging on confidence altogether."""


@dataclass
class ReviewLabels:
    """Receipt lines and receipts labelled from the published warehouse and the audits, and how many
    lines of each kind."""

    lines: list[LineOutcome]
    receipts: list[ReceiptOutcome]
    decided_lines: int  # lines of receipts an operator decided (confirmed, or changed)
    presumed_right_lines: int  # lines of receipts nobody flagged nor disputed
    audited_lines: int  # lines of audited visits: labelled against the audit, whatever was decided


def review_labels(
    published_marts: Path, published_review: Path, audits: Mapping[str, Mapping[str, int]]
) -> ReviewLabels:
    """Labels from the audits (:mod:`review.audits`) where a visit was audited, else from the operators'
    decisions: a line an adjustment changed (removed, quantity changed) was wrong; the other lines of a
    decided receipt were right; a receipt is wrong when a decision changed it (a line added counts: the
    sensors missed it). Receipts nobody flagged or disputed are presumed right; flagged ones still open
    are left out (not known yet). A receipt's least sure confidence is its least sure line's."""
    with duckdb.connect() as connection:
        for name, path in (("marts_file", published_marts), ("review_file", published_review)):
            if not path.exists():
                raise CalibrationError(f"no {path}: build the warehouse first (walkout warehouse build)")
            quoted = str(path).replace("'", "''")
            connection.execute(f"attach '{quoted}' as {name} (read_only)")
        decided_rows = connection.execute(DECIDED_LINES_SQL).fetchall()
        audited_rows = connection.execute(AUDITED_LINES_SQL, [sorted(audits)]).fetchall() if audits else []
    labels = ReviewLabels([], [], 0, 0, 0)
    receipts: dict[str, tuple[float, bool, bool]] = {}
    for visit_id, confidence, line_wrong, decided_case, receipt_changed, otherwise in decided_rows:
        if visit_id in audits:
            continue
        labels.lines.append(LineOutcome(float(confidence), not line_wrong))
        labels.decided_lines += bool(decided_case)
        labels.presumed_right_lines += not decided_case
        lowest, _, _ = receipts.get(visit_id, (1.0, False, False))
        receipts[visit_id] = (min(lowest, float(confidence)), bool(receipt_changed), bool(otherwise))
    labels.receipts += [ReceiptOutcome(low, wrong, otherwise) for low, wrong, otherwise in receipts.values()]
    charged: dict[str, dict[str, int]] = {}
    audited: dict[str, tuple[float, bool]] = {}
    for visit_id, product_id, units, raw_confidence, otherwise in audited_rows:
        confidence = float(raw_confidence)
        labels.lines.append(LineOutcome(confidence, audits[visit_id].get(product_id, 0) == units))
        labels.audited_lines += 1
        charged.setdefault(visit_id, {})[product_id] = units
        lowest, _ = audited.get(visit_id, (1.0, False))
        audited[visit_id] = (min(lowest, confidence), otherwise)
    for visit_id, taken in audits.items():
        wrong = charged.get(visit_id, {}) != dict(taken)
        if visit_id in audited:
            lowest, otherwise = audited[visit_id]
            labels.receipts.append(ReceiptOutcome(lowest, wrong, otherwise))
        else:  # charged nothing: no threshold flags it
            labels.receipts.append(ReceiptOutcome(None, wrong))
    return labels


# A receipt flagged on the charge for a reason a threshold does not stand in for (an undecided id swap, an
# exit not scanned): not the low-confidence flag the threshold itself decides, nor an age check.
_FLAGGED_OTHERWISE = """
        bool_or(kind = 'flagged' and len(list_filter(review_reasons, lambda reason: reason not in (
            'low attribution confidence',
            'age-restricted item taken by someone not known to be an adult'
        ))) > 0) as flagged_otherwise,"""

DECIDED_LINES_SQL = f"""
with
changes as (
    select visit_id, product_id, bool_or(quantity_delta <> 0) as changed,
    from marts_file.marts.fct_receipt_adjustment_lines
    group by all
),
cases as (
    select
        visit_id,
        bool_or(state = 'decided') as decided,
        bool_or(state = 'open') as still_open,{_FLAGGED_OTHERWISE}
    from review_file.review.review_cases
    where kind in ('flagged', 'disputed')
    group by visit_id
),
lines as (
    select
        purchase_lines.visit_id,
        purchase_lines.line_confidence as confidence,
        coalesce(changes.changed, false) as line_wrong,
        coalesce(cases.decided, false) as decided_case,
        coalesce(cases.flagged_otherwise, false) as flagged_otherwise,
        coalesce(cases.still_open, false) and not coalesce(cases.decided, false) as undecided,
    from marts_file.marts.fct_purchase_lines as purchase_lines
    left join changes using (visit_id, product_id)
    left join cases using (visit_id)
),
receipts as (
    select visit_id, bool_or(changed) as receipt_changed,
    from changes
    group by visit_id
)
select
    lines.visit_id,
    lines.confidence,
    lines.line_wrong,
    lines.decided_case,
    coalesce(receipts.receipt_changed, false) as receipt_changed,
    lines.flagged_otherwise,
from lines
left join receipts using (visit_id)
where not lines.undecided
order by lines.visit_id, lines.confidence
"""


def fit_from_reviews(
    published_marts: Path, published_review: Path, audits_dir: Path, target: float, version: str
) -> Calibration:
    """The calibration the checkout loads, fitted on what the operators decided and the audits found (see
    :func:`review_labels`); refused when they found too few wrong lines to learn from."""
    labels = review_labels(published_marts, published_review, read_audits(audits_dir))
    wrong = sum(not line.right for line in labels.lines)
    if wrong < MIN_WRONG_LINES:
        raise CalibrationError(
            f"the decisions and audits found {wrong} wrong receipt lines, fewer than the {MIN_WRONG_LINES} "
            "a calibration needs: the checkout keeps its current one"
        )
    sources = {"decided_lines": labels.decided_lines, "presumed_right_lines": labels.presumed_right_lines}
    if labels.audited_lines:
        sources["audited_lines"] = labels.audited_lines
    return fit_calibration(labels.lines, labels.receipts, target, version, sources)


AUDITED_LINES_SQL = f"""
with
cases as (
    select
        visit_id,{_FLAGGED_OTHERWISE}
    from review_file.review.review_cases
    where kind = 'flagged'
    group by visit_id
)
select
    lines.visit_id,
    lines.product_id,
    lines.quantity,
    lines.line_confidence,
    coalesce(cases.flagged_otherwise, false) as flagged_otherwise,
from marts_file.marts.fct_purchase_lines as lines
left join cases using (visit_id)
where list_contains(?, lines.visit_id)
order by lines.visit_id, lines.product_id
"""
