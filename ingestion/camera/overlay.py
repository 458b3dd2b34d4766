"""What the ceiling pipeline sees, drawn on its frames for a person to check: each detection's box and
foot point, and each reported track's id where the tracker places it (hollow while it coasts).

This is the one place frames are written to disk, and only when a user asks for it on their own video
(``walkout vision track --draw``): an ``.mp4`` file, or a folder of numbered PNGs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2

from ingestion.camera import CameraError
from ingestion.camera.detect import Detection
from ingestion.camera.video import Frame

BOX = (80, 220, 80)  # BGR
TRACK = (40, 40, 230)
FrameSink = Callable[[int, Frame], object]
"""Takes a drawn frame and its index in the video."""


@dataclass(frozen=True)
class TrackMark:
    """A reported track in one frame, in image pixels."""

    track_id: int
    at_px: tuple[float, float]
    detected: bool


def draw_people(frame: Frame, detections: Sequence[Detection], tracks: Sequence[TrackMark]) -> Frame:
    """A copy of the frame with the detections' boxes and foot points and the tracks' ids drawn."""
    canvas = frame.copy()
    for detection in detections:
        x, y, width, height = detection.box
        cv2.rectangle(canvas, (x, y), (x + width, y + height), BOX, 1)
        cv2.circle(canvas, _pixel(detection.foot_px), 3, BOX, -1)
    for track in tracks:
        at = _pixel(track.at_px)
        cv2.circle(canvas, at, 6, TRACK, -1 if track.detected else 1)
        cv2.putText(
            canvas, str(track.track_id), (at[0] + 7, at[1] - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.5, TRACK, 2
        )
    return canvas


@contextmanager
def drawn_frames(out: Path, fps: float, frame_size: tuple[int, int]) -> Iterator[FrameSink]:
    """Somewhere to write drawn frames: an ``.mp4`` video, or else a folder of ``frame_NNNNN.png``."""
    if out.suffix.lower() == ".mp4":
        writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), fps, frame_size)
        if not writer.isOpened():
            raise CameraError(f"cannot write a video at {out} (does its folder exist?)")
        try:
            yield lambda index, frame: writer.write(frame)
        finally:
            writer.release()
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CameraError(f"cannot make a folder for drawn frames at {out}: {error.strerror}") from None

    def write_png(index: int, frame: Frame) -> None:
        if not cv2.imwrite(str(out / f"frame_{index:05d}.png"), frame):
            raise CameraError(f"cannot write drawn frames into {out}")

    yield write_png


def _pixel(point: tuple[float, float]) -> tuple[int, int]:
    return round(point[0]), round(point[1])
