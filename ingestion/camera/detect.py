"""Finding people in a ceiling camera's frame; the camera's config picks the detector.

* :class:`ForegroundDetector` (the twin's rendered clips): MOG2 background subtraction, a little
  morphology, then connected blobs. Seen from above, a person is a blob of roughly known floor
  area, so blobs far smaller are noise and a blob of about *k* people (two shoppers side by side)
  is split into *k* with k-means. People the tracker followed into one blob (shoppers standing
  together at a shelf overlap far more than side by side) split it among them, each part seeded
  where they were expected. The foot point of a top-down blob is its centre.
* :class:`TrainedDetector` (the default for real cameras): a person detector trained on real
  footage, YOLOX-Nano on COCO unless the config names another ONNX model, run by onnxruntime (one
  thread per stream), boxes filtered with OpenCV's non-maximum suppression; the foot point is the
  bottom centre of the box (oblique views). MOG2 blobs work on the twin's rendered top-down frames
  but not on real footage, where shadows, reflections and parts of people become blobs too.

The background model starts from the per-pixel median of the opening seconds (so people walking
by at start-up do not become ghosts) and then learns slowly, so a shopper standing at a shelf
stays foreground for about ``stillness_s``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort  # type: ignore[import-untyped]

from ingestion.camera import CameraError
from ingestion.camera.calibration import Calibration
from ingestion.camera.config import DetectorConfig, ForegroundDetectorConfig, TrainedDetectorConfig
from ingestion.camera.models import YOLOX_NANO, model_path
from ingestion.camera.video import Frame
from walkout.appearance import Appearance, appearance_of

Box = tuple[int, int, int, int]  # x, y, width, height in pixels
Pixels = npt.NDArray[np.float64]  # N x 2 image points
Colour = tuple[float, float, float]
PRIME_REPEATS = 30
MOG2_HISTORY = 500
MIN_VARIANCE = 16.0  # sensor noise and light flicker stay below ~4 grey levels
MAX_BLOB_PEOPLE = 6  # a bigger blob is a lighting change or a shaken camera, not a crowd
KMEANS_PIXELS = 1500
KMEANS_CRITERIA = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
# From above, head and shoulders (the upper body) fill the middle of a person's blob; hips, arms and a
# striding leg (the lower body) show around them: the inner share of a blob's pixels is its upper body.
UPPER_BODY_SHARE = 0.6
# In an oblique view's box the upper body spans these rows (shares of the box's height, head left out)
# and the lower body the next ones; the middle columns keep most of the background out.
UPPER_ROWS, LOWER_ROWS, BODY_COLUMNS = (0.18, 0.5), (0.5, 0.9), (0.3, 0.7)


@dataclass(frozen=True)
class Detection:
    """A person in one frame: where they stand (image pixels), their box and how sure the detector is."""

    foot_px: tuple[float, float]
    box: Box
    score: float
    colour: Colour | None = None
    """Mean CIELAB colour (8-bit scale) of the person's pixels, for telling people apart; None if unknown."""
    appearance: Appearance | None = None
    """Colour histograms of the upper and lower body (:mod:`walkout.appearance`); None if unknown."""


class PersonDetector(Protocol):
    def prime(self, frames: Sequence[Frame]) -> None:
        """Learn what the empty view looks like from the opening frames (a no-op for model detectors)."""

    def detect(self, frame: Frame, expected_px: Pixels | None = None) -> list[Detection]:
        """The people in a frame; ``expected_px`` (N x 2) is where the people followed so far should be."""
        ...


class ForegroundDetector:
    """MOG2 foreground and blob analysis for top-down views."""

    def __init__(self, config: ForegroundDetectorConfig, calibration: Calibration, fps: float) -> None:
        self.config = config
        self.calibration = calibration
        self.subtractor = cv2.createBackgroundSubtractorMOG2(
            history=MOG2_HISTORY, varThreshold=config.var_threshold, detectShadows=False
        )
        self.subtractor.setVarMin(MIN_VARIANCE)
        self.subtractor.setVarInit(MIN_VARIANCE)
        self.subtractor.setNMixtures(3)
        # A new colour joins the background once its weight passes ~10 %: after 0.1 / rate frames.
        self.learning_rate = 0.1 / (fps * config.stillness_s)
        self.speckle = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self.holes = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))

    def prime(self, frames: Sequence[Frame]) -> None:
        if not frames:
            return
        opening = [self._shrink(frame) for frame in frames[:: max(1, len(frames) // 12)]]
        empty = np.median(np.stack(opening), axis=0).astype(np.uint8)
        for _ in range(PRIME_REPEATS):
            self.subtractor.apply(empty, learningRate=-1)

    def detect(self, frame: Frame, expected_px: Pixels | None = None) -> list[Detection]:
        shrink = min(1.0, self.config.work_width / frame.shape[1])
        small = self._shrink(frame)
        mask = self.subtractor.apply(small, learningRate=self.learning_rate)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self.speckle)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self.holes)
        count, labels, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
        followed = _followed_into_blobs(np.asarray(labels, np.int32), expected_px, shrink)
        detections: list[Detection] = []
        for label in range(1, count):
            x, y, width, height, area = (int(value) for value in stats[label])
            centre = (float(centroids[label][0]) / shrink, float(centroids[label][1]) / shrink)
            scale = self.calibration.pixels_per_metre(centre) * shrink  # working pixels a metre
            share = area / (self.config.person_area_m2 * scale**2)
            if not self.config.min_person_share <= share <= MAX_BLOB_PEOPLE:
                continue
            seeds = followed.get(label, [])
            people = self._people_in(share, len(seeds))
            blob = labels[y : y + height, x : x + width] == label
            colours = np.asarray(
                cv2.cvtColor(small[y : y + height, x : x + width], cv2.COLOR_BGR2LAB), np.uint8
            )
            if people <= 1:
                rows, cols = np.nonzero(blob)
                looks = colours[rows, cols]
                box = _scaled((x, y, width, height), shrink)
                appearance = _blob_appearance(np.column_stack([cols, rows]).astype(np.float64), looks)
                detections.append(Detection(centre, box, min(share, 1.0), _mean_colour(looks), appearance))
            else:
                start = [(u - x, v - y) for u, v in seeds] if len(seeds) == people else None
                detections += _split_blob(blob, colours, (x, y), people, shrink, start)
        return detections

    def _people_in(self, share: float, followed: int) -> int:
        """How many people a blob this many persons large holds, ``followed`` of them tracked into it:
        people followed into one blob stand together, as many as it has room for (two from
        ``merged_share``, one more for every person's worth of blob above that)."""
        people = round(share) if share >= self.config.split_share else 1
        if share < self.config.merged_share:
            return people
        return max(people, min(followed, math.floor(share - self.config.merged_share) + 2))

    def _shrink(self, frame: Frame) -> Frame:
        height, width = frame.shape[:2]
        if width <= self.config.work_width:
            return frame
        size = (self.config.work_width, round(height * self.config.work_width / width))
        return np.asarray(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _scaled(box: Box, shrink: float) -> Box:
    x, y, width, height = box
    return round(x / shrink), round(y / shrink), round(width / shrink), round(height / shrink)


def _followed_into_blobs(
    labels: npt.NDArray[np.int32], expected_px: Pixels | None, shrink: float
) -> dict[int, list[tuple[float, float]]]:
    """Blob label → where the people followed so far are expected in it (working-size pixels)."""
    followed: dict[int, list[tuple[float, float]]] = {}
    height, width = labels.shape
    for u, v in [] if expected_px is None else (expected_px * shrink).tolist():
        if 0 <= u < width and 0 <= v < height and (label := int(labels[int(v), int(u)])):
            followed.setdefault(label, []).append((u, v))
    return followed


def _mean_colour(pixels: npt.NDArray[np.uint8]) -> Colour:
    lightness, green_red, blue_yellow = (float(value) for value in pixels.reshape(-1, 3).mean(axis=0))
    return lightness, green_red, blue_yellow


def _split_blob(
    blob: npt.NDArray[np.bool_],
    colours: npt.NDArray[np.uint8],
    origin: tuple[int, int],
    people: int,
    shrink: float,
    seeds: list[tuple[float, float]] | None = None,
) -> list[Detection]:
    """Split a blob of several people into as many detections (k-means on its pixels), from ``seeds``
    (blob pixels where each is expected) when given."""
    rows, cols = np.nonzero(blob)
    pixels = np.column_stack([cols, rows]).astype(np.float32)[:: max(1, len(rows) // KMEANS_PIXELS)]
    cv2.setRNGSeed(people)  # deterministic: the same frame always splits the same way
    if seeds is None:
        initial = np.zeros((len(pixels), 1), dtype=np.int32)
        flags, attempts = cv2.KMEANS_PP_CENTERS, 3
    else:
        nearest = np.linalg.norm(pixels[:, None, :] - np.array(seeds, np.float32)[None], axis=2).argmin(
            axis=1
        )
        initial, flags, attempts = nearest.astype(np.int32).reshape(-1, 1), cv2.KMEANS_USE_INITIAL_LABELS, 1
    _, labels, centres = cv2.kmeans(pixels, people, initial, KMEANS_CRITERIA, attempts, flags)
    detections = []
    for index, (cx, cy) in enumerate(centres.tolist()):
        mine = pixels[labels.ravel() == index]
        low, high = mine.min(axis=0), mine.max(axis=0)
        box = (
            origin[0] + int(low[0]),
            origin[1] + int(low[1]),
            int(high[0] - low[0]) + 1,
            int(high[1] - low[1]) + 1,
        )
        foot = ((origin[0] + cx) / shrink, (origin[1] + cy) / shrink)
        looks = colours[mine[:, 1].astype(int), mine[:, 0].astype(int)]
        appearance = _blob_appearance(mine.astype(np.float64), looks)
        detections.append(Detection(foot, _scaled(box, shrink), 1.0, _mean_colour(looks), appearance))
    return detections


def _blob_appearance(points: npt.NDArray[np.float64], looks: npt.NDArray[np.uint8]) -> Appearance | None:
    """The appearance of a person's top-down blob: its inner pixels (by distance from the centre, in
    units of the blob's own spread, so an elongated blob splits evenly) are the upper body."""
    if len(points) < 2:
        return None
    offsets = points - points.mean(axis=0)
    spread = offsets.T @ offsets / len(offsets) + np.eye(2) * 1e-6
    radius = np.einsum("ni,ij,nj->n", offsets, np.linalg.inv(spread), offsets)
    cut = round(UPPER_BODY_SHARE * (len(radius) - 1))
    inner = radius <= np.partition(radius, cut)[cut]
    return appearance_of(looks[inner], looks[~inner])


class TrainedDetector:
    """A trained person detector (ONNX, onnxruntime) with OpenCV's non-maximum suppression."""

    def __init__(self, config: TrainedDetectorConfig) -> None:
        self.config = config
        model = config.model or model_path(YOLOX_NANO)
        if not model.is_file():
            raise CameraError(f"no ONNX detector model at {model}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = config.threads
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own untyped errors for a bad file
            raise CameraError(f"{model} is not an ONNX model onnxruntime can run: {error}") from None
        self.input_name = self.session.get_inputs()[0].name
        self.grid = _yolox_grid(config.input_size) if config.layout == "yolox" else None

    def prime(self, frames: Sequence[Frame]) -> None:
        return

    def detect(self, frame: Frame, expected_px: Pixels | None = None) -> list[Detection]:
        yolox = self.config.layout == "yolox"
        blob, scale, pad = _letterbox(frame, self.config.input_size, yolox)
        output = np.asarray(self.session.run(None, {self.input_name: blob})[0], dtype=np.float32)
        rows = output.reshape(output.shape[-2:])
        if self.config.layout == "yolov8":
            rows = rows.T  # [4 + classes, boxes] → [boxes, 4 + classes]
            scores = rows[:, 4 + self.config.person_class]
        else:  # yolov5 and YOLOX: objectness times the class score
            scores = rows[:, 4] * rows[:, 5 + self.config.person_class]
        likely = scores >= self.config.score_threshold
        rows, scores = rows[likely], scores[likely]
        centre, size = rows[:, :2], rows[:, 2:4]
        if self.grid is not None:  # YOLOX answers offsets from its grid cells, in strides
            cells, strides = self.grid[0][likely], self.grid[1][likely]
            centre, size = (centre + cells) * strides, np.exp(size) * strides
        corner = (centre - size / 2 - np.array(pad, np.float32)) / scale
        boxes = np.column_stack([corner, size / scale])
        keep = cv2.dnn.NMSBoxes(
            boxes.tolist(), scores.tolist(), self.config.score_threshold, self.config.nms_iou
        )
        kept = np.ravel(keep).tolist()
        return [_box_detection(frame, boxes[index], float(scores[index])) for index in kept]


def _yolox_grid(size: tuple[int, int]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """YOLOX's output rows, in order: each one's grid cell (N x 2) and stride (N x 1), strides 8, 16, 32."""
    cells, strides = [], []
    for stride in (8, 16, 32):
        rows, cols = np.mgrid[0 : size[1] // stride, 0 : size[0] // stride]
        cells.append(np.column_stack([cols.ravel(), rows.ravel()]))
        strides.append(np.full((rows.size, 1), stride))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


def _letterbox(
    frame: Frame, size: tuple[int, int], yolox: bool
) -> tuple[npt.NDArray[np.float32], float, tuple[float, float]]:
    """The network input: the frame scaled to fit ``size`` (aspect kept), padded grey, NCHW; BGR 0..255
    for YOLOX (as it was trained), RGB 0..1 for the others."""
    height, width = frame.shape[:2]
    scale = min(size[0] / width, size[1] / height)
    resized = cv2.resize(frame, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_LINEAR)
    pad_x, pad_y = (size[0] - resized.shape[1]) // 2, (size[1] - resized.shape[0]) // 2
    canvas = np.full((size[1], size[0], 3), 114, dtype=np.uint8)
    canvas[pad_y : pad_y + resized.shape[0], pad_x : pad_x + resized.shape[1]] = resized
    blob = cv2.dnn.blobFromImage(canvas, 1.0 if yolox else 1.0 / 255.0, swapRB=not yolox)
    return np.asarray(blob, dtype=np.float32), scale, (float(pad_x), float(pad_y))


def _box_detection(frame: Frame, box: npt.NDArray[np.float32], score: float) -> Detection:
    x, y, width, height = (float(value) for value in box)
    pixels = (round(x), round(y), round(width), round(height))
    return Detection((x + width / 2, y + height), pixels, score, appearance=_box_appearance(frame, pixels))


def _box_appearance(frame: Frame, box: Box) -> Appearance | None:
    """The appearance of a person in an oblique view's box: its upper and lower body rows."""
    x, y, width, height = box

    def part(rows: tuple[float, float]) -> npt.NDArray[np.uint8]:
        top, bottom = max(y + round(rows[0] * height), 0), min(y + round(rows[1] * height), frame.shape[0])
        left = max(x + round(BODY_COLUMNS[0] * width), 0)
        right = min(x + round(BODY_COLUMNS[1] * width), frame.shape[1])
        if bottom <= top or right <= left:
            return np.empty((0, 3), np.uint8)
        lab = cv2.cvtColor(np.ascontiguousarray(frame[top:bottom, left:right]), cv2.COLOR_BGR2LAB)
        return np.asarray(lab, np.uint8).reshape(-1, 3)

    return appearance_of(part(UPPER_ROWS), part(LOWER_ROWS))


def make_detector(config: DetectorConfig, calibration: Calibration, fps: float) -> PersonDetector:
    """The detector a camera's config asks for."""
    if isinstance(config, TrainedDetectorConfig):
        return TrainedDetector(config)
    return ForegroundDetector(config, calibration, fps)
