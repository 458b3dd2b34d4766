"""The shelf detector's scoring: one-to-one matching, and the floor it meets on a noisy simulated day."""

from __future__ import annotations

import numpy as np

from ingestion.shelf import PlateChange
from twin.shelf_evaluate import DetectionScore, score_detections, simulate_noisy_day
from walkout.contracts import ShelfAction


def test_scoring_matches_one_to_one_by_time_and_sign() -> None:
    pick = PlateChange(10.0, 12.0, -80.0, ShelfAction.PICK, 1, 0.99)
    put_back = PlateChange(30.0, 31.0, 80.0, ShelfAction.PUT_BACK, 2, 0.99)
    truth = [(10.5, -80.0, 1), (11.0, -80.0, 1), (30.5, -80.0, 1), (60.0, 80.0, 1)]

    score = score_detections(truth, [pick, put_back])

    assert score == DetectionScore(n_true=4, n_detected=2, n_matched=1, n_quantity_correct=1)
    assert (score.precision, score.recall, score.quantity_accuracy) == (0.5, 0.25, 1.0)


def test_a_noisy_day_is_detected_with_high_precision_and_recall() -> None:
    day = simulate_noisy_day(np.random.default_rng(20261123), n_plates=300, picks_per_plate_per_day=10.0)
    score = day.score

    print(
        f"\nnoisy day: {day.n_interactions} hands ({day.n_put_backs} put-backs, "
        f"{day.n_two_hands} two-hands), "
        f"{day.n_idle_windows} idle windows, {day.n_samples:,} samples; "
        f"precision {score.precision:.4f}, recall {score.recall:.4f}, "
        f"quantity accuracy {score.quantity_accuracy:.4f}"
    )
    assert day.n_interactions > 2500
    assert day.n_put_backs > 300
    assert day.n_two_hands > 50
    assert score.precision >= 0.98
    assert score.recall >= 0.98
    assert score.quantity_accuracy >= 0.98
