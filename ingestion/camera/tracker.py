"""Following people from frame to frame on the floor plan: Kalman prediction + Hungarian assignment.

Each track carries a constant-velocity Kalman filter (``cv2.KalmanFilter``) in floor metres and the
colour its person shows from above. Every frame the filters predict, detections are assigned to
predictions by the Hungarian method (``scipy.optimize.linear_sum_assignment``) on their distance
plus how different they look (``colour_m`` on the mean colour, ``appearance_m`` on the upper and lower
body's colour histograms, :mod:`walkout.appearance`: so two shoppers who stood together or walked under
a light fixture are not swapped when they part), and an assignment is accepted only inside the
prediction's uncertainty (a Mahalanobis gate) and ``gate_m``.

* **entries**: an unassigned detection starts a tentative track, reported once it has been seen
  ``min_hits`` frames in a row (noise rarely lasts that long); :attr:`MultiObjectTracker.confirmed`
  then holds where it was in the frames before, so it can be reported from its first sighting;
* **occlusion**: a reported track that misses detections coasts on its prediction (reported as
  not detected) for up to ``max_coast_s``, and picks its person up again when they reappear;
* **exits**: a track lost within ``edge_m`` of the view's edge has left: it ends at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from ingestion.camera.config import TrackerConfig
from ingestion.camera.detect import Colour
from walkout.appearance import Appearance, appearance_distance

MAHALANOBIS_GATE = 13.8  # chi-square, 2 degrees of freedom, 99.9 %
UNASSIGNABLE = 1e6
INITIAL_SPEED_SD_MPS = 1.0
COLOUR_LEARNING = 0.1  # share of a new sighting's colour (and appearance) in the track's
Bounds = tuple[float, float, float, float]  # x0, y0, x1, y1 of the view on the floor


@dataclass(frozen=True)
class TrackedPosition:
    """Where a reported track is in one frame (floor metres); ``detected`` is False while coasting.
    ``colour`` and ``appearance`` are how its detection looked in this frame, None while coasting or
    unknown."""

    track_id: int
    x: float
    y: float
    detected: bool
    colour: Colour | None = None
    appearance: Appearance | None = None


@dataclass
class _Track:
    kalman: cv2.KalmanFilter
    hits: int = 1
    misses: int = 0
    track_id: int | None = None  # given when the track is first reported
    sightings: list[tuple[float, float]] = field(default_factory=list)  # while tentative, oldest first
    colour: npt.NDArray[np.float64] | None = None  # what the person looks like from above (CIELAB)
    seen: Colour | None = None  # the colour of this frame's detection, if any
    appearance: Appearance | None = None  # what the person looks like, learnt like ``colour``
    seen_appearance: Appearance | None = None  # the appearance of this frame's detection, if any

    @property
    def position(self) -> tuple[float, float]:
        state = self.kalman.statePost
        return float(state[0, 0]), float(state[1, 0])


class MultiObjectTracker:
    """Tracks of one camera; :meth:`step` takes a frame's foot points and returns its reported tracks."""

    def __init__(self, config: TrackerConfig, frame_interval_s: float, bounds: Bounds) -> None:
        self.config = config
        self.dt = frame_interval_s
        self.bounds = bounds
        self.tracks: list[_Track] = []
        self.reported = 0
        self.confirmed: dict[int, list[tuple[float, float]]] = {}
        """Tracks first reported by the last step: their positions in the frames before, oldest first."""
        self.transition = np.array(
            [[1, 0, self.dt, 0], [0, 1, 0, self.dt], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=np.float32
        )
        # White-noise acceleration: a walker may change velocity by about a·dt each frame.
        g = np.array([[self.dt**2 / 2, 0], [0, self.dt**2 / 2], [self.dt, 0], [0, self.dt]])
        self.process_noise = (g @ g.T * config.acceleration_mps2**2).astype(np.float32)
        self.measurement_noise = np.eye(2, dtype=np.float32) * np.float32(config.measurement_noise_m**2)

    def step(
        self,
        feet: npt.NDArray[np.float64],
        colours: npt.NDArray[np.float64] | None = None,
        appearances: Sequence[Appearance | None] | None = None,
    ) -> list[TrackedPosition]:
        """Advance one frame with the floor positions (N x 2 metres) of its detections and, if known,
        their colours (N x 3, CIELAB; NaN where unknown) and appearances (None where unknown)."""
        looks = np.full((len(feet), 3), np.nan) if colours is None else colours
        seen = list(appearances) if appearances is not None else [None] * len(feet)
        predictions = np.array([_predict(track.kalman) for track in self.tracks]).reshape(-1, 2)
        pairs = self._assign(predictions, feet, looks, seen)
        matched_tracks = {t for t, _ in pairs}
        matched_feet = {d for _, d in pairs}
        for t, d in pairs:
            track = self.tracks[t]
            track.kalman.correct(feet[d].astype(np.float32).reshape(2, 1))
            track.hits += 1
            track.misses = 0
            track.seen = _sighting(looks[d])
            _learn_colour(track, looks[d])
            track.seen_appearance = seen[d]
            _learn_appearance(track, seen[d])
            if track.track_id is None:
                track.sightings.append(track.position)
        for t, track in enumerate(self.tracks):
            if t not in matched_tracks:
                track.misses += 1  # OpenCV's predict() already made the prediction its posterior
        self.tracks = [track for track in self.tracks if self._alive(track)]
        self.tracks += [
            self._start(feet[d], looks[d], seen[d]) for d in range(len(feet)) if d not in matched_feet
        ]
        return self._report()

    def expected(self) -> npt.NDArray[np.float64]:
        """Where the people detected in the last frame should be in the next one (N x 2 metres)."""
        states = [
            track.kalman.statePost for track in self.tracks if track.track_id is not None and not track.misses
        ]
        ahead = [self.transition @ state for state in states]
        return np.array([(float(state[0, 0]), float(state[1, 0])) for state in ahead]).reshape(-1, 2)

    def _assign(
        self,
        predictions: npt.NDArray[np.float64],
        feet: npt.NDArray[np.float64],
        looks: npt.NDArray[np.float64],
        appearances: list[Appearance | None],
    ) -> list[tuple[int, int]]:
        """Track index ↔ detection index pairs: least total distance and difference in looks, each pair
        inside its gates."""
        if len(predictions) == 0 or len(feet) == 0:
            return []
        offsets = feet[None, :, :] - predictions[:, None, :]
        distance = np.linalg.norm(offsets, axis=2)
        allowed = distance <= self.config.gate_m
        cost = distance.copy()
        for t, track in enumerate(self.tracks):
            innovation = track.kalman.errorCovPre[:2, :2] + self.measurement_noise
            mahalanobis = np.einsum("ni,ij,nj->n", offsets[t], np.linalg.inv(innovation), offsets[t])
            allowed[t] &= mahalanobis <= MAHALANOBIS_GATE
            if track.colour is not None:
                unlike = np.linalg.norm(looks - track.colour, axis=1)
                cost[t] += self.config.colour_m * np.nan_to_num(unlike, nan=0.0)
            if track.appearance is not None:
                known = track.appearance
                unlike = [0.0 if look is None else appearance_distance(known, look) for look in appearances]
                cost[t] += self.config.appearance_m * np.array(unlike)
        rows, cols = linear_sum_assignment(np.where(allowed, cost, UNASSIGNABLE))
        return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if allowed[r, c]]

    def _alive(self, track: _Track) -> bool:
        if track.misses == 0:
            return True
        if track.track_id is None:  # a tentative track must be seen in every frame until reported
            return False
        x, y = track.position
        x0, y0, x1, y1 = self.bounds
        edge = self.config.edge_m
        at_edge = not (x0 + edge <= x <= x1 - edge and y0 + edge <= y <= y1 - edge)
        return not at_edge and track.misses * self.dt <= self.config.max_coast_s

    def _start(
        self, foot: npt.NDArray[np.float64], look: npt.NDArray[np.float64], appearance: Appearance | None
    ) -> _Track:
        kalman = cv2.KalmanFilter(4, 2)
        kalman.transitionMatrix = self.transition.copy()
        kalman.measurementMatrix = np.eye(2, 4, dtype=np.float32)
        kalman.processNoiseCov = self.process_noise.copy()
        kalman.measurementNoiseCov = self.measurement_noise.copy()
        kalman.statePost = np.array([[foot[0]], [foot[1]], [0.0], [0.0]], dtype=np.float32)
        r2, v2 = self.config.measurement_noise_m**2, INITIAL_SPEED_SD_MPS**2
        kalman.errorCovPost = np.diag([r2, r2, v2, v2]).astype(np.float32)
        return _Track(
            kalman,
            sightings=[(float(foot[0]), float(foot[1]))],
            colour=None if np.isnan(look).any() else look.astype(np.float64),
            seen=_sighting(look),
            appearance=appearance,
            seen_appearance=appearance,
        )

    def _report(self) -> list[TrackedPosition]:
        positions = []
        self.confirmed = {}
        for track in self.tracks:
            if track.track_id is None and track.hits >= self.config.min_hits:
                self.reported += 1
                track.track_id = self.reported
                self.confirmed[track.track_id] = track.sightings[:-1]
                track.sightings = []
            if track.track_id is not None:
                x, y = track.position
                detected = track.misses == 0
                positions.append(
                    TrackedPosition(track.track_id, x, y, detected)
                    if not detected
                    else TrackedPosition(track.track_id, x, y, True, track.seen, track.seen_appearance)
                )
        return positions


def _sighting(look: npt.NDArray[np.float64]) -> Colour | None:
    return None if np.isnan(look).any() else (float(look[0]), float(look[1]), float(look[2]))


def _learn_colour(track: _Track, look: npt.NDArray[np.float64]) -> None:
    if np.isnan(look).any():
        return
    track.colour = (
        look.copy() if track.colour is None else track.colour + COLOUR_LEARNING * (look - track.colour)
    )


def _learn_appearance(track: _Track, seen: Appearance | None) -> None:
    if seen is None:
        return
    if track.appearance is None:
        track.appearance = seen
        return
    known = np.asarray(track.appearance)
    learnt = known + COLOUR_LEARNING * (np.asarray(seen) - known)
    track.appearance = tuple(learnt.tolist())  # unrounded: rounding would stop slow learning


def _predict(kalman: cv2.KalmanFilter) -> tuple[float, float]:
    state = kalman.predict()
    return float(state[0, 0]), float(state[1, 0])
