"""The ceiling camera pipeline: frames → people → tracks on the floor plan → ``camera.tracks`` events.

One :class:`CeilingPipeline` per camera stream. It primes the detector on the opening frames,
detects people in every frame, maps their foot points to floor-plan metres through the camera's
homography and steps the tracker. Its results lag the stream by the few frames a new track takes
to be confirmed, so that a track is reported from its first sighting (where someone came in).
:func:`camera_track_events` samples the tracks at a few Hz into the ``camera.tracks`` contract,
with the zone under each position. Frames pass through and are dropped; nothing of them but the
positions leaves.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import chain, islice
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ingestion.camera.calibration import Calibration, calibrate
from ingestion.camera.config import (
    CameraConfig,
    DetectorConfig,
    DetectorKind,
    ForegroundDetectorConfig,
    TrackerConfig,
    TrainedDetectorConfig,
    load_camera_config,
)
from ingestion.camera.detect import Colour, Detection, make_detector
from ingestion.camera.overlay import FrameSink, TrackMark, draw_people, drawn_frames
from ingestion.camera.tracker import Bounds, MultiObjectTracker, TrackedPosition
from ingestion.camera.video import Frame, open_video
from walkout.catalog import CatalogError, load_catalog
from walkout.contracts import CameraTrack, make_event_id

EVENT_HZ = 2.0


@dataclass(frozen=True)
class FrameTracks:
    """What the pipeline made of one frame: the people it detected and the tracks it reports."""

    index: int
    detections: tuple[Detection, ...]
    positions: tuple[TrackedPosition, ...]


@dataclass(frozen=True)
class TrackingRun:
    """A whole video through the pipeline, with how fast it went."""

    frames: list[FrameTracks]
    video_fps: float
    seconds: float
    calibrated: bool

    @property
    def fps(self) -> float:
        """Frames processed per second of wall time (decoding included)."""
        return len(self.frames) / self.seconds if self.seconds > 0 else 0.0

    @property
    def tracks(self) -> int:
        return len({position.track_id for frame in self.frames for position in frame.positions})

    def summary(self) -> dict[str, Any]:
        return {
            "frames": len(self.frames),
            "fps": round(self.fps, 1),
            "video_fps": round(self.video_fps, 3),
            "tracks": self.tracks,
            "calibrated": self.calibrated,
            "detections_per_frame": [len(frame.detections) for frame in self.frames],
        }


class CeilingPipeline:
    """Detector, homography and tracker of one camera stream; ``detector`` overrides the config's."""

    def __init__(
        self,
        config: CameraConfig | None,
        fps: float,
        frame_size: tuple[int, int],
        detector: DetectorConfig | None = None,
    ) -> None:
        self.config = config
        self.fps = fps
        self.calibration = calibrate(config) if config else Calibration.uncalibrated()
        detector_config = detector or (config.detector if config else TrainedDetectorConfig())
        self.ignored = [np.array(region, np.float32) for region in config.ignored_regions] if config else []
        self.opening_frames = (
            round(detector_config.prime_s * fps)
            if isinstance(detector_config, ForegroundDetectorConfig)
            else 0
        )
        self.detector = make_detector(detector_config, self.calibration, fps)
        self.bounds = self._floor_bounds(frame_size)
        self.tracker = MultiObjectTracker(
            config.tracker if config else TrackerConfig(), 1.0 / fps, self.bounds
        )
        self.busy_s = 0.0  # time spent detecting and tracking (not reading frames)

    def run(self, frames: Iterable[Frame]) -> Iterator[FrameTracks]:
        """Track a stream of frames (BGR), one result per frame, in order."""
        stream = iter(frames)
        opening = list(islice(stream, self.opening_frames))
        self.detector.prime(opening)
        held: deque[FrameTracks] = deque()  # the frames a new track may still be reported in
        for index, frame in enumerate(chain(opening, stream)):
            if index == len(opening):
                opening.clear()  # the opening frames go as soon as they are processed
            started = time.perf_counter()
            found = self.detector.detect(frame, self.calibration.to_image(self.tracker.expected()))
            detections = [d for d in found if not self._ignored(d.foot_px)]
            feet = self.calibration.to_floor(np.array([d.foot_px for d in detections]).reshape(-1, 2))
            colours = np.array([d.colour or (np.nan,) * 3 for d in detections]).reshape(-1, 3)
            appearances = [d.appearance for d in detections]
            positions = self.tracker.step(feet, colours, appearances)
            held.append(FrameTracks(index, tuple(detections), tuple(positions)))
            _report_first_sightings(held, self.tracker.confirmed)
            self.busy_s += time.perf_counter() - started
            if len(held) >= self.tracker.config.min_hits:
                yield held.popleft()
        yield from held

    def _ignored(self, foot_px: tuple[float, float]) -> bool:
        """Whether a detection stands in one of the camera's ignored regions (a post, a poster)."""
        return any(cv2.pointPolygonTest(region, foot_px, False) >= 0 for region in self.ignored)

    def _floor_bounds(self, frame_size: tuple[int, int]) -> Bounds:
        """The floor the view covers (its corners on the floor plan), cut to the store's floor if known."""
        width, height = frame_size
        corners = self.calibration.to_floor(np.array([[0, 0], [width, 0], [width, height], [0, height]]))
        x0, y0 = corners.min(axis=0)
        x1, y1 = corners.max(axis=0)
        if self.config is not None and self.calibration.calibrated:
            try:
                store = load_catalog().store(self.config.store_id)
            except CatalogError:
                return float(x0), float(y0), float(x1), float(y1)
            return (
                max(float(x0), 0.0),
                max(float(y0), 0.0),
                min(float(x1), store.width_m),
                min(float(y1), store.depth_m),
            )
        return float(x0), float(y0), float(x1), float(y1)


def _report_first_sightings(
    held: deque[FrameTracks], confirmed: dict[int, list[tuple[float, float]]]
) -> None:
    """Add the tracks confirmed in the newest held frame to the held frames before it, where they
    were first seen."""
    for track_id, sightings in confirmed.items():
        earlier = range(len(held) - 1 - len(sightings), len(held) - 1)
        for slot, (x, y) in zip(earlier, sightings, strict=True):
            if slot >= 0:
                frame = held[slot]
                seen = TrackedPosition(track_id, x, y, True)
                held[slot] = replace(frame, positions=(*frame.positions, seen))


def track_video(
    source: str,
    config_path: Path | None = None,
    detector: DetectorKind | None = None,
    draw: Path | None = None,
) -> TrackingRun:
    """Run the ceiling pipeline over a video file, URL or device (the ``walkout vision track`` job):
    with the config's detector unless ``detector`` names another kind, drawing what it sees into
    ``draw`` if given."""
    config = load_camera_config(config_path) if config_path is not None else None
    chosen = config.detector if config else None
    if detector is not None and (chosen is None or chosen.kind != detector):
        chosen = TrainedDetectorConfig() if detector is DetectorKind.TRAINED else ForegroundDetectorConfig()
    with open_video(source) as video:
        pipeline = CeilingPipeline(config, video.fps, video.frame_size, chosen)
        started = time.perf_counter()
        if draw is None:
            frames = list(pipeline.run(video.frames()))
        else:
            with drawn_frames(draw, video.fps, video.frame_size) as sink:
                frames = list(_drawn(pipeline, video.frames(), sink))
        seconds = time.perf_counter() - started
    return TrackingRun(frames, video.fps, seconds, pipeline.calibration.calibrated)


def _drawn(pipeline: CeilingPipeline, frames: Iterable[Frame], sink: FrameSink) -> Iterator[FrameTracks]:
    """The pipeline's results, each frame drawn with them as it comes out (the pipeline holds results
    back a few frames, so the frames wait for them here)."""
    waiting: deque[Frame] = deque()

    def kept(stream: Iterable[Frame]) -> Iterator[Frame]:
        for frame in stream:
            waiting.append(frame)
            yield frame

    for result in pipeline.run(kept(frames)):
        at = pipeline.calibration.to_image(np.array([(p.x, p.y) for p in result.positions]).reshape(-1, 2))
        marks = [
            TrackMark(position.track_id, (float(u), float(v)), position.detected)
            for position, (u, v) in zip(result.positions, at.tolist(), strict=True)
        ]
        sink(result.index, draw_people(waiting.popleft(), result.detections, marks))
        yield result


def camera_track_events(
    frames: Iterable[FrameTracks],
    pipeline: CeilingPipeline,
    started_at: datetime,
    hz: float = EVENT_HZ,
) -> list[CameraTrack]:
    """The tracks as ``camera.tracks`` events, sampled at ``hz`` (frame 0 is ``started_at``)."""
    if pipeline.config is None or not pipeline.calibration.calibrated:
        raise ValueError("camera.tracks events need a calibrated camera (reference points in its config)")
    config = pipeline.config
    every = max(1, round(pipeline.fps / hz))
    run_tag = started_at.strftime("%Y%m%d%H%M%S")
    x0, y0, x1, y1 = pipeline.bounds
    events: list[CameraTrack] = []
    for frame in frames:
        if frame.index % every:
            continue
        at = started_at + timedelta(seconds=frame.index / pipeline.fps)
        for position in frame.positions:
            track_id = f"{config.camera_id}-{run_tag}-{position.track_id:05d}"
            x = min(max(position.x, x0), x1 - 0.01)
            y = min(max(position.y, y0), y1 - 0.01)
            events.append(
                CameraTrack(
                    event_id=make_event_id("track", config.store_id, track_id, round(at.timestamp(), 3)),
                    store_id=config.store_id,
                    ts=at,
                    camera_id=config.camera_id,
                    track_id=track_id,
                    x_m=round(x, 2),
                    y_m=round(y, 2),
                    zone_id=pipeline.calibration.zone_at(x, y),
                    colour_lab=_rounded(position.colour),
                    appearance=position.appearance,
                )
            )
    return events


def _rounded(colour: Colour | None) -> Colour | None:
    return None if colour is None else (round(colour[0], 1), round(colour[1], 1), round(colour[2], 1))
