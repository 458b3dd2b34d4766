"""The appearance descriptor: upper and lower body colour histograms, their distance, and the contract
field that carries them on ``camera.tracks``."""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from walkout.appearance import (
    APPEARANCE_LENGTH,
    PART_BINS,
    appearance_distance,
    appearance_of,
    mean_appearance,
    part_histogram,
    rounded,
)
from walkout.contracts import CameraTrack, make_event_id, parse_event

NAVY, KHAKI = (80, 40, 30), (110, 160, 175)  # BGR


def pixels(bgr: tuple[int, int, int], count: int = 400, seed: int = 0) -> np.ndarray:
    """A garment's pixels (CIELAB, N x 3): its colour, shaded a little pixel by pixel."""
    rng = np.random.default_rng(seed)
    shaded = np.clip(np.array(bgr) * rng.uniform(0.85, 1.1, size=(count, 1)), 0, 255).astype(np.uint8)
    return np.asarray(cv2.cvtColor(shaded.reshape(-1, 1, 3), cv2.COLOR_BGR2LAB), np.uint8).reshape(-1, 3)


def mean_lab(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts).astype(float).mean(axis=0)


def test_navy_over_khaki_is_not_khaki_over_navy_though_their_mean_colour_is_one() -> None:
    navy_top = appearance_of(pixels(NAVY), pixels(KHAKI, seed=1))
    khaki_top = appearance_of(pixels(KHAKI, seed=2), pixels(NAVY, seed=3))
    navy_top_again = appearance_of(pixels(NAVY, seed=4), pixels(KHAKI, seed=5))
    assert navy_top is not None
    assert khaki_top is not None
    assert navy_top_again is not None
    navy_mean, khaki_mean = (
        mean_lab(pixels(NAVY), pixels(KHAKI, seed=1)),
        mean_lab(pixels(KHAKI), pixels(NAVY)),
    )
    assert np.abs(navy_mean - khaki_mean).max() < 3  # one mean colour cannot tell them apart ...
    assert appearance_distance(navy_top, khaki_top) > 0.8  # ... their appearance tells them apart
    assert appearance_distance(navy_top, navy_top_again) < 0.1
    assert appearance_distance(navy_top, navy_top) == pytest.approx(0.0, abs=1e-6)
    assert appearance_distance(mean_appearance([navy_top, navy_top_again]), navy_top) < 0.1


def test_a_descriptor_is_two_histograms_that_each_sum_to_one_rounded_to_the_percent() -> None:
    appearance = appearance_of(pixels(NAVY), pixels((235, 235, 235)))
    assert appearance is not None
    assert len(appearance) == APPEARANCE_LENGTH == 2 * PART_BINS
    for part in (appearance[:PART_BINS], appearance[PART_BINS:]):
        assert sum(part) == pytest.approx(1.0, abs=0.05)
    assert all(0.0 <= value <= 1.0 and round(value, 2) == value for value in appearance)
    assert appearance_of(pixels(NAVY), np.empty((0, 3), np.uint8)) is None  # a part not seen: unknown


def test_the_twins_histogram_of_a_colour_is_what_the_pipeline_counts_of_its_pixels() -> None:
    """The stand-in tracker makes the descriptor from true colours (a cloud of pixels around each);
    the pipeline counts real pixels. For one garment both land mostly in the same bins (the model
    spreads a little more mass into the neighbouring bins than these evenly shaded pixels show)."""
    lab = pixels(KHAKI, count=2000)
    counted = appearance_of(lab, lab)
    garment = part_histogram(lab.astype(float).mean(axis=0, keepdims=True))[0]
    modelled = rounded(np.concatenate([garment, garment]))
    assert counted is not None
    assert appearance_distance(counted, modelled) < 0.3


def test_camera_tracks_carry_an_optional_bounded_appearance() -> None:
    fields = {
        "event_id": make_event_id("track", "T1", 0),
        "store_id": "S001",
        "ts": datetime(2026, 11, 18, 10, tzinfo=UTC),
        "camera_id": "S001-CAM1",
        "track_id": "T1",
        "x_m": 1.0,
        "y_m": 2.0,
    }
    older = CameraTrack(**fields)  # a producer from before the appearance: still parses
    assert parse_event(older.model_dump_json().encode(), CameraTrack.TOPIC) == older
    appearance = appearance_of(pixels(NAVY), pixels(KHAKI))
    track = CameraTrack(**fields, appearance=appearance)
    assert parse_event(track.model_dump_json().encode(), CameraTrack.TOPIC) == track
    assert appearance is not None
    for wrong in (appearance[:-1], (1.0,) * APPEARANCE_LENGTH, (-0.1, *appearance[1:]), (0.0,) * 36):
        with pytest.raises(ValidationError):
            CameraTrack(**fields, appearance=wrong)
