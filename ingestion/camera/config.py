"""One YAML file per camera: who it is, how its pixels map to the floor plan, how it detects and tracks.

    camera_id: S002-CAM1
    store_id: S002
    reference_points:            # optional: four or more image pixels and the floor-plan metres they show
      - {image: [20.0, 460.0], floor: [0.0, 0.0]}
      - ...
    zones:                       # optional: floor polygons (metres); default: the store's catalog zones
      - {zone_id: S002-Z01, polygon: [[0, 0], [7.6, 0], [7.6, 1.4], [0, 1.4]]}
    detector: {kind: trained}    # the default (YOLOX-Nano); {kind: foreground} for top-down MOG2 blobs
    ignored_regions:             # optional: image polygons (pixels) where no detection is a person
      - [[30, 136], [46, 136], [46, 144], [30, 144]]
    tracker: {min_hits: 5}       # optional overrides

Every section but the identity has defaults. A camera without reference points is tracked in image
pixels (the uncalibrated stand-in scale), so its detector and ignored regions can be tried before it
is calibrated; its tracks cannot become ``camera.tracks`` events. :func:`load_camera_config` turns
anything wrong into a :class:`CameraError` that names the file and the field.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ingestion.camera import CameraError
from walkout.contracts import Identifier

Pair = tuple[float, float]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReferencePoint(_Strict):
    """A spot visible in the image whose floor-plan position is known (a floor corner, a gondola foot)."""

    image: Pair
    floor: Pair


Region = Annotated[tuple[Pair, ...], Field(min_length=3)]


class ZoneArea(_Strict):
    zone_id: Identifier
    polygon: tuple[Pair, ...] = Field(min_length=3)


class ForegroundDetectorConfig(_Strict):
    """MOG2 foreground and blob analysis, for top-down views; the foot point is the blob's centre."""

    kind: Literal["foreground"] = "foreground"
    person_area_m2: float = Field(0.15, gt=0.01, le=2.0, description="Floor a person covers seen from above.")
    stillness_s: float = Field(
        60.0, gt=0, description="A shopper standing still this long fades into the background."
    )
    prime_s: float = Field(2.0, ge=0, description="Opening seconds whose median primes the background.")
    var_threshold: float = Field(25.0, gt=0, description="MOG2 squared Mahalanobis distance threshold.")
    work_width: int = Field(320, ge=64, description="Wider frames are shrunk to this width for segmentation.")
    min_person_share: float = Field(
        0.3, gt=0, le=1, description="Blobs smaller than this share of a person are noise."
    )
    split_share: float = Field(
        1.6, gt=1, description="A blob this many persons large is split into that many people."
    )
    merged_share: float = Field(
        1.4,
        gt=1,
        description="A blob this many persons large holding several tracked people is split among them.",
    )


class TrainedDetectorConfig(_Strict):
    """A person detector trained on real footage (ONNX, run by onnxruntime); the foot point is the bottom
    centre of the box (oblique views). The default model is YOLOX-Nano trained on COCO, which
    ``make install`` puts in place; ``model`` runs another file of one of the three layouts."""

    kind: Literal["trained"] = "trained"
    model: Path | None = Field(None, description="An ONNX file; default the installed YOLOX-Nano.")
    layout: Literal["yolox", "yolov8", "yolov5"] = Field(
        "yolox",
        description="yolox: [1, boxes, 5+classes] raw grid offsets, BGR 0-255 input; yolov8: "
        "[1, 4+classes, boxes]; yolov5: [1, boxes, 5+classes] with objectness (both RGB 0-1 input).",
    )
    input_size: tuple[int, int] = Field((416, 416), description="Network input width and height.")
    person_class: int = Field(0, ge=0, description="Class index of a person (0 in COCO).")
    score_threshold: float = Field(0.4, gt=0, lt=1)
    nms_iou: float = Field(0.45, gt=0, lt=1)
    threads: int = Field(
        1, ge=1, description="onnxruntime threads: one per stream, so each core serves streams."
    )


DetectorConfig = ForegroundDetectorConfig | TrainedDetectorConfig


class DetectorKind(StrEnum):
    """The detectors a camera can use (the ``kind`` of its detector section)."""

    TRAINED = "trained"
    FOREGROUND = "foreground"


class TrackerConfig(_Strict):
    """Kalman (constant velocity) and Hungarian assignment, in floor-plan metres."""

    gate_m: float = Field(1.0, gt=0, description="Farthest a detection may lie from a track's prediction.")
    min_hits: int = Field(3, ge=1, description="Detections in a row before a track is reported.")
    max_coast_s: float = Field(2.0, ge=0, description="How long a track survives without detections.")
    edge_m: float = Field(0.6, ge=0, description="A track lost this close to the view's edge has left.")
    acceleration_mps2: float = Field(3.0, gt=0, description="Process noise: how abruptly people change pace.")
    measurement_noise_m: float = Field(0.08, gt=0, description="Detection error of a foot point.")
    colour_m: float = Field(
        0.03,
        ge=0,
        description="Assignment cost (as metres) of one unit of colour difference (CIELAB, 8-bit).",
    )
    appearance_m: float = Field(
        1.0,
        ge=0,
        description="Assignment cost (as metres) of appearance distance (Bhattacharyya, 0 to 1, between "
        "upper and lower body colour histograms): what keeps ids apart when people part after an occlusion.",
    )


class CameraConfig(_Strict):
    camera_id: Identifier
    store_id: Identifier
    reference_points: Annotated[tuple[ReferencePoint, ...], Field(min_length=4)] | None = None
    zones: tuple[ZoneArea, ...] | None = None
    detector: Annotated[DetectorConfig, Field(discriminator="kind")] = TrainedDetectorConfig()
    ignored_regions: tuple[Region, ...] = ()
    """Image polygons (pixels) where nothing is a person: a post, a mannequin, a poster, a screen."""
    tracker: TrackerConfig = TrackerConfig()


def load_camera_config(path: Path) -> CameraConfig:
    """Read and check a camera's YAML file."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CameraError(f"no camera config at {path}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise CameraError(f"camera config {path} is not readable YAML: {_one_line(error)}") from None
    try:
        return CameraConfig.model_validate(document)
    except ValidationError as error:
        detail = error.errors(include_url=False)[0]
        field = ".".join(str(part) for part in detail["loc"]) or "(document)"
        raise CameraError(f"camera config {path}: {field}: {detail['msg']}") from None


def dump_camera_config(config: CameraConfig, path: Path) -> None:
    """Write a camera's YAML file (what :func:`load_camera_config` reads back)."""
    document = config.model_dump(mode="json", exclude_defaults=True)
    detector = {"kind": config.detector.kind, **document.pop("detector", {})}  # a reader sees which one
    document = {"camera_id": config.camera_id, "store_id": config.store_id, "detector": detector, **document}
    path.write_text(yaml.safe_dump(document, sort_keys=False, default_flow_style=None), encoding="utf-8")


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())
