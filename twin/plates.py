"""The twin's shelf plates: a plate's 60 Hz readings over a window in which hands come and go.

A store day is 300 plates at 60 Hz, about 1.5 billion samples, so the twin synthesizes the signal
only in windows where something happens (plus idle windows that measure false positives), and all
per-sample work is vectorized with numpy. The real edge detector (:mod:`ingestion.shelf`) reads it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ingestion.shelf import FloatArray, PlateSignal, ShelfError


@dataclass(frozen=True)
class PlateInteraction:
    """One hand on a plate, for the twin.

    ``at_s``: seconds from the window start when the hand touches; ``delta_g``: the true weight
    change (negative for a pick, positive for a put-back, 0 for a touch that takes nothing);
    ``handling_s``: how long the hand presses, lifts and shakes the plate.
    """

    at_s: float
    delta_g: float
    handling_s: float


def synthesize_plate_window(
    rng: np.random.Generator,
    base_weight_g: float,
    interactions: Sequence[PlateInteraction],
    start_s: float,
    duration_s: float,
    noise_g: float = 3.0,
    drift_g_per_min: float = 0.0,
    hz: int = 60,
    spikes_per_min: float = 0.0,
) -> PlateSignal:
    """A plate's readings over one window: stock weight, hands, sensor noise, drift and spikes.

    Hands may overlap (two shoppers at one plate): their disturbances and steps simply add up.
    """
    if hz <= 0 or duration_s <= 0:
        raise ShelfError(f"a plate window needs hz > 0 and duration_s > 0, got hz={hz}, {duration_s=}")
    offsets = np.arange(max(1, round(duration_s * hz))) / hz
    grams = base_weight_g + drift_g_per_min / 60.0 * offsets + rng.normal(0.0, noise_g, offsets.size)
    for hand in interactions:
        _add_hand(rng, grams, hand, hz)
    _add_spikes(rng, grams, rng.poisson(spikes_per_min * duration_s / 60.0))
    return PlateSignal(t_s=start_s + offsets, grams=grams.astype(np.float32), hz=hz)


def _add_hand(rng: np.random.Generator, grams: FloatArray, hand: PlateInteraction, hz: int) -> None:
    """The item leaves (or lands) mid-handling; the hand's force shakes the reading by hundreds of
    grams, and the plate rings for a moment after the hand lets go."""
    if hand.handling_s <= 0:
        raise ShelfError(f"handling_s must be > 0 (a hand takes time), got {hand.handling_s}")
    lift = round((hand.at_s + hand.handling_s * rng.uniform(0.3, 0.7)) * hz)
    grams[min(max(lift, 0), grams.size) :] += hand.delta_g
    touch = round(hand.at_s * hz)
    length = max(1, round(hand.handling_s * hz))
    force_g = rng.uniform(150.0, 450.0)
    press = _hand_envelope(length, hz) * (_shaking(rng, length, hz) + rng.uniform(0.0, 1.0))
    _add_at(grams, touch, force_g * press)
    decay_s = rng.uniform(0.05, 0.15)
    after = np.arange(round(5 * decay_s * hz)) / hz
    ring = np.exp(-after / decay_s) * np.sin(2 * np.pi * rng.uniform(4.0, 10.0) * after + rng.uniform(0, 6.3))
    _add_at(grams, touch + length, force_g * rng.uniform(0.3, 0.8) * ring)


def _hand_envelope(length: int, hz: int) -> FloatArray:
    """Full force while the hand is on the plate, with 0.1 s smooth onset and release."""
    ramp = min(max(1, round(0.1 * hz)), length // 2)
    envelope = np.ones(length)
    if ramp > 0:
        rise = 0.5 - 0.5 * np.cos(np.pi * (np.arange(ramp) + 0.5) / ramp)
        envelope[:ramp] = rise
        envelope[length - ramp :] = rise[::-1]
    return envelope


def _shaking(rng: np.random.Generator, length: int, hz: int) -> FloatArray:
    """Unit-variance noise band-limited to a hand's few hertz (white noise through a Hann kernel)."""
    kernel = np.hanning(max(3, round(0.12 * hz)) + 2)[1:-1]
    kernel /= math.sqrt(float(np.sum(kernel**2)))
    return np.convolve(rng.standard_normal(length + kernel.size - 1), kernel, mode="valid")


def _add_at(grams: FloatArray, first: int, values: FloatArray) -> None:
    """Add ``values`` starting at sample ``first``, clipped to the window."""
    lo, hi = max(first, 0), min(first + values.size, grams.size)
    if lo < hi:
        grams[lo:hi] += values[lo - first : hi - first]


def _add_spikes(rng: np.random.Generator, grams: FloatArray, count: int) -> None:
    """One-sample glitches (electrical noise, a knock on the gondola) that move no stock."""
    at = rng.integers(0, grams.size, count)
    grams[at] += rng.choice([-1.0, 1.0], count) * rng.uniform(200.0, 1500.0, count)
