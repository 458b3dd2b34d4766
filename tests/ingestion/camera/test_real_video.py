"""The ceiling pipeline on real footage: OpenCV's pedestrian sample vtest.avi (768x576, 795 frames at
10 fps, Debian's opencv-doc; ``make test`` installs it), through ``walkout vision track``.

The people in eleven frames spread over the clip were counted by eye (on the frames written out as
PNGs, the far corners zoomed in): people half hidden behind the signpost or a car count. Following the
people through a frame every two seconds, about 20 walks through the view (people entering and leaving
it; several of the dozen or so people come back for a second walk), so a tracker that keeps each walk
whole makes about 20 tracks; the foreground detector made 203 before the trained one was the default.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import pytest

from tests.ingestion.camera.test_cli import walkout

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
VTEST_SHA256 = "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf"  # opencv-doc 4.6.0+dfsg-12
VTEST_CONFIG = Path(__file__).with_name("vtest.yaml")
PEOPLE_BY_EYE = {0: 3, 80: 7, 160: 8, 240: 7, 320: 6, 400: 3, 480: 4, 560: 6, 640: 6, 720: 9, 794: 8}
WALKS_BY_EYE = 20

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not VTEST.is_file(), reason=f"no {VTEST}: `make opencv-samples` installs opencv-doc"),
]


@pytest.fixture(scope="module")
def vtest() -> Path:
    assert hashlib.sha256(VTEST.read_bytes()).hexdigest() == VTEST_SHA256, "not the clip counted by eye"
    return VTEST


def test_the_trained_detector_counts_people_as_a_person_does(vtest: Path, tmp_path: Path) -> None:
    drawn = tmp_path / "vtest.mp4"
    result = walkout(
        "track", "--video", str(vtest), "--config", str(VTEST_CONFIG), "--draw", str(drawn), "--json"
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["frames"] == 795
    counts = summary["detections_per_frame"]
    for frame, people in PEOPLE_BY_EYE.items():
        assert abs(counts[frame] - people) <= 1, (frame, counts[frame], people)
    assert WALKS_BY_EYE * 0.75 <= summary["tracks"] <= WALKS_BY_EYE * 2, summary["tracks"]
    video = cv2.VideoCapture(str(drawn))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 795
    assert video.read()[1].shape == (576, 768, 3)


def test_blobs_are_the_default_no_more(vtest: Path) -> None:
    """Without a config the trained detector runs; MOG2 blobs, still there on request, see shadows and
    halves of people as people and make ten times as many tracks as there are walks."""
    trained = json.loads(walkout("track", "--video", str(vtest), "--json").stdout)
    blobs = json.loads(walkout("track", "--video", str(vtest), "--detector", "foreground", "--json").stdout)
    assert blobs["tracks"] >= 5 * WALKS_BY_EYE
    assert trained["tracks"] <= blobs["tracks"] / 2
    for frame, people in PEOPLE_BY_EYE.items():
        assert abs(trained["detections_per_frame"][frame] - people) <= 1, frame
