"""The vision commands as a user runs them: a subprocess, JSON out, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.ingestion.camera.conftest import sample_photo


def walkout(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "walkout", "vision", *args], capture_output=True, text=True, timeout=300
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert words in result.stderr


@pytest.mark.parametrize("command", [[], ["track"], ["faces"], ["evaluate"], ["render"]])
@pytest.mark.slow
def test_vision_commands_have_help(command: list[str]) -> None:
    result = walkout(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


@pytest.mark.slow
def test_track_prints_one_json_object(ceiling_clip: tuple[Path, Path]) -> None:
    video, config = ceiling_clip
    result = walkout("track", "--video", str(video), "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["frames"] == 180
    assert summary["video_fps"] == 15.0
    assert len(summary["detections_per_frame"]) == summary["frames"]
    assert summary["calibrated"] is True
    assert summary["fps"] > 0
    assert 3 <= summary["tracks"] <= 12
    assert max(summary["detections_per_frame"]) >= 2


@pytest.mark.slow
def test_track_without_a_config_counts_in_pixels(ceiling_clip: tuple[Path, Path]) -> None:
    result = walkout("track", "--video", str(ceiling_clip[0]), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["calibrated"] is False


@pytest.mark.slow
def test_track_rejects_bad_input(ceiling_clip: tuple[Path, Path], tmp_path: Path) -> None:
    video, config = ceiling_clip
    assert_one_line_error(walkout("track", "--video", str(tmp_path / "none.avi")), "no video file")
    assert_one_line_error(walkout("track", "--video", str(config)), "cannot open video")
    broken = tmp_path / "broken.yaml"
    broken.write_text("camera_id: [unclosed\n")
    assert_one_line_error(
        walkout("track", "--video", str(video), "--config", str(broken)), "not readable YAML"
    )
    too_few = tmp_path / "few.yaml"
    too_few.write_text("camera_id: C1\nstore_id: S002\nreference_points: [{image: [0, 0], floor: [0, 0]}]\n")
    assert_one_line_error(
        walkout("track", "--video", str(video), "--config", str(too_few)), "reference_points"
    )
    no_model = tmp_path / "no_model.yaml"
    no_model.write_text(
        f"camera_id: C1\nstore_id: S002\ndetector: {{kind: trained, model: {tmp_path}/none.onnx}}\n"
    )
    assert_one_line_error(
        walkout("track", "--video", str(video), "--config", str(no_model)), "no ONNX detector model at"
    )
    assert_one_line_error(
        walkout("track", "--video", str(video), "--draw", str(tmp_path / "no" / "such.mp4")),
        "cannot write a video",
    )


@pytest.mark.slow
def test_faces_on_a_photo_of_one_woman() -> None:
    result = walkout("faces", "--image", str(sample_photo("astronaut.png")), "--json")
    assert result.returncode == 0, result.stderr
    faces = json.loads(result.stdout)["faces"]
    assert len(faces) == 1
    face = faces[0]
    assert face["gender"] == "female"
    assert face["gender_confidence"] > 0.9
    assert face["age_band"] in {"0-18", "19-29", "30-39", "40-49", "50-59", "60+"}
    left, top, right, bottom = face["box"]
    assert 150 < left < right < 300
    assert 30 < top < bottom < 200


@pytest.mark.slow
def test_faces_on_an_image_without_faces(tmp_path: Path) -> None:
    drawing = np.full((480, 640, 3), 200, dtype=np.uint8)
    cv2.circle(drawing, (320, 240), 80, (40, 90, 200), -1)
    cv2.rectangle(drawing, (50, 50), (200, 120), (10, 10, 10), -1)
    cv2.imwrite(str(tmp_path / "drawing.png"), drawing)
    result = walkout("faces", "--image", str(tmp_path / "drawing.png"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"faces": []}


@pytest.mark.slow
def test_faces_rejects_what_is_not_an_image_or_cannot_be_drawn(tmp_path: Path) -> None:
    assert_one_line_error(walkout("faces", "--image", str(tmp_path / "none.png")), "no image file")
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    assert_one_line_error(walkout("faces", "--image", str(text)), "not an image")
    astronaut = str(sample_photo("astronaut.png"))
    assert_one_line_error(
        walkout("faces", "--image", astronaut, "--draw", str(text / "drawn")), "cannot make a folder"
    )
    assert_one_line_error(
        walkout("faces", "--image", astronaut, "--image", astronaut, "--draw", str(tmp_path)),
        "two images share a file name",
    )


@pytest.mark.slow
def test_evaluate_reports_mota_and_idf1() -> None:
    result = walkout("evaluate", "--visits", "8", "--seconds", "30", "--json")
    assert result.returncode == 0, result.stderr
    score = json.loads(result.stdout)
    assert score["mota"] >= 0.85, score
    assert score["idf1"] >= 0.8, score
    assert score["median_error_m"] <= 0.3
    table = walkout("evaluate", "--visits", "8", "--seconds", "30")
    assert table.returncode == 0, table.stderr
    assert "ceiling tracking vs truth" in table.stdout
    assert "│ mota " in table.stdout
    assert f"{score['mota']:.4f}" in table.stdout  # the same figures, as a table
