"""The calibration of line confidence on the twin: labels that agree with the receipts' scoring, and
``walkout review calibrate`` fitting on one seed, judging on another and writing the checkout's file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from realtime.checkout.fusion import DEFAULT_PARAMS
from realtime.checkout.replay import replay_checkout
from review.calibration import review_at
from twin.calibrate import label_receipts
from twin.checkout_evaluate import score_receipts
from twin.run import StoreDay
from walkout.calibration import newest_calibration_file, read_calibration
from walkout.catalog import load_catalog
from walkout.contracts import Purchase

# Measured 2026-12-08 on S001, fitting on seed 12 and judging on seed 14 (one store, two seeds, about
# 20 s): the fusion's line confidence sits at its cap of 0.99 on nearly every line, the wrong ones too,
# so no threshold over it flags the wrong receipts and the chosen one does what today's does: 2 of 386
# visits (0.52 %) wrong and not flagged, against a target of 0.1 %.
WRONG_UNFLAGGED_MARGIN = 0.005


@pytest.mark.slow
def test_labels_agree_with_the_receipts_scoring(simulated_day: list[StoreDay]) -> None:
    store_day = simulated_day[0]
    outputs = replay_checkout(load_catalog(), store_day.store_id, (event for _, event in store_day.events))
    receipts = [event for event in outputs if isinstance(event, Purchase)]
    labelled = label_receipts(receipts, store_day.truth)
    score = score_receipts(receipts, store_day.truth.visits, store_day.truth.receipts)
    today = review_at([r.lowest for r in labelled.receipts], labelled.receipts, DEFAULT_PARAMS.review_below)
    assert len(labelled.receipts) == score.visits
    assert len(labelled.lines) == sum(len(receipt.lines) for receipt in receipts)
    assert today.review_rate == pytest.approx(score.charge_review_rate)
    assert today.wrong_unflagged_rate == pytest.approx(score.wrong_unflagged_rate)
    exact = sum(not r.wrong for r in labelled.receipts) / len(labelled.receipts)
    assert exact == pytest.approx(score.exact_receipt_rate)


@pytest.mark.slow
def test_calibrate_command_fits_judges_and_writes(tmp_path: Path) -> None:
    """Judged against the default target (0.1 % wrong, unflagged), and written for the checkout only where
    the fitting seeds' store-days met it: the twin's line confidence sits at its cap on nearly every
    line, so on seed 12 it does not, and the checkout keeps what it has."""
    environment = {**os.environ, "WALKOUT_DATA_DIR": str(tmp_path)}
    environment.pop("WALKOUT_REVIEW_WRONG_UNFLAGGED_TARGET", None)
    args = ["review", "calibrate", "--stores", "S001", "--seeds", "12", "--eval-seeds", "14", "--json"]
    result = subprocess.run(
        [sys.executable, "-m", "walkout", *args], capture_output=True, text=True, env=environment, timeout=900
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["target"] == 0.001
    assert figures["eval_visits"] > 300
    assert figures["ece_after"] < figures["ece_before"]
    chosen, today = figures["chosen"], figures["today"]
    assert chosen["wrong_unflagged_rate"] <= figures["target"] + WRONG_UNFLAGGED_MARGIN
    assert chosen["wrong_unflagged_rate"] <= today["wrong_unflagged_rate"]
    assert not figures["target_met_on_fit"]  # measured: 0.26 % wrong, unflagged at best on seed 12
    assert figures["written"] is None
    assert newest_calibration_file(tmp_path / "artifacts" / "calibration") is None

    environment["WALKOUT_REVIEW_WRONG_UNFLAGGED_TARGET"] = "0.05"  # a target the fit can keep: written
    result = subprocess.run(
        [sys.executable, "-m", "walkout", *args], capture_output=True, text=True, env=environment, timeout=900
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    chosen = figures["chosen"]
    assert figures["target_met_on_fit"]
    written = newest_calibration_file(tmp_path / "artifacts" / "calibration")
    assert written is not None
    assert str(written) == figures["written"]
    calibration = read_calibration(written)
    assert calibration.version == figures["calibration_version"]
    assert calibration.threshold == chosen["threshold"]
    assert calibration.fitted_on["twin_lines"] == figures["fit_lines"]
