"""The ceiling pipeline end to end on the twin: a quality floor on a rendered rush hour.

Measured on this clip (S002, 15 fps): MOTA 0.98, IDF1 0.99, median floor error 0.04 m; at 4 fps (the
simulator's rate for whole days) MOTA 0.995, IDF1 0.998.
"""

from __future__ import annotations

import pytest

from twin.camera_clips import ClipRequest, evaluate_tracking


@pytest.mark.slow
def test_tracking_a_busy_minute_beats_the_floor() -> None:
    evaluation = evaluate_tracking(ClipRequest(store_id="S002", seed=7, visits=12, seconds=60.0))
    score = evaluation.score
    print(evaluation.as_dict())
    assert score.true_positions > 3000  # about six shoppers in every frame
    assert score.mota >= 0.9
    assert score.idf1 >= 0.85
    assert score.median_error_m <= 0.15  # the issue asks for 0.3 m
