"""Shelf weight plates at the edge: the digital twin's 60 Hz plate signal and the pick/put-back detector.

A plate reports its weight 60 times a second; only the changes leave the store as ``shelf.events``.
The detector follows the field's practice (AiFi): a moving variance over 0.5 s above ~10,000 g^2
means a hand is on the plate; the stable weight right before and right after that disturbance gives
the weight delta, and the product's unit weight turns it into a quantity with a confidence.

A store day is 300 plates at 60 Hz, about 1.5 billion samples, so the twin synthesizes the signal
only in windows where something happens (plus idle windows that measure false positives), and all
per-sample work is vectorized with numpy; per-event logic stays plain Python.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from walkout.contracts import MAX_QUANTITY, ShelfAction, ShelfEvent, make_event_id
from walkout.errors import WalkoutError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_DELTA_G = 50_000.0  # ShelfEvent.weight_delta_g bounds
_RESOLUTION_G = 15.0  # the field's shelf sensors resolve 15-20 g
_FOREIGN_SHARE = 0.02  # prior: changes that are not the plate's product (wrong-plate put-backs)


class ShelfError(WalkoutError, ValueError):
    """A plate signal or detector setting that cannot work; the message says which and how to fix it."""


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


@dataclass(frozen=True, eq=False)
class PlateSignal:
    """A window of one plate's readings: ``t_s`` seconds (window start + offset), ``grams`` weight."""

    t_s: FloatArray
    grams: npt.NDArray[np.float32]
    hz: int

    def __post_init__(self) -> None:
        if self.t_s.shape != self.grams.shape or self.hz <= 0:
            raise ShelfError(
                f"a plate signal needs one time per reading and hz > 0, got {self.t_s.shape} times, "
                f"{self.grams.shape} readings, hz={self.hz}"
            )


@dataclass(frozen=True)
class PlateChange:
    """A settled weight change on a plate: what the edge turns into a ``shelf.event``.

    ``start_s``/``end_s`` bound the disturbance (``end_s``: the weight has settled), in the
    signal's ``t_s`` clock.
    """

    start_s: float
    end_s: float
    delta_g: float
    action: ShelfAction
    quantity: int
    confidence: float


# --- the twin's plate signal -----------------------------------------------------------------


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


# --- the edge detector -----------------------------------------------------------------------


def detect_plate_events(
    signal: PlateSignal,
    unit_weight_g: float,
    *,
    window_s: float = 0.5,
    variance_threshold_g2: float = 10_000.0,
    settled_variance_g2: float = 900.0,
    resolution_g: float = _RESOLUTION_G,
    settle_s: float = 0.2,
    level_s: float = 0.5,
    unit_tolerance: float = 0.015,
    weight_tolerance_g: float = 4.0,
) -> list[PlateChange]:
    """Picks and put-backs in a plate signal, each with the quantity of the plate's product and a confidence.

    A disturbance is a run of samples inside a ``window_s`` window whose variance exceeds
    ``variance_threshold_g2`` (after a 3-sample median removes one-sample glitches); disturbances
    separated by too little stable signal to weigh are one. Its delta is the median settled weight
    (windows under ``settled_variance_g2``) over ``level_s`` right after it minus right before it,
    ``settle_s`` away from it, so slow drift moves nothing. Deltas under ``resolution_g`` are dropped:
    a touch that took nothing, or two hands whose pick and put-back cancel (the checkout attributes
    those from the cameras). A disturbance with no settled weight on one side (the window's edge,
    another hand right after) is not reported; at the edge, the stream waits for more signal.
    """
    if unit_weight_g <= 0:
        raise ShelfError(f"unit_weight_g must be > 0 (the plate's product), got {unit_weight_g}")
    width = round(window_s * signal.hz)
    if width < 3:
        raise ShelfError(f"window_s={window_s} at {signal.hz} Hz spans < 3 samples; use a longer window")
    grams = _despike(np.asarray(signal.grams, dtype=np.float64))
    if grams.size < width:
        return []
    variance = _moving_variance(grams, width)
    settled = ~_in_flagged_windows(variance > settled_variance_g2, width)
    settle, level = round(settle_s * signal.hz), max(2, round(level_s * signal.hz))
    min_level, lookback = max(2, level // 2), 4 * level
    disturbed = _in_flagged_windows(variance > variance_threshold_g2, width)
    runs = _merge_runs(_runs(disturbed), min_gap=2 * settle + min_level)
    changes = []
    for k, (first, stop) in enumerate(runs):
        floor = runs[k - 1][1] + settle if k else 0
        ceiling = runs[k + 1][0] - settle if k + 1 < len(runs) else grams.size
        before = _settled(grams, settled, max(floor, first - settle - lookback), first - settle)[-level:]
        after = _settled(grams, settled, stop + settle, min(ceiling, stop + settle + lookback))[:level]
        if min(before.size, after.size) < min_level:
            continue
        delta_g, error_g = _weigh_change(before, after)
        if abs(delta_g) < resolution_g:
            continue
        quantity, confidence = _count_units(
            abs(delta_g), unit_weight_g, error_g, unit_tolerance, weight_tolerance_g
        )
        changes.append(
            PlateChange(
                start_s=float(signal.t_s[first]),
                end_s=float(signal.t_s[stop - 1]),
                delta_g=delta_g,
                action=ShelfAction.PICK if delta_g < 0 else ShelfAction.PUT_BACK,
                quantity=quantity,
                confidence=confidence,
            )
        )
    return changes


def _despike(grams: FloatArray) -> FloatArray:
    """Median of 3 neighbours: a one-sample glitch vanishes, a hand's few-hertz motion stays."""
    if grams.size < 3:
        return grams
    left, middle, right = grams[:-2], grams[1:-1], grams[2:]
    median = np.maximum(np.minimum(left, middle), np.minimum(np.maximum(left, middle), right))
    return np.concatenate((grams[:1], median, grams[-1:]))


def _moving_variance(grams: FloatArray, width: int) -> FloatArray:
    """The variance of every ``width``-sample window (window j: samples j .. j+width-1), from running sums."""
    centred = grams - grams[0]  # keeps the running sums small, so the variance does not cancel out
    sums = np.concatenate(([0.0], np.cumsum(centred)))
    squares = np.concatenate(([0.0], np.cumsum(centred**2)))
    mean = (sums[width:] - sums[:-width]) / width
    return np.asarray((squares[width:] - squares[:-width]) / width - mean**2)


def _in_flagged_windows(flagged: BoolArray, width: int) -> BoolArray:
    """Which samples lie in at least one flagged window (sample i lies in windows i-width+1 .. i)."""
    count = np.concatenate(([0], np.cumsum(flagged)))
    sample = np.arange(flagged.size + width - 1)
    last = np.minimum(sample, flagged.size - 1)
    first = np.maximum(sample - width + 1, 0)
    return np.asarray(count[last + 1] - count[first] > 0)


def _settled(grams: FloatArray, settled: BoolArray, lo: int, hi: int) -> FloatArray:
    """The settled samples among ``grams[lo:hi]``."""
    lo, hi = max(lo, 0), max(hi, lo, 0)
    return grams[lo:hi][settled[lo:hi]]


def _runs(mask: BoolArray) -> list[tuple[int, int]]:
    """The ``[first, stop)`` index ranges where ``mask`` is true."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.view(np.int8), [0]))))
    return [(int(first), int(stop)) for first, stop in zip(edges[::2], edges[1::2], strict=True)]


def _merge_runs(runs: list[tuple[int, int]], min_gap: int) -> list[tuple[int, int]]:
    """Join disturbances whose stable gap is too short to weigh: one hand pausing, or two hands."""
    merged: list[tuple[int, int]] = []
    for first, stop in runs:
        if merged and first - merged[-1][1] < min_gap:
            merged[-1] = (merged[-1][0], stop)
        else:
            merged.append((first, stop))
    return merged


def _weigh_change(before: FloatArray, after: FloatArray) -> tuple[float, float]:
    """The change between two settled stretches (medians) and its standard error (from their MADs)."""
    levels, errors = [], []
    for grams in (before, after):
        level = float(np.median(grams))
        levels.append(level)
        errors.append(1.2533 * 1.4826 * float(np.median(np.abs(grams - level))) / math.sqrt(grams.size))
    return levels[1] - levels[0], math.hypot(*errors)


def _count_units(
    weight_g: float, unit_weight_g: float, error_g: float, unit_tolerance: float, weight_tolerance_g: float
) -> tuple[int, float]:
    """Units moved, and the posterior that the change is exactly that many of the plate's product.

    Rivals are one unit more or less (noisy levels blur the count) and a foreign item, say a
    wrong-plate put-back, whose weight lands anywhere within a unit (``_FOREIGN_SHARE`` of changes).
    """
    quantity = max(1, round(weight_g / unit_weight_g))

    def likelihood(units: int) -> float:
        spread = math.sqrt(error_g**2 + weight_tolerance_g**2 + units * (unit_tolerance * unit_weight_g) ** 2)
        z = (weight_g - units * unit_weight_g) / spread
        return math.exp(-0.5 * z * z) / (math.sqrt(2 * math.pi) * spread)

    ours = [likelihood(units) * (1 - _FOREIGN_SHARE) for units in (quantity - 1, quantity, quantity + 1)]
    if quantity == 1:
        ours[0] = 0.0
    return quantity, ours[1] / (sum(ours) + _FOREIGN_SHARE / unit_weight_g)


def to_shelf_event(
    change: PlateChange,
    *,
    store_id: str,
    shelf_id: str,
    plate_id: str,
    product_id: str,
    window_origin: datetime,
) -> ShelfEvent:
    """The ``shelf.event`` for a change; ``window_origin`` is the UTC wall-clock time of ``t_s == 0``.

    ``ts`` is when the weight settled; the id derives from the plate and that millisecond, so a
    resent event keeps its id. Quantity and delta are clamped to the contract's bounds.
    """
    if window_origin.tzinfo is None:
        raise ShelfError("window_origin must be timezone-aware (UTC), e.g. datetime(..., tzinfo=UTC)")
    ts = window_origin + timedelta(seconds=change.end_s)
    ts = ts.replace(microsecond=ts.microsecond // 1000 * 1000)
    ts_ms = (ts - _EPOCH) // timedelta(milliseconds=1)
    return ShelfEvent(
        event_id=make_event_id("shelf", store_id, plate_id, ts_ms),
        store_id=store_id,
        ts=ts,
        shelf_id=shelf_id,
        plate_id=plate_id,
        action=change.action,
        weight_delta_g=min(max(round(change.delta_g, 1), -_MAX_DELTA_G), _MAX_DELTA_G),
        product_id=product_id,
        quantity=min(max(change.quantity, 1), MAX_QUANTITY),
        confidence=min(max(change.confidence, 0.0), 1.0),
    )


# --- scoring against the twin's ground truth --------------------------------------------------


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
