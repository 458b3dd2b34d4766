"""The shelf plate detector scored against the twin's ground truth: true changes matched one-to-one to
detections, and a busy simulated day of plate windows, each synthesized, detected and scored."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ingestion.shelf import PlateChange, detect_plate_events
from twin.plates import PlateInteraction, synthesize_plate_window
from walkout.contracts import ShelfAction


@dataclass(frozen=True)
class DetectionScore:
    """Counts from matching true plate changes to detections; add scores to pool plates."""

    n_true: int = 0
    n_detected: int = 0
    n_matched: int = 0
    n_quantity_correct: int = 0

    @property
    def precision(self) -> float:
        return self.n_matched / self.n_detected if self.n_detected else 1.0

    @property
    def recall(self) -> float:
        return self.n_matched / self.n_true if self.n_true else 1.0

    @property
    def quantity_accuracy(self) -> float:
        """Share of matched detections with the true quantity."""
        return self.n_quantity_correct / self.n_matched if self.n_matched else 1.0

    def __add__(self, other: DetectionScore) -> DetectionScore:
        return DetectionScore(
            self.n_true + other.n_true,
            self.n_detected + other.n_detected,
            self.n_matched + other.n_matched,
            self.n_quantity_correct + other.n_quantity_correct,
        )


def score_detections(
    truth: Sequence[tuple[float, float, int]], detected: Sequence[PlateChange], tolerance_s: float = 1.5
) -> DetectionScore:
    """Match true changes ``(touch time, delta_g, quantity)`` one-to-one to detections of the same sign
    whose disturbance lies within ``tolerance_s`` of the touch, closest pairs first."""
    pairs = sorted(
        (_seconds_apart(at_s, change), row, col)
        for row, (at_s, delta_g, _) in enumerate(truth)
        for col, change in enumerate(detected)
        if (delta_g < 0) == (change.action is ShelfAction.PICK)
    )
    matched_rows: set[int] = set()
    matched_cols: set[int] = set()
    right_quantity = 0
    for apart_s, row, col in pairs:
        if apart_s <= tolerance_s and row not in matched_rows and col not in matched_cols:
            matched_rows.add(row)
            matched_cols.add(col)
            right_quantity += truth[row][2] == detected[col].quantity
    return DetectionScore(len(truth), len(detected), len(matched_rows), right_quantity)


def _seconds_apart(at_s: float, change: PlateChange) -> float:
    """How far a touch lies outside a change's disturbance (0 inside it)."""
    return max(change.start_s - at_s, at_s - change.end_s, 0.0)


@dataclass(frozen=True)
class NoisyDay:
    """Totals of a simulated busy day, scored window by window, and the detector's own run time."""

    score: DetectionScore = field(default_factory=DetectionScore)
    n_interactions: int = 0  # hands that moved stock
    n_put_backs: int = 0
    n_two_hands: int = 0
    n_idle_windows: int = 0
    n_samples: int = 0
    detect_s: float = 0.0

    @property
    def samples_per_s(self) -> float:
        """Samples the detector got through per second of its own time."""
        return self.n_samples / self.detect_s if self.detect_s > 0 else math.inf

    def __add__(self, other: NoisyDay) -> NoisyDay:
        return NoisyDay(
            self.score + other.score,
            self.n_interactions + other.n_interactions,
            self.n_put_backs + other.n_put_backs,
            self.n_two_hands + other.n_two_hands,
            self.n_idle_windows + other.n_idle_windows,
            self.n_samples + other.n_samples,
            self.detect_s + other.detect_s,
        )


@dataclass(frozen=True)
class _Episode:
    """What happens at a plate in one window: the hands, and the net units they moved."""

    hands: tuple[PlateInteraction, ...]
    net_units: int
    n_put_backs: int = 0
    idle: bool = False


_PICK_UNITS = np.array([1, 2, 3, 4, 6])
_PICK_UNITS_P = np.array([0.78, 0.14, 0.05, 0.02, 0.01])


def simulate_noisy_day(
    rng: np.random.Generator,
    n_plates: int,
    picks_per_plate_per_day: float = 10.0,
    *,
    put_back_share: float = 0.15,
    two_hands_share: float = 0.05,
    drift_share: float = 0.3,
    max_drift_g_per_min: float = 30.0,
    idle_windows_per_plate: float = 3.0,
    spikes_per_min: float = 0.5,
    hz: int = 60,
) -> NoisyDay:
    """A busy day over ``n_plates``: every episode gets its own window, which is detected and scored.

    Unit weights span 20-1500 g (mostly 50-600 g) and items vary 1 % around them; each plate has its
    own noise (2-5 g); ``drift_share`` of windows drift by up to ``max_drift_g_per_min``.
    ``two_hands_share`` of episodes have a second shopper picking while the first still handles: a
    plate sees one net change, so the truth is that net change at the first touch (nothing if it
    nets to zero). Idle windows hold noise, drift, glitches and half the time a touch that takes
    nothing: any detection there is a false positive.
    """
    day = NoisyDay()
    for _ in range(n_plates):
        unit_weight_g = float(np.clip(rng.lognormal(math.log(180.0), 0.8), 20.0, 1500.0))
        noise_g = rng.uniform(2.0, 5.0)
        episodes = [
            _draw_episode(rng, unit_weight_g, put_back_share, two_hands_share)
            for _ in range(rng.poisson(picks_per_plate_per_day))
        ]
        episodes += [_draw_idle(rng) for _ in range(rng.poisson(idle_windows_per_plate))]
        for episode in episodes:
            drifting = rng.random() < drift_share
            drift = rng.uniform(-max_drift_g_per_min, max_drift_g_per_min) if drifting else 0.0
            day += _replay_window(rng, episode, unit_weight_g, noise_g, drift, spikes_per_min, hz)
    return day


def _replay_window(
    rng: np.random.Generator,
    episode: _Episode,
    unit_weight_g: float,
    noise_g: float,
    drift_g_per_min: float,
    spikes_per_min: float,
    hz: int,
) -> NoisyDay:
    """Synthesize one episode's window, detect its changes and score them against the plate's truth."""
    start_s = rng.uniform(7 * 3600, 24 * 3600)  # opening hours
    last_release = max((hand.at_s + hand.handling_s for hand in episode.hands), default=0.0)
    duration_s = rng.uniform(10.0, 30.0) if episode.idle else last_release + rng.uniform(2.5, 4.0)
    stock_g = rng.uniform(300.0, 800.0) + rng.integers(10, 40) * unit_weight_g  # tray + items
    signal = synthesize_plate_window(
        rng, stock_g, episode.hands, start_s, duration_s, noise_g, drift_g_per_min, hz, spikes_per_min
    )
    began = time.perf_counter()
    detected = detect_plate_events(signal, unit_weight_g)
    detect_s = time.perf_counter() - began
    truth = [] if episode.net_units == 0 else [_net_change(episode, start_s)]
    return NoisyDay(
        score=score_detections(truth, detected),
        n_interactions=0 if episode.idle else len(episode.hands),
        n_put_backs=episode.n_put_backs,
        n_two_hands=int(len(episode.hands) == 2),
        n_idle_windows=int(episode.idle),
        n_samples=signal.grams.size,
        detect_s=detect_s,
    )


def _draw_episode(
    rng: np.random.Generator, unit_weight_g: float, put_back_share: float, two_hands_share: float
) -> _Episode:
    """One shopper picks (or puts back) after 2-4 s of quiet; sometimes a second one picks meanwhile."""
    put_back = rng.random() < put_back_share
    if put_back:
        units = int(rng.choice([1, 2], p=[0.9, 0.1]))
    else:
        units = -int(rng.choice(_PICK_UNITS, p=_PICK_UNITS_P))
    first = _hand(rng, rng.uniform(2.0, 4.0), units, unit_weight_g)
    if rng.random() >= two_hands_share:
        return _Episode((first,), units, int(put_back))
    other_units = -int(rng.choice([1, 2], p=[0.85, 0.15]))
    other = _hand(rng, first.at_s + first.handling_s * rng.uniform(0.1, 0.9), other_units, unit_weight_g)
    return _Episode((first, other), units + other_units, int(put_back))


def _draw_idle(rng: np.random.Generator) -> _Episode:
    """A window where no stock moves: half the time a shopper lifts an item, looks, and puts it back."""
    touch = PlateInteraction(rng.uniform(2.0, 6.0), 0.0, rng.uniform(0.6, 2.5))
    return _Episode((touch,) if rng.random() < 0.5 else (), 0, idle=True)


def _hand(rng: np.random.Generator, at_s: float, units: int, unit_weight_g: float) -> PlateInteraction:
    """A hand moving ``units`` items (negative: picked), each within about 1 % of the unit weight."""
    weights = unit_weight_g * (1.0 + rng.normal(0.0, 0.01, abs(units)))
    return PlateInteraction(at_s, math.copysign(float(weights.sum()), units), rng.uniform(0.6, 2.5))


def _net_change(episode: _Episode, start_s: float) -> tuple[float, float, int]:
    """What the plate can observe of an episode: its net change, at the first touch."""
    net_g = sum(hand.delta_g for hand in episode.hands)
    return start_s + episode.hands[0].at_s, net_g, abs(episode.net_units)
