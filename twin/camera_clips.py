"""The ceiling pipeline scored end to end on the twin's rendered frames.

:func:`evaluate_tracking` simulates a store-day, renders a busy clip of its shoppers from the
ceiling, tracks it and compares the tracks with where everyone truly was (MOTA, IDF1, floor error).
The clip is a "rush hour" made of the day's own visits moved in time (see
:func:`twin.render.rush_hour`): busier than an average hour, every path planned.
(The pipeline as the checkout's input, for whole store-days: :mod:`twin.camera_day`.)

Frames are rendered and tracked one at a time; none is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from ingestion.camera.ceiling import CeilingPipeline
from ingestion.camera.scoring import TrackingScore, Truth, score_tracking
from ingestion.camera.video import Frame
from twin.render import (
    RenderedFrame,
    camera_config,
    ceiling_camera,
    render_frames,
    rush_hour,
    write_clip,
)
from twin.run import SimulationPlan, simulate_store_days
from walkout.catalog import load_catalog

EVALUATION_DAY = date(2026, 11, 18)


@dataclass(frozen=True)
class ClipRequest:
    """Which clip to render: store, seed of the simulated day, busy-ness, length and frame rate."""

    store_id: str = "S002"
    seed: int = 7
    visits: int = 12
    seconds: float = 60.0
    fps: float = 15.0


@dataclass(frozen=True)
class TrackingEvaluation:
    request: ClipRequest
    score: TrackingScore
    pipeline_fps: float

    def as_dict(self) -> dict[str, object]:
        return {
            **self.score.as_dict(),
            "pipeline_fps": round(self.pipeline_fps, 1),
            "store_id": self.request.store_id,
        }


def busy_paths(request: ClipRequest) -> tuple[pl.DataFrame, float]:
    """The true paths of the clip's shoppers and the clip's start (epoch s)."""
    plan = SimulationPlan((request.store_id,), EVALUATION_DAY, 1, request.seed)
    day = next(simulate_store_days(load_catalog(), plan))
    return rush_hour(day.truth.paths, request.visits, request.seconds, request.seed)


def evaluate_tracking(request: ClipRequest) -> TrackingEvaluation:
    """Render the clip, run the ceiling pipeline on it frame by frame, score the tracks (MOTA, IDF1)."""
    camera = ceiling_camera(load_catalog().store(request.store_id))
    paths, start = busy_paths(request)
    pipeline = CeilingPipeline(camera_config(camera, request.seed), request.fps, camera.size)
    truth: list[Truth] = []
    rendered = render_frames(camera, paths, start, request.seconds, request.fps, request.seed)
    outputs = [frame_tracks.positions for frame_tracks in pipeline.run(_images(rendered, truth))]
    return TrackingEvaluation(request, score_tracking(truth, outputs), len(outputs) / pipeline.busy_s)


def _images(frames: Iterator[RenderedFrame], truth: list[Truth]) -> Iterator[Frame]:
    for frame in frames:
        truth.append(frame.people)
        yield frame.image


def render_clip(request: ClipRequest, directory: Path) -> tuple[Path, Path]:
    """Write the clip as a video with its camera config and truth (``walkout vision render``)."""
    camera = ceiling_camera(load_catalog().store(request.store_id))
    paths, start = busy_paths(request)
    video, config, _ = write_clip(camera, paths, start, request.seconds, request.fps, directory, request.seed)
    return video, config
