"""The tracker's subtle parts: global assignment, crossing walkers, occlusion, entries and exits."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ingestion.camera.config import TrackerConfig
from ingestion.camera.tracker import MultiObjectTracker, TrackedPosition
from walkout.appearance import Appearance, part_histogram, rounded

FPS = 15.0
FLOOR = (0.0, 0.0, 10.0, 10.0)


def tracker(**settings: float) -> MultiObjectTracker:
    return MultiObjectTracker(TrackerConfig(**settings), 1.0 / FPS, FLOOR)  # type: ignore[arg-type]


def step(tracks: MultiObjectTracker, *feet: tuple[float, float]) -> dict[int, TrackedPosition]:
    return step_looking(tracks, None, *feet)


def step_looking(
    tracks: MultiObjectTracker, colours: npt.NDArray[np.float64] | None, *feet: tuple[float, float]
) -> dict[int, TrackedPosition]:
    """One frame with these foot points and, if given, their colours (N x 3 CIELAB)."""
    return {p.track_id: p for p in tracks.step(np.array(feet, dtype=np.float64).reshape(-1, 2), colours)}


def test_assignment_minimises_the_total_distance_not_each_nearest() -> None:
    tracks = tracker()
    for _ in range(5):  # two people standing 0.6 m apart
        reported = step(tracks, (4.0, 5.0), (4.6, 5.0))
    left, right = sorted(reported, key=lambda track: reported[track].x)
    # Both step right by 0.35 m: greedy nearest-first would give the right-hand foot point at 4.95 to
    # the right track (0.35 m) and leave the left one 0.65 m from its only option.
    after = step(tracks, (4.35, 5.0), (4.95, 5.0))
    assert after[left].x < after[right].x
    assert after[left].x < 4.5 < after[right].x


def test_walkers_crossing_keep_their_ids() -> None:
    tracks = tracker()
    ids: dict[int, set[int]] = {0: set(), 1: set()}
    for frame in range(60):  # two shoppers walking toward each other along one aisle, 1.2 m/s
        t = frame / FPS
        a, b = (2.0 + 1.2 * t, 5.0), (7.0 - 1.2 * t, 5.1)
        reported = step(tracks, a, b)
        for track_id, position in reported.items():
            ids[0 if abs(position.x - a[0]) < abs(position.x - b[0]) else 1].add(track_id)
    assert len(ids[0]) == 1
    assert len(ids[1]) == 1
    assert ids[0] != ids[1]


def test_a_short_occlusion_keeps_the_id_and_coasts() -> None:
    tracks = tracker()
    before = {}
    for frame in range(10):
        before = step(tracks, (3.0 + 0.08 * frame, 5.0))
    (track_id,) = before
    for frame in range(10, 25):  # hidden under a light fixture for one second
        coasting = step(tracks)
        assert coasting[track_id].detected is False
        assert abs(coasting[track_id].x - (3.0 + 0.08 * frame)) < 0.25  # still walking on the prediction
    back = step(tracks, (3.0 + 0.08 * 25, 5.0))
    assert set(back) == {track_id}
    assert back[track_id].detected


def test_entries_need_a_few_frames_and_noise_never_shows() -> None:
    tracks = tracker(min_hits=3)
    assert step(tracks, (5.0, 5.0)) == {}  # a single flicker of foreground
    assert step(tracks) == {}
    assert step(tracks, (2.0, 2.0)) == {}
    assert step(tracks, (2.0, 2.05)) == {}
    (track_id,) = step(tracks, (2.0, 2.1))
    # where the new track was before it was sure: so it can be reported from its first sighting
    first, second = tracks.confirmed[track_id]
    assert first == (2.0, 2.0)
    assert abs(second[1] - 2.05) < 0.05
    assert step(tracks, (2.0, 2.15))
    assert tracks.confirmed == {}


def test_a_track_lost_at_the_edge_has_left_while_one_lost_inside_coasts() -> None:
    tracks = tracker(edge_m=0.6, max_coast_s=1.0)
    for _ in range(5):
        step(tracks, (5.0, 0.3), (5.0, 5.0))  # one at the entrance, one mid-store
    remaining = step(tracks)
    assert len(remaining) == 1
    assert next(iter(remaining.values())).y > 4.0
    for _ in range(int(FPS)):
        remaining = step(tracks)
    assert remaining == {}  # coasted for max_coast_s, then ended


def test_a_detection_too_far_from_any_prediction_is_someone_new() -> None:
    tracks = tracker(gate_m=1.0)
    for _ in range(4):
        first = step(tracks, (3.0, 3.0))
    for _ in range(4):
        jumped = step(tracks, (6.0, 3.0))
    assert set(jumped) - set(first), "the far detection became its own track"


def test_two_shoppers_who_stood_together_keep_their_ids_when_they_part_by_how_they_look() -> None:
    red, blue = (120.0, 180.0, 160.0), (100.0, 140.0, 70.0)  # CIELAB (8-bit) of their shirts from above
    for colours, kept in ((np.array([red, blue]), True), (None, False)):
        tracks = tracker()
        for _ in range(20):  # side by side at a shelf: A a little east of B
            reported = step_looking(tracks, colours, (5.02, 5.0), (4.98, 5.0))
        a, b = sorted(reported, key=lambda track: -reported[track].x)
        parted = step_looking(tracks, colours, (4.9, 5.0), (5.1, 5.0))  # A steps west, B east
        assert (parted[a].x < parted[b].x) is kept  # by distance alone, the nearer predictions swap them


def test_shoppers_of_one_mean_colour_keep_their_ids_when_they_part_by_their_appearance() -> None:
    """As above, but A wears navy over khaki and B khaki over navy: one mean colour, which cannot tell
    them apart when they part; the colour histograms of their upper and lower bodies can."""
    navy, khaki = (40.0, 130.0, 112.0), (160.0, 126.0, 154.0)  # CIELAB (8-bit)
    one_mean = np.array([(100.0, 128.0, 133.0)] * 2)
    a_looks = rounded(np.concatenate(part_histogram(np.array([navy, khaki]))))
    b_looks = rounded(np.concatenate(part_histogram(np.array([khaki, navy]))))
    for appearances, kept in (([a_looks, b_looks], True), (None, False)):
        tracks = tracker()
        for _ in range(20):  # side by side at a shelf: A a little east of B
            reported = step_dressed(tracks, appearances, one_mean, (5.02, 5.0), (4.98, 5.0))
        a, b = sorted(reported, key=lambda track: -reported[track].x)
        parted = step_dressed(tracks, appearances, one_mean, (4.9, 5.0), (5.1, 5.0))  # A steps west, B east
        assert (parted[a].x < parted[b].x) is kept
        assert (parted[a].appearance == a_looks) is kept


def step_dressed(
    tracks: MultiObjectTracker,
    appearances: list[Appearance] | None,
    colours: npt.NDArray[np.float64],
    *feet: tuple[float, float],
) -> dict[int, TrackedPosition]:
    """One frame with these foot points, their colours and, if given, their appearances."""
    positions = tracks.step(np.array(feet, dtype=np.float64).reshape(-1, 2), colours, appearances)
    return {p.track_id: p for p in positions}
