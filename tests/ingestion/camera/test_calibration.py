"""The homography from reference points, its checks, zones, and camera YAML errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingestion.camera import CameraError
from ingestion.camera.calibration import Calibration, calibrate
from ingestion.camera.config import CameraConfig, ReferencePoint, ZoneArea, load_camera_config

# A camera looking down at a 10 x 8 m floor with perspective: this is the map to recover.
TRUE_FLOOR_TO_IMAGE = np.array([[60.0, 4.0, 20.0], [2.0, -55.0, 460.0], [0.0005, 0.012, 1.0]])


def clicked(floor: list[tuple[float, float]], error_px: float = 0.0) -> tuple[ReferencePoint, ...]:
    xy = np.array(floor, dtype=np.float64)
    image = np.c_[xy, np.ones(len(xy))] @ TRUE_FLOOR_TO_IMAGE.T
    image = image[:, :2] / image[:, 2:]
    image += np.random.default_rng(1).normal(0, error_px, image.shape)
    return tuple(
        ReferencePoint(image=(u, v), floor=(x, y))
        for (u, v), (x, y) in zip(image.tolist(), floor, strict=True)
    )


CORNERS = [(0.0, 0.0), (10.0, 0.0), (10.0, 8.0), (0.0, 8.0)]


def test_four_points_recover_the_floor_exactly() -> None:
    calibration = Calibration.from_points(clicked(CORNERS))
    probe = np.array([[2.5, 3.0], [9.0, 7.5], [5.0, 0.2]])
    assert np.allclose(calibration.to_floor(calibration.to_image(probe)), probe, atol=1e-6)
    truth = clicked([tuple(p) for p in probe.tolist()])
    assert np.allclose(calibration.to_floor(np.array([p.image for p in truth])), probe, atol=1e-6)


def test_a_misclicked_point_is_outvoted() -> None:
    points = list(clicked([*CORNERS, (5.0, 4.0), (2.0, 6.0), (8.0, 2.0)], error_px=0.3))
    points[4] = ReferencePoint(image=(points[4].image[0] + 40, points[4].image[1]), floor=points[4].floor)
    calibration = Calibration.from_points(tuple(points))
    assert calibration.reprojection_px < 1.0
    good = points[5]
    assert np.allclose(calibration.to_floor(np.array([good.image]))[0], good.floor, atol=0.03)


def test_points_in_a_line_are_refused() -> None:
    line = clicked([(0.0, 0.0), (2.0, 0.0), (4.0, 0.0), (6.0, 0.0)])
    with pytest.raises(CameraError, match="reference points"):
        Calibration.from_points(line)


def test_inconsistent_points_are_refused() -> None:
    points = list(clicked([*CORNERS, (5.0, 4.0), (2.0, 6.0)]))
    for wrong in (1, 3, 5):  # half the floor positions typed into the wrong rows
        points[wrong] = ReferencePoint(image=points[wrong].image, floor=points[wrong - 1].floor)
    with pytest.raises(CameraError, match=r"disagree|homography"):
        Calibration.from_points(tuple(points))


def test_the_local_scale_follows_the_perspective() -> None:
    calibration = Calibration.from_points(clicked(CORNERS))
    near = calibration.to_image(np.array([[5.0, 0.5]]))[0]
    far = calibration.to_image(np.array([[5.0, 7.5]]))[0]
    assert calibration.pixels_per_metre(tuple(near)) > calibration.pixels_per_metre(tuple(far)) > 20


def test_zones_come_from_the_catalog_unless_the_config_has_its_own() -> None:
    config = CameraConfig(camera_id="C1", store_id="S002", reference_points=clicked(CORNERS))
    calibration = calibrate(config)
    assert calibration.zone_at(6.6, 0.7) == "S002-entrance"
    own = config.model_copy(update={"zones": (ZoneArea(zone_id="door", polygon=((0, 0), (1, 0), (1, 1))),)})
    assert calibrate(own).zone_at(0.2, 0.2) == "door"
    assert calibrate(own).zone_at(6.6, 0.7) is None


def test_camera_yaml_errors_name_the_field(tmp_path: Path) -> None:
    config = tmp_path / "camera.yaml"
    config.write_text(
        "camera_id: C1\nstore_id: S002\nreference_points:\n"
        + "".join(f"  - {{image: [{i}, {i}], floor: [{i}, 0]}}\n" for i in range(4))
        + "detector: {kind: thermal}\n"
    )
    with pytest.raises(CameraError, match=r"camera\.yaml: detector"):
        load_camera_config(config)
    with pytest.raises(CameraError, match="no camera config"):
        load_camera_config(tmp_path / "missing.yaml")
