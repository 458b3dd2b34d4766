"""Camera fixtures: a short rendered ceiling clip on disk, and the sample photos scikit-image ships."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from twin.camera_clips import ClipRequest, render_clip


@pytest.fixture(scope="session")
def ceiling_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 12-second rendered clip of store S002 (MJPG video) and its camera YAML."""
    return render_clip(ClipRequest(visits=6, seconds=12.0, seed=3), tmp_path_factory.mktemp("clip"))


def sample_photo(name: str) -> Path:
    """A photo from scikit-image's bundled data (``astronaut.png``: one woman; ``camera.png``: one man)."""
    return Path(str(importlib.metadata.distribution("scikit-image").locate_file(f"skimage/data/{name}")))
