"""Camera tracks as the checkout service remembers them, and the people behind them.

A tracker id is not a person: the tracker loses people for a moment (a break: the person comes back
under a new id) and swaps the ids of two people who pass close by. A :class:`Person` is one shopper
as followed across ids: the pieces of track ids that were theirs, each from some instant on. The
geometry here judges where ids were swapped: how close two people came, and whether an id's walk
joins up across an instant.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from realtime.checkout.fusion.params import FusionParams
from walkout.appearance import Appearance, appearance_distance, mean_appearance

Sample = tuple[float, float, float, str | None]  # epoch s, x, y, zone id
Point = tuple[float, float]
Gap = tuple[float, float, float]  # epoch s, dx, dy: where one person stood relative to another
Piece = tuple[float, str]  # from epoch s on, this track id
Colour = tuple[float, float, float]  # how someone looks from above: CIELAB, 8-bit scale
Sighting = tuple[float, Colour | None, Appearance | None]  # epoch s, and the colour and appearance seen then
Timed = TypeVar("Timed", Sample, Sighting)


def distance(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


@dataclass(frozen=True)
class Line:
    """A straight walk (or a standstill) fitted to timed positions; ``residual`` is its mean squared miss."""

    t: float
    x: float
    y: float
    vx: float
    vy: float
    residual: float

    def at(self, when: float) -> Point:
        return self.x + self.vx * (when - self.t), self.y + self.vy * (when - self.t)


def fit_line(points: Sequence[tuple[float, float, float]] | Sequence[Sample]) -> Line | None:
    """Least-squares straight line through (instant, x, y) points; None below two points."""
    count = len(points)
    if count < 2:
        return None
    mean_t = sum(p[0] for p in points) / count
    mean_x = sum(p[1] for p in points) / count
    mean_y = sum(p[2] for p in points) / count
    spread = sum((p[0] - mean_t) ** 2 for p in points)
    vx = sum((p[0] - mean_t) * (p[1] - mean_x) for p in points) / spread if spread else 0.0
    vy = sum((p[0] - mean_t) * (p[2] - mean_y) for p in points) / spread if spread else 0.0
    line = Line(mean_t, mean_x, mean_y, vx, vy, 0.0)
    misses = sum(distance(line.at(p[0]), (p[1], p[2])) ** 2 for p in points)
    return Line(mean_t, mean_x, mean_y, vx, vy, misses / count)


def misfit(before: Sequence[Sample], after: Sequence[Sample]) -> float:
    """How badly a walk up to an instant and one from it join up into one straight walk: the squared
    misses (m²) of a line fitted through both."""
    line = fit_line([*before, *after])
    return math.inf if line is None else line.residual * (len(before) + len(after))


@dataclass
class Track:
    """One tracker id: its samples in time order and the person it follows now."""

    track_id: str
    person_id: str
    samples: list[Sample] = field(default_factory=list)
    looks: list[Sighting] = field(default_factory=list)  # the samples whose look was seen, in time order

    @property
    def first_t(self) -> float:
        return self.samples[0][0]

    @property
    def last_t(self) -> float:
        return self.samples[-1][0]

    @property
    def first_position(self) -> Point:
        return self.samples[0][1], self.samples[0][2]

    @property
    def last_position(self) -> Point:
        return self.samples[-1][1], self.samples[-1][2]

    def add(self, sample: Sample) -> None:
        """Append in time order; a late sample is slotted in, a repeated instant is ignored."""
        if sample[0] > self.last_t:
            self.samples.append(sample)
            return
        index = bisect.bisect_left(self.samples, sample[0], key=lambda kept: kept[0])
        if self.samples[index][0] != sample[0]:
            self.samples.insert(index, sample)

    def between(self, start: float, end: float) -> list[Sample]:
        """Samples with ``start <= t < end``."""
        return _between(self.samples, start, end)

    def add_look(self, sighting: Sighting) -> None:
        """Keep a sample's look; like :meth:`add`, a late one is slotted in, a repeat ignored."""
        index = bisect.bisect_left(self.looks, sighting[0], key=lambda kept: kept[0])
        if index == len(self.looks) or self.looks[index][0] != sighting[0]:
            self.looks.insert(index, sighting)

    def drop_look(self, at: float) -> None:
        index = bisect.bisect_left(self.looks, at, key=lambda kept: kept[0])
        if index < len(self.looks) and self.looks[index][0] == at:
            del self.looks[index]

    def looks_between(self, start: float, end: float) -> list[Sighting]:
        return _between(self.looks, start, end)

    def start_velocity(self, motion_s: float) -> Point:
        return _velocity(self.between(self.first_t, self.first_t + motion_s))

    def end_velocity(self, motion_s: float) -> Point:
        return _velocity(self.between(self.last_t - motion_s, math.inf))


def _between(timed: list[Timed], start: float, end: float) -> list[Timed]:
    """The items of a time-ordered list (time first) with ``start <= t < end``."""
    low = bisect.bisect_left(timed, start, key=lambda kept: kept[0])
    high = bisect.bisect_left(timed, end, key=lambda kept: kept[0])
    return timed[low:high]


@dataclass(frozen=True)
class Look:
    """How someone looked over a few sightings: the median of each colour channel (a few frames where
    the person blurred into a neighbour barely move it) and the mean appearance, each None if unseen."""

    colour: Colour | None
    appearance: Appearance | None = None


Looks = tuple[Look | None, Look | None]  # how each of two ids' people looked (None: not seen)


def typical_look(sightings: Sequence[Sighting]) -> Look | None:
    colours = [colour for _, colour, _ in sightings if colour is not None]
    appearances = [appearance for _, _, appearance in sightings if appearance is not None]
    if not colours and not appearances:
        return None
    median: Colour | None = None
    if colours:
        channels = [statistics.median(colour[channel] for colour in colours) for channel in range(3)]
        median = (channels[0], channels[1], channels[2])
    return Look(median, mean_appearance(appearances) if appearances else None)


def _same_look_odds(distance: float, noise: float, params: FusionParams) -> float:
    """Log-likelihood (up to a constant) that two looks this far apart are one person's. Looks that
    differ far beyond the noise are as unlikely however far apart: when a third person took an id over,
    neither of two ids' looks match, and that says nothing about whether the two swapped."""
    return math.log(math.exp(-(distance**2) / (2 * noise**2)) + params.other_look)


def went_on_as_odds(look: Look, kept: Look, swapped: Look, params: FusionParams) -> float | None:
    """Log-odds that ``look`` is the person of ``swapped`` rather than of ``kept``: by appearance where
    all three show one (it tells apart people one mean colour does not), else by colour; None if the
    three share neither."""
    if look.appearance is not None and kept.appearance is not None and swapped.appearance is not None:
        noise = params.look_noise_appearance
        to_swapped = appearance_distance(look.appearance, swapped.appearance)
        to_kept = appearance_distance(look.appearance, kept.appearance)
    elif look.colour is not None and kept.colour is not None and swapped.colour is not None:
        noise = params.look_noise_lab
        to_swapped, to_kept = math.dist(look.colour, swapped.colour), math.dist(look.colour, kept.colour)
    else:
        return None
    return _same_look_odds(to_swapped, noise, params) - _same_look_odds(to_kept, noise, params)


def swap_odds_from_looks(befores: Looks, afters: Looks, params: FusionParams) -> float:
    """Log-odds that two ids swapped people between ``befores`` and ``afters`` (each id's look then, None
    if not seen): an id whose look turned into the other id's look was swapped, one that kept its look
    was not. With one look missing, the others decide; with too few, nothing is known (0)."""
    one_before, other_before = befores
    one_after, other_after = afters
    journeys: list[tuple[Look | None, Look, Look]] = []
    if one_after is not None and other_after is not None:  # whom each look before went on as
        journeys = [(one_before, one_after, other_after), (other_before, other_after, one_after)]
    elif one_before is not None and other_before is not None:  # whom each look after came from
        journeys = [(one_after, one_before, other_before), (other_after, other_before, one_before)]
    odds = (went_on_as_odds(look, kept, swapped, params) for look, kept, swapped in journeys if look)
    return sum(term for term in odds if term is not None)


def _velocity(samples: list[Sample]) -> Point:
    """Average velocity from the first to the last of a few samples."""
    if len(samples) < 2 or samples[-1][0] <= samples[0][0]:
        return 0.0, 0.0
    span = samples[-1][0] - samples[0][0]
    return (samples[-1][1] - samples[0][1]) / span, (samples[-1][2] - samples[0][2]) / span


@dataclass
class Person:
    """One shopper across tracker ids: ``pieces`` are (from epoch s, track id) in time order."""

    person_id: str
    pieces: list[Piece]
    visit_id: str | None = None

    @property
    def track_id(self) -> str:
        """The id the tracker follows this person under now."""
        return self.pieces[-1][1]

    @property
    def since(self) -> float:
        return self.pieces[0][0]

    def spans(self, start: float, end: float) -> Iterator[tuple[str, float, float]]:
        """(track id, from, until) of the pieces overlapping ``[start, end)``."""
        bounds = [piece[0] for piece in self.pieces[1:]] + [math.inf]
        for (begin, track_id), until in zip(self.pieces, bounds, strict=True):
            if begin < end and until > start:
                yield track_id, max(begin, start), min(until, end)

    def split_at(self, at: float) -> tuple[list[Piece], list[Piece]]:
        """Pieces before ``at`` and from ``at`` on; the id followed at ``at`` continues from ``at``."""
        before = [piece for piece in self.pieces if piece[0] < at]
        after = [piece for piece in self.pieces if piece[0] >= at]
        if before and (not after or after[0][0] > at):
            after.insert(0, (at, before[-1][1]))
        return before, after


def split_passes(gaps: list[Gap], params: FusionParams) -> list[list[Gap]]:
    """Two people's relative positions (time order) cut into passes: runs of consecutive frames."""
    passes: list[list[Gap]] = []
    for gap in gaps:
        if passes and gap[0] - passes[-1][-1][0] <= params.frame_s:
            passes[-1].append(gap)
        else:
            passes.append([gap])
    return passes


def closest(close_pass: list[Gap], params: FusionParams) -> tuple[float, list[tuple[float, float]]]:
    """How likely the two people truly came within ``swap_m`` during a pass, and the frames where the
    tracker may have swapped their ids, each with its prior: the chance that the two came that close
    there for the first time in the pass (where a tracker swaps), and seldom a later time (someone else
    came by).

    A frame's closeness comes from a straight line fitted to the relative position over the widest
    window of neighbouring frames it fits (people standing side by side, or walking straight past each
    other), which averages the tracker's noise out without blurring a real approach; the frame's own
    gap counts only as far as it stands off that line beyond the noise (a brief brush the line smooths
    away). In a long pass the tracker's noise alone brings some frame within ``swap_m`` now and then:
    taken at its word, that frame would pass for the first close one and draw the swap to it.
    """
    likeliest = (0.0, close_pass[0][0])
    frames: list[tuple[float, float]] = []
    not_yet = 1.0  # probability the two had not come that close earlier in the pass
    for index, (at, dx, dy) in enumerate(close_pass):
        (fx, fy), (nx, ny), count = _fitted_gap(close_pass, index, params)
        own = _closeness(math.hypot(dx, dy), params.swap_m, params.swap_noise_m)
        fitted = _closeness(math.hypot(fx, fy), params.swap_m, params.swap_noise_m / math.sqrt(count))
        off_line = _off_line(math.hypot(dx - nx, dy - ny), count, params)
        closeness = off_line * own + (1.0 - off_line) * fitted
        if closeness > likeliest[0]:
            likeliest = (closeness, at)
        if closeness >= params.swap_frame_min:
            frames.append((at, closeness * max(not_yet, params.late_swap)))
        not_yet *= 1.0 - closeness
    return likeliest[0], frames or [(likeliest[1], 1.0)]


def _closeness(gap: float, swap_m: float, noise: float) -> float:
    """Probability that two people measured ``gap`` apart (with this noise) were within ``swap_m``."""
    return 0.5 * (1.0 + math.erf((swap_m - gap) / (noise * math.sqrt(2.0))))


def _off_line(miss: float, count: int, params: FusionParams) -> float:
    """How likely a frame that misses the line through its ``count - 1`` neighbours by ``miss`` metres
    truly stood off it (a step aside the line does not follow) rather than the tracker's noise put it
    there: the noise's 2-D spread of that miss against a step landing anywhere in the pass's box, one
    frame in ``off_line_frames`` doing so."""
    if count <= 2:
        return 1.0
    spread = params.swap_noise_m**2 * (1.0 + 1.0 / (count - 1))  # the frame's noise and the line's
    noise = math.exp(-(miss**2) / (2.0 * spread)) / (2.0 * math.pi * spread)
    step = 1.0 / (2.0 * params.pass_m) ** 2
    prior = 1.0 / params.off_line_frames
    return prior * step / (prior * step + (1.0 - prior) * noise)


def _within_noise(residual: float, count: int, params: FusionParams) -> bool:
    """Whether a line's mean squared miss over ``count`` frames is no more than the tracker's noise
    alone makes but once in a hundred fits (a chi-square over both axes, two values fitted on each):
    people who stand or walk straight stay on the line, a turn or a step aside strays further. A
    bound nearer the noise's mean would let one noisy neighbour break up the window of a long stand,
    leaving a frame to the few frames about it."""
    freedom = 2 * (count - 2)
    if freedom <= 0:
        return True
    share = 2.0 / (9.0 * freedom)  # Wilson and Hilferty's cube-root normal for the chi-square
    bound = freedom * (1.0 - share + params.line_noise_z * math.sqrt(share)) ** 3
    return residual * count <= bound * params.swap_noise_m**2


def _fitted_gap(close_pass: list[Gap], index: int, params: FusionParams) -> tuple[Point, Point, int]:
    """The relative position at one frame on a line fitted over the widest window of frames whose
    other frames fit one (the frame itself may be a step aside), the same from those other frames
    alone (what they foretell of this one), and the window's size."""
    at, dx, dy = close_pass[index]
    for half in params.fit_half_windows:
        window = close_pass[max(index - half, 0) : index + half + 1]
        others = fit_line([gap for gap in window if gap[0] != at])
        if others is None:
            break
        if half == params.fit_half_windows[-1] or (
            len(window) == 2 * half + 1 and _within_noise(others.residual, len(window) - 1, params)
        ):
            line = fit_line(window)
            assert line is not None  # it has one frame more than ``others``
            return line.at(at), others.at(at), len(window)
    return (dx, dy), (dx, dy), 1
