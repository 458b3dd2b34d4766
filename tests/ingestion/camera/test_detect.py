"""Person detectors on drawn frames: MOG2 blobs (with a merged pair split) and an ONNX model's boxes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
from onnx import TensorProto, helper

from ingestion.camera.calibration import Calibration
from ingestion.camera.config import ForegroundDetectorConfig, OnnxDetectorConfig
from ingestion.camera.detect import ForegroundDetector, OnnxDetector

PX_PER_M = 75.0  # the uncalibrated view's scale


def floor_frame() -> np.ndarray:
    frame = np.full((480, 640, 3), 190, dtype=np.uint8)
    cv2.line(frame, (0, 240), (640, 240), (170, 170, 170), 1)
    return frame


def person(frame: np.ndarray, centre: tuple[int, int]) -> None:
    cv2.ellipse(frame, centre, (17, 10), 0, 0, 360, (40, 60, 170), -1)  # shoulders, about 0.45 x 0.27 m
    cv2.circle(frame, centre, 7, (30, 30, 30), -1)


def detector() -> ForegroundDetector:
    config = ForegroundDetectorConfig(person_area_m2=0.09)
    found = ForegroundDetector(config, Calibration.uncalibrated(), fps=15.0)
    found.prime([floor_frame()] * 10)
    return found


def test_foreground_finds_people_where_they_stand() -> None:
    frame = floor_frame()
    for centre in ((120, 100), (400, 300), (560, 420)):
        person(frame, centre)
    found = sorted(detector().detect(frame), key=lambda detection: detection.foot_px[0])
    assert len(found) == 3
    for detection, centre in zip(found, [(120, 100), (400, 300), (560, 420)], strict=True):
        assert np.hypot(detection.foot_px[0] - centre[0], detection.foot_px[1] - centre[1]) < 1.5


def test_two_people_side_by_side_are_split_and_specks_ignored() -> None:
    frame = floor_frame()
    person(frame, (300, 200))
    person(frame, (330, 200))  # shoulder to shoulder: one blob
    cv2.circle(frame, (100, 400), 2, (0, 0, 0), -1)  # a speck of dirt
    found = sorted(detector().detect(frame), key=lambda detection: detection.foot_px[0])
    assert len(found) == 2
    assert abs(found[0].foot_px[0] - 300) < 8
    assert abs(found[1].foot_px[0] - 330) < 8


def yolo_model(path: Path, rows: list[list[float]]) -> Path:
    """An ONNX graph that ignores its image and answers fixed YOLOv8-style rows ([1, 4 + classes, N])."""
    answer = np.array(rows, dtype=np.float32).T[None]
    image = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 640, 640])
    output = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(answer.shape))
    constant = helper.make_node(
        "Constant",
        [],
        ["output0"],
        value=helper.make_tensor("answer", TensorProto.FLOAT, answer.shape, answer.ravel()),
    )
    graph = helper.make_graph([constant], "yolo", [image], [output])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_onnx_boxes_are_suppressed_and_mapped_back_to_the_frame(tmp_path: Path) -> None:
    rows = [  # cx, cy, w, h in the 640x640 letterboxed input; scores for person and one other class
        [320.0, 320.0, 100.0, 200.0, 0.9, 0.1],
        [324.0, 318.0, 100.0, 200.0, 0.8, 0.1],  # the same person again: suppressed
        [100.0, 200.0, 50.0, 100.0, 0.2, 0.9],  # something that is not a person
        [500.0, 300.0, 60.0, 120.0, 0.7, 0.0],
    ]
    config = OnnxDetectorConfig(kind="onnx", model=yolo_model(tmp_path / "yolo.onnx", rows))
    found = sorted(OnnxDetector(config).detect(np.zeros((480, 640, 3), np.uint8)), key=lambda d: d.foot_px[0])
    assert len(found) == 2
    # 640x480 is letterboxed into 640x640 with 80 px of padding above: y_frame = y_input - 80.
    assert found[0].foot_px == (320.0, 320.0 + 100.0 - 80.0)
    assert found[0].score == np.float32(0.9)
    assert found[1].box == (470, 160, 60, 120)
