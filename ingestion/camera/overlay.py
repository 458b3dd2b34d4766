"""What the cameras see, drawn on their frames for a person to check. Ceiling: each detection's box and
foot point, and each reported track's id where the tracker places it (hollow while it coasts).
Entrance: each face's box with its estimated age band and gender and how sure the models are.

This is the one place frames are written to disk, and only when a user asks for it on their own video
or photos (``walkout vision track --draw``, ``walkout vision faces --draw``): an ``.mp4`` file, or a
folder of PNGs.
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
FACE = (0, 200, 255)
CAPTION_BACKGROUND = (0, 0, 0)
CAPTION_SCALE = 0.45
FrameSink = Callable[[int, Frame], object]
"""Takes a drawn frame and its index in the video."""


@dataclass(frozen=True)
class TrackMark:
    """A reported track in one frame, in image pixels."""

    track_id: int
    at_px: tuple[float, float]
    detected: bool


@dataclass(frozen=True)
class FaceMark:
    """A face in a photo, its box in image pixels (x0, y0, x1, y1) and the caption lines drawn above it."""

    box: tuple[int, int, int, int]
    caption: tuple[str, ...]


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


def draw_faces(frame: Frame, faces: Sequence[FaceMark]) -> Frame:
    """A copy of the frame with each face's box and caption; the caption sits on black so it stays
    legible on any background, above the box (below it when the face touches the top edge)."""
    canvas = frame.copy()
    for face in faces:
        x0, y0, x1, y1 = face.box
        cv2.rectangle(canvas, (x0, y0), (x1, y1), FACE, 2)
        line_height = cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, CAPTION_SCALE, 1)[0][1] + 6
        top = y0 - line_height * len(face.caption) if y0 >= line_height * len(face.caption) else y1
        for row, line in enumerate(face.caption):
            (width, _), _ = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, CAPTION_SCALE, 1)
            y = top + line_height * row
            cv2.rectangle(canvas, (x0, y), (x0 + width + 4, y + line_height), CAPTION_BACKGROUND, -1)
            cv2.putText(
                canvas, line, (x0 + 2, y + line_height - 4), cv2.FONT_HERSHEY_SIMPLEX, CAPTION_SCALE, FACE, 1
            )
    return canvas


def drawing_folder(out: Path) -> Path:
    """The folder drawn images go into, made if missing; :class:`CameraError` when it cannot be."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CameraError(f"cannot make a folder for drawn frames at {out}: {error.strerror}") from None
    return out


def write_png(path: Path, frame: Frame) -> None:
    """One drawn frame as a PNG file; :class:`CameraError` when it cannot be written."""
    if not cv2.imwrite(str(path), frame):
        raise CameraError(f"cannot write a drawn frame at {path}")


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
    folder = drawing_folder(out)
    yield lambda index, frame: write_png(folder / f"frame_{index:05d}.png", frame)


def _pixel(point: tuple[float, float]) -> tuple[int, int]:
    return round(point[0]), round(point[1])
