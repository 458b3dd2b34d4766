"""Calibration of line confidence: the isotonic map, its error, the threshold and the versioned file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review.calibration import (
    LineOutcome,
    ReceiptOutcome,
    choose_threshold,
    expected_calibration_error,
    fit_calibration,
    fit_isotonic,
    review_at,
)
from walkout.calibration import (
    Calibration,
    CalibrationError,
    newest_calibration_file,
    read_calibration,
    write_calibration,
)


def test_isotonic_pools_ties_then_violators() -> None:
    # 0.2: 1 of 2 right; 0.5: 0 of 2 (less than the less sure group: pooled with it, 1 of 4); 0.9: 2 of 2
    xs, ys = fit_isotonic([0.2, 0.2, 0.5, 0.5, 0.9, 0.9], [True, False, False, False, True, True])
    assert xs == (0.2, 0.5, 0.9)
    assert ys == (0.25, 0.25, 1.0)


def test_isotonic_keeps_an_ordered_fit_as_is() -> None:
    xs, ys = fit_isotonic([0.1, 0.6, 0.6, 0.95], [False, True, False, True])
    assert xs == (0.1, 0.6, 0.95)
    assert ys == (0.0, 0.5, 1.0)


def test_expected_calibration_error_by_hand() -> None:
    # bin 0.9-1.0: four lines at 0.95, three right (0.75): |0.75 - 0.95| = 0.2, weight 4/6;
    # bin 0.3-0.4: two at 0.3, one right: |0.5 - 0.3| = 0.2, weight 2/6 -> 0.2
    right = [True, True, True, False, True, False]
    assert expected_calibration_error([0.95] * 4 + [0.3] * 2, right) == pytest.approx(0.2)
    assert expected_calibration_error([1.0, 0.0], [True, False]) == 0.0  # 1.0 falls in the last bin


def test_calibrated_confidence_is_perfectly_calibrated_on_what_it_was_fitted_on() -> None:
    confidences = [0.3] * 10 + [0.6] * 10 + [0.99] * 10
    right = [i < 5 for i in range(10)] + [i < 8 for i in range(10)] + [True] * 10
    xs, ys = fit_isotonic(confidences, right)
    calibration = Calibration("v", xs, ys, 0.5, 0.001, {})
    before = expected_calibration_error(confidences, right)
    after = expected_calibration_error([calibration.calibrated(c) for c in confidences], right)
    assert after == pytest.approx(0.0)
    assert before > 0.1


def test_threshold_is_the_lowest_that_meets_the_target() -> None:
    # ten visits; the wrong receipts score 0.4 and 0.7; one visit got no receipt at all (not wrong)
    scores = [0.4, 0.7, 0.8, 0.9, 0.95, 0.95, 0.99, 0.99, 0.99, None]
    receipts = [ReceiptOutcome(s, wrong=s in (0.4, 0.7)) for s in scores]
    none_wrong = choose_threshold(scores, receipts, target=0.0)
    assert none_wrong.threshold == 0.8  # flags 0.4 and 0.7: two of ten reviewed
    assert none_wrong.review_rate == pytest.approx(0.2)
    assert none_wrong.wrong_unflagged_rate == 0.0
    one_wrong = choose_threshold(scores, receipts, target=0.1)
    assert one_wrong.threshold == 0.7  # only 0.4 flagged; the 0.7 one reaches a shopper (1 of 10)
    assert one_wrong.wrong_unflagged_rate == pytest.approx(0.1)
    assert choose_threshold(scores, receipts, target=0.2).threshold == 0.0  # no review needed


def test_receipts_flagged_otherwise_count_as_reviewed_and_unreachable_targets_do_their_best() -> None:
    receipts = [
        ReceiptOutcome(0.5, wrong=True, flagged_otherwise=True),
        ReceiptOutcome(None, wrong=True),  # nothing charged: no threshold flags it
        ReceiptOutcome(0.9, wrong=False),
    ]
    scores = [r.lowest for r in receipts]
    assert review_at(scores, receipts, 0.0).review_rate == pytest.approx(1 / 3)
    chosen = choose_threshold(scores, receipts, target=0.0)
    assert chosen.threshold == 0.0  # the missing receipt stays wrong and unflagged whatever is flagged
    assert chosen.wrong_unflagged_rate == pytest.approx(1 / 3)


def test_fit_calibration_chooses_over_calibrated_confidence() -> None:
    lines = [LineOutcome(0.5, False), LineOutcome(0.5, True), LineOutcome(0.9, True), LineOutcome(0.9, True)]
    receipts = [ReceiptOutcome(0.5, wrong=True), ReceiptOutcome(0.9, wrong=False)]
    calibration = fit_calibration(lines, receipts, target=0.0, version="v1", sources={"twin_lines": 4})
    assert calibration.calibrated(0.5) == 0.5
    assert calibration.threshold == 1.0  # the calibrated score of the right receipt: flags the wrong one
    assert calibration.flags(0.5)
    assert not calibration.flags(0.9)
    assert calibration.fitted_on == {"lines": 4, "receipts": 2, "twin_lines": 4}


def test_a_fit_that_cannot_keep_the_target_is_refused_unless_only_reported() -> None:
    """Every line at one confidence, one receipt of two wrong: no threshold tells them apart, so the
    threshold that leaves the fewest is the lowest of equals, which would flag less than a checkout does
    today. Refused for the checkout; reported when asked."""
    lines = [LineOutcome(0.99, False), LineOutcome(0.99, True)]
    receipts = [ReceiptOutcome(0.99, wrong=True), ReceiptOutcome(0.99, wrong=False)]
    with pytest.raises(CalibrationError, match=r"no review threshold keeps .* the checkout keeps"):
        fit_calibration(lines, receipts, target=0.001, version="v1")
    reported = fit_calibration(lines, receipts, target=0.001, version="v1", require_target=False)
    assert reported.threshold == 0.0


def _calibration(version: str) -> Calibration:
    return Calibration(version, (0.2, 0.8), (0.3, 0.95), 0.6, 0.001, {"lines": 10, "receipts": 3})


def test_artifact_round_trips_and_the_newest_version_wins(tmp_path: Path) -> None:
    for version in ("20261208T010000000000Z", "20261208T020000000000Z"):
        write_calibration(tmp_path, _calibration(version))
    newest = newest_calibration_file(tmp_path)
    assert newest is not None
    assert read_calibration(newest) == _calibration("20261208T020000000000Z")
    assert newest_calibration_file(tmp_path / "none") is None
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda raw: raw["breakpoints"].update(confidence=[0.8, 0.2]), "must not decrease"),
        (lambda raw: raw.update(threshold="0.6"), "not a number"),
        (lambda raw: raw.update(version="other"), "names version"),
        (lambda raw: raw.pop("target"), "missing"),
        (lambda raw: raw.update(extra=1), "unexpected"),
        (lambda raw: raw["breakpoints"].update(right_share=[0.3, 1.5]), "within 0 and 1"),
        (lambda raw: raw["fitted_on"].update(lines=-1), "negative"),
    ],
)
def test_a_hand_edited_file_is_refused_in_one_line(tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    path = write_calibration(tmp_path, _calibration("20261208T010000000000Z"))
    raw = json.loads(path.read_text())
    edit(raw)
    path.write_text(json.dumps(raw))
    with pytest.raises(CalibrationError, match=message) as refused:
        read_calibration(path)
    assert "\n" not in str(refused.value)
    assert str(path) in str(refused.value)


def test_a_cut_short_file_is_refused(tmp_path: Path) -> None:
    path = write_calibration(tmp_path, _calibration("20261208T010000000000Z"))
    path.write_text(path.read_text()[:40])
    with pytest.raises(CalibrationError, match="unreadable"):
        read_calibration(path)
