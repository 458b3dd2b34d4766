"""Frames from a camera with OpenCV: a video file, an RTSP (or HTTP) URL, or a local device number.

Frames are handed on one at a time and never stored: the reader keeps only the current frame.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from ingestion.camera import CameraError

Frame = npt.NDArray[np.uint8]
DEFAULT_FPS = 15.0


@dataclass
class VideoSource:
    """An opened source: its nominal frame rate and size, and its frames (BGR) in order."""

    name: str
    capture: cv2.VideoCapture
    first: Frame

    @property
    def fps(self) -> float:
        """The source's frame rate, or :data:`DEFAULT_FPS` when it does not say (some streams and devices)."""
        fps = float(self.capture.get(cv2.CAP_PROP_FPS))
        return fps if math.isfinite(fps) and 1.0 <= fps <= 240.0 else DEFAULT_FPS

    @property
    def frame_size(self) -> tuple[int, int]:
        height, width = self.first.shape[:2]
        return int(width), int(height)

    def frames(self) -> Iterator[Frame]:
        yield self.first
        while True:
            ok, frame = self.capture.read()
            if not ok:
                return
            yield np.asarray(frame, dtype=np.uint8)


@contextmanager
def open_video(source: str) -> Iterator[VideoSource]:
    """Open a file path, a ``scheme://`` URL or a device number; :class:`CameraError` without a frame."""
    target: str | int
    if source.isdigit():
        target = int(source)
    elif "://" in source:
        target = source
    else:
        path = Path(source)
        if not path.is_file():
            raise CameraError(f"no video file at {source}")
        target = str(path)
    capture = cv2.VideoCapture(target)
    try:
        if not capture.isOpened():
            raise CameraError(f"cannot open video {source!r}: not a video OpenCV can decode, or unreachable")
        ok, first = capture.read()
        if not ok or first is None:
            raise CameraError(f"video {source!r} has no readable frame")
        yield VideoSource(source, capture, np.asarray(first, dtype=np.uint8))
    finally:
        capture.release()
