"""The real ceiling pipeline watching a whole store-day of the twin: the ``camera.tracks`` it reports.

The twin's shoppers are drawn top-down (:mod:`twin.render`) from their exact walks,
only while someone is in the store, and each such spell of frames goes through the real ceiling
pipeline (:class:`CeilingPipeline` with the camera's calibration). A spell opens on the empty store
(the background model primes on it) and closes once the last tracks have ended, so nothing carries
over the empty stretches in between. Frames live in memory one at a time; none is written anywhere.
Rendered frames have no faces, so the entrance camera stays the twin's stand-in
(:func:`twin.sensors.entrance_estimate`), handed to the track that starts at the gate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime

import polars as pl

from ingestion.camera.ceiling import CeilingPipeline, camera_track_events
from ingestion.camera.config import CameraConfig, ForegroundDetectorConfig, TrackerConfig
from twin.render import CeilingRenderer, camera_config, ceiling_camera, walks
from twin.sensors import ENTRANCE_CAMERA_S, entrance_estimate
from twin.trips import PlannedVisit
from walkout.catalog import Store
from walkout.contracts import CameraTrack
from walkout.vocabulary import AgeBand, Gender

DAY_FPS = 4.0
"""Frames a second for a whole day: tracks are sent at 2 Hz, and tracking holds up this slow."""
LEAD_S = ForegroundDetectorConfig().prime_s + 1.0
"""Empty store filmed before someone comes in: the background primes on its opening seconds."""
TAIL_S = TrackerConfig().max_coast_s + 1.0
"""Store filmed after the last one left: a track lost inside coasts this long before it ends."""
SEND_DELAY_S = 0.05
"""From the frame a track event is released in to the event leaving the camera edge."""
HANDOFF_M = 1.5
"""How far a new ceiling track may start from where a shopper stepped in and still be theirs."""


def film_store_day(
    store: Store, visits: Iterable[PlannedVisit], fps: float = DAY_FPS, seed: int = 0
) -> list[tuple[float, CameraTrack]]:
    """What the ceiling pipeline reports for the day's visits: ``camera.tracks`` events, each with the
    instant it leaves the camera edge (the pipeline releases a frame once new tracks in it are sure).
    ``seed`` draws the rendered frames' sensor noise."""
    camera = ceiling_camera(store)
    config = camera_config(camera)  # installed once: the same calibration every day
    paths = walks(visits)
    renderer = CeilingRenderer(camera, paths, seed)
    held_s = (config.tracker.min_hits - 1) / fps + SEND_DELAY_S
    tracks = [
        track
        for start, end in occupied_spells(paths)
        for track in film_spell(renderer, config, start, end - start, fps)
    ]
    return [(track.ts.timestamp() + held_s, track) for track in with_entrance_estimates(tracks, visits)]


def with_entrance_estimates(tracks: list[CameraTrack], visits: Iterable[PlannedVisit]) -> list[CameraTrack]:
    """The entrance camera's guess of each shopper handed to the ceiling track that starts where and
    when they came in (within ``HANDOFF_M`` of their first step), on its first ``ENTRANCE_CAMERA_S``."""
    arrivals = [
        (trip.waypoints[0][0], trip.waypoints[0][1], trip.waypoints[0][2], entrance_estimate(trip.person))
        for visit in visits
        for trip in visit.trips
    ]
    starts: dict[str, float] = {}
    handed: dict[str, tuple[AgeBand, Gender, float] | None] = {}
    tagged: list[CameraTrack] = []
    for track in sorted(tracks, key=lambda t: t.ts):
        at = track.ts.timestamp()
        if track.track_id not in starts:
            starts[track.track_id] = at
            near = [
                (math.hypot(x - track.x_m, y - track.y_m), estimate)
                for came_at, x, y, estimate in arrivals
                if abs(came_at - at) <= ENTRANCE_CAMERA_S
            ]
            closest = min(near, key=lambda pair: pair[0], default=None)
            handed[track.track_id] = closest[1] if closest and closest[0] <= HANDOFF_M else None
        estimate = handed[track.track_id]
        if estimate is not None and at - starts[track.track_id] < ENTRANCE_CAMERA_S:
            band, gender, confidence = estimate
            track = track.model_copy(
                update={"age_band": band, "gender": gender, "demographic_confidence": confidence}
            )
        tagged.append(track)
    return tagged


def film_spell(
    renderer: CeilingRenderer, config: CameraConfig, start: float, seconds: float, fps: float
) -> list[CameraTrack]:
    """The ``camera.tracks`` of one spell (from epoch s ``start``, ``seconds`` long), by a fresh pipeline."""
    pipeline = CeilingPipeline(config, fps, renderer.camera.size)
    frames = renderer.frames(start, seconds, fps)
    tracked = pipeline.run(frame.image for frame in frames)
    return camera_track_events(tracked, pipeline, datetime.fromtimestamp(start, UTC))


def occupied_spells(paths: pl.DataFrame) -> list[tuple[float, float]]:
    """(start, end) epoch s of the spells with someone in the store, from ``LEAD_S`` before the first
    comes in (on a whole second) to ``TAIL_S`` after the last one left; spells closer than that merge."""
    stays = (
        paths.group_by("person_id")
        .agg(
            pl.col("at").min().dt.epoch("ms").alias("first"), pl.col("at").max().dt.epoch("ms").alias("last")
        )
        .sort("first")
    )
    spells: list[tuple[float, float]] = []
    for first_ms, last_ms in stays.select("first", "last").iter_rows():
        start, end = float(math.floor(first_ms / 1000 - LEAD_S)), last_ms / 1000 + TAIL_S
        if spells and start <= spells[-1][1]:
            spells[-1] = (spells[-1][0], max(spells[-1][1], end))
        else:
            spells.append((start, end))
    return spells
