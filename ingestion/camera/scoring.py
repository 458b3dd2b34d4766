"""How well tracks follow the people who were really there: MOTA, IDF1 and floor-position error.

Tracks and truth are matched per frame on the floor plan (metres) with motmetrics: a track within
``match_m`` of a person can be that person. MOTA counts misses, false tracks and identity switches
against the number of true positions; IDF1 is the share of positions carried by the right identity
over the whole clip; the position error is the median distance of the matched pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import motmetrics as mm  # type: ignore[import-untyped]
import numpy as np

from ingestion.camera.tracker import TrackedPosition

MATCH_M = 0.5
Truth = Sequence[tuple[str, float, float]]  # person id, x, y (metres) of everyone in a frame


@dataclass(frozen=True)
class TrackingScore:
    frames: int
    true_positions: int
    mota: float
    idf1: float
    id_switches: int
    false_positives: int
    misses: int
    median_error_m: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def score_tracking(
    truth: Sequence[Truth], tracks: Sequence[Sequence[TrackedPosition]], match_m: float = MATCH_M
) -> TrackingScore:
    """Score a clip: ``truth[i]`` and ``tracks[i]`` are frame ``i``'s people and reported tracks."""
    accumulator = mm.MOTAccumulator(auto_id=True)
    numbers: dict[str, int] = {}  # motmetrics wants numeric ids
    for people, positions in zip(truth, tracks, strict=True):
        true_xy = np.array([(x, y) for _, x, y in people], dtype=np.float64).reshape(-1, 2)
        track_xy = np.array([(p.x, p.y) for p in positions], dtype=np.float64).reshape(-1, 2)
        distances = mm.distances.norm2squared_matrix(true_xy, track_xy, max_d2=match_m**2)
        accumulator.update(
            [numbers.setdefault(person, len(numbers)) for person, _, _ in people],
            [p.track_id for p in positions],
            distances,
        )
    metrics = [
        "num_frames",
        "num_objects",
        "mota",
        "idf1",
        "num_switches",
        "num_false_positives",
        "num_misses",
    ]
    row = mm.metrics.create().compute(accumulator, metrics=metrics, name="clip").iloc[0]
    events = accumulator.mot_events
    matched = events[events["Type"].isin(["MATCH", "SWITCH"])]["D"].to_numpy(dtype=np.float64)
    return TrackingScore(
        frames=int(row["num_frames"]),
        true_positions=int(row["num_objects"]),
        mota=float(row["mota"]),
        idf1=float(row["idf1"]),
        id_switches=int(row["num_switches"]),
        false_positives=int(row["num_false_positives"]),
        misses=int(row["num_misses"]),
        median_error_m=float(np.sqrt(np.median(matched))) if len(matched) else float("nan"),
    )
