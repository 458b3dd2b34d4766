"""The twin's plate signal: settings that cannot make one say what to fix."""

from __future__ import annotations

import numpy as np
import pytest

from ingestion.shelf import ShelfError
from twin.plates import PlateInteraction, synthesize_plate_window


def test_a_hand_that_takes_no_time_says_what_to_fix() -> None:
    with pytest.raises(ShelfError, match="handling_s"):
        synthesize_plate_window(
            np.random.default_rng(0), 1000.0, [PlateInteraction(1.0, -80.0, 0.0)], 0.0, 5.0
        )
