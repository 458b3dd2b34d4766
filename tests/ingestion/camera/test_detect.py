"""Person detectors on drawn frames: MOG2 blobs (with a merged pair split) and a trained model's boxes
(YOLOv8 and YOLOX answers decoded, suppressed and mapped back to the frame)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from ingestion.camera.calibration import Calibration
from ingestion.camera.config import ForegroundDetectorConfig, TrainedDetectorConfig
from ingestion.camera.detect import ForegroundDetector, TrainedDetector

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


def answering_model(path: Path, answer: np.ndarray, side: int) -> Path:
    """An ONNX graph that ignores its image (side x side) and gives a fixed answer."""
    image = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, side, side])
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
    answer = np.array(rows, dtype=np.float32).T[None]  # YOLOv8: [1, 4 + classes, N]
    model = answering_model(tmp_path / "yolo.onnx", answer, 640)
    config = TrainedDetectorConfig(model=model, layout="yolov8", input_size=(640, 640))
    found = sorted(
        TrainedDetector(config).detect(np.zeros((480, 640, 3), np.uint8)), key=lambda d: d.foot_px[0]
    )
    assert len(found) == 2
    # 640x480 is letterboxed into 640x640 with 80 px of padding above: y_frame = y_input - 80.
    assert found[0].foot_px == (320.0, 320.0 + 100.0 - 80.0)
    assert found[0].score == np.float32(0.9)
    assert found[1].box == (470, 160, 60, 120)


def test_yolox_grid_offsets_become_boxes_in_the_frame(tmp_path: Path) -> None:
    answer = np.zeros((1, 3549, 85), np.float32)  # 52x52 cells of stride 8, then 26x26 of 16, 13x13 of 32
    person = 52 * 52 + 10 * 26 + 7  # stride 16, cell (7, 10)
    answer[0, person, :5] = [0.5, 0.25, np.log(4.0), np.log(8.0), 0.9]  # centre in the cell, 4 x 8 strides
    answer[0, person, 5] = 0.8  # person: 0.9 x 0.8 = 0.72
    answer[0, 0, 4:6] = [0.9, 0.3]  # a faint person at the first cell: under the threshold
    answer[0, 52 * 52 + 26 * 26, 4:7] = [0.9, 0.0, 0.9]  # something sure that is not a person
    model = answering_model(tmp_path / "yolox.onnx", answer, 416)
    (found,) = TrainedDetector(TrainedDetectorConfig(model=model)).detect(np.zeros((576, 768, 3), np.uint8))
    # 768x576 is scaled by 416 / 768 into 416x312, with 52 px of padding above.
    scale = 416 / 768
    centre_x, centre_y, width, height = (7.5 * 16) / scale, (10.25 * 16 - 52) / scale, 64 / scale, 128 / scale
    assert found.foot_px == pytest.approx((centre_x, centre_y + height / 2), abs=0.01)
    assert found.box == (
        round(centre_x - width / 2),
        round(centre_y - height / 2),
        round(width),
        round(height),
    )
    assert found.score == pytest.approx(0.72)
