"""Shelf weight plates at the edge: the pick/put-back detector and the ``shelf.event`` it sends.

A plate reports its weight 60 times a second; only the changes leave the store as ``shelf.events``.
The detector follows the field's practice (AiFi): a moving variance over 0.5 s above ~10,000 g^2
means a hand is on the plate; the stable weight right before and right after that disturbance gives
the weight delta, and the product's unit weight turns it into a quantity with a confidence.

Per-sample work is vectorized with numpy (a store is 300 plates at 60 Hz); per-event logic stays
plain Python. The twin synthesizes plate signals for it (:mod:`twin.plates`) and scores it
(:mod:`twin.shelf_evaluate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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
