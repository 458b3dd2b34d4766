"""The entrance pipeline on real photographs of people, through ``walkout vision faces --draw``.

The photos ship in registry packages, nothing is downloaded: scikit-image's bundled sample data (a
dev dependency) and OpenCV's samples in Debian's opencv-doc (``make opencv-samples``). Every photo of
a person in either was looked at; the ones where a person can tell the gender and, mostly, an age band
are labelled below by eye, with public facts for known people. Left out: basketball2.png (the next
frame of basketball1.png, the same two faces), the other chessboard calibration shots (the face is
behind the board), the crowd behind Messi (blurred, a few pixels a face) and scikit-image's
lfw_subset.npy (25 x 25 crops, far below what the networks take).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import pytest

from tests.ingestion.camera.test_cli import walkout
from walkout.vocabulary import AgeBand, Gender

OPENCV_SAMPLES = Path("/usr/share/doc/opencv-doc/examples/data")  # opencv-doc 4.6.0+dfsg-12
SKIMAGE_DATA = Path(str(importlib.metadata.distribution("scikit-image").locate_file("skimage/data")))


@dataclass(frozen=True)
class LabelledFace:
    """A face as a person sees it: a point inside it (pixels), its gender and age band by eye
    (``AgeBand.UNKNOWN`` where the face does not show the age well enough to pick a band)."""

    photo: Path
    sha256: str
    inside: tuple[int, int]
    gender: Gender
    age_band: AgeBand
    why: str


LABELLED = (
    LabelledFace(
        SKIMAGE_DATA / "astronaut.png",
        "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
        (225, 120),
        Gender.FEMALE,
        AgeBand.AGE_40_49,
        "Eileen Collins, born 1956, wearing the STS-93 crew patch (portrait of 1998-99): 41 or 42",
    ),
    LabelledFace(
        SKIMAGE_DATA / "camera.png",
        "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a",
        (227, 160),
        Gender.MALE,
        AgeBand.AGE_19_29,
        "a young man at a camera on a tripod, in profile",
    ),
    LabelledFace(
        OPENCV_SAMPLES / "messi5.jpg",
        "1d570e49654e84c7a943918537bd9e5e1ef82920152e147c834006e235be97c9",
        (240, 115),
        Gender.MALE,
        AgeBand.AGE_19_29,
        "Lionel Messi, born 1987, in a Barcelona shirt with UNICEF on the front (2006-2011): 19 to 24",
    ),
    LabelledFace(
        OPENCV_SAMPLES / "basketball1.png",
        "ba06f6701f7260998b430c39b6557f775497e6ce7b1a74f0b7ea6af371bf54a6",
        (85, 112),
        Gender.MALE,
        AgeBand.AGE_19_29,
        "left: a young bearded man catching the ball, facing the camera",
    ),
    LabelledFace(
        OPENCV_SAMPLES / "basketball1.png",
        "ba06f6701f7260998b430c39b6557f775497e6ce7b1a74f0b7ea6af371bf54a6",
        (530, 90),
        Gender.MALE,
        AgeBand.UNKNOWN,
        "right: a man turned away from the camera, cheek and ear only",
    ),
    LabelledFace(
        OPENCV_SAMPLES / "left06.jpg",
        "1cb164db61b3bd52f58a7e9340bb27c5e0278895bc80b6f292fba5cf9bccc4a1",
        (290, 170),
        Gender.MALE,
        AgeBand.UNKNOWN,
        "a man with glasses in three-quarter profile behind a chessboard: late twenties or thirties",
    ),
    LabelledFace(
        OPENCV_SAMPLES / "right06.jpg",
        "874b60edc8a53da477c6ee393184a1aafdc83ceaedcb4d0535f7c482d1c80e76",
        (200, 180),
        Gender.MALE,
        AgeBand.UNKNOWN,
        "the same man at the same moment, from the stereo pair's other camera, more in profile",
    ),
)
PHOTOS = tuple(dict.fromkeys(face.photo for face in LABELLED))
# Measured: gender right on 5 of 7 faces, band on 3 of 4. The floors allow one more miss each, since
# right06's gender (0.53) is a coin toss that another onnxruntime build may turn; below them the
# pipeline has lost ground on faces a person reads at a glance. Chance is 0.5 for gender, 1/6 for band.
GENDER_FLOOR = 4 / 7
BAND_FLOOR = 2 / 4

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not OPENCV_SAMPLES.is_dir(), reason=f"no {OPENCV_SAMPLES}: `make opencv-samples` installs opencv-doc"
    ),
]


def test_every_labelled_face_is_found_and_most_are_read_right(tmp_path: Path) -> None:
    for face in LABELLED:
        assert hashlib.sha256(face.photo.read_bytes()).hexdigest() == face.sha256, (
            f"not {face.photo} as labelled"
        )
    images = [arg for photo in PHOTOS for arg in ("--image", str(photo))]
    result = walkout("faces", *images, "--draw", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)["faces"]

    for photo in PHOTOS:  # every face a person sees, and nothing else
        assert sum(face["image"] == str(photo) for face in found) == sum(f.photo == photo for f in LABELLED)
    estimates = [_estimate_of(face, found) for face in LABELLED]
    genders = [estimate["gender"] == face.gender for face, estimate in zip(LABELLED, estimates, strict=True)]
    bands = [
        estimate["age_band"] == face.age_band
        for face, estimate in zip(LABELLED, estimates, strict=True)
        if face.age_band is not AgeBand.UNKNOWN
    ]
    assert sum(genders) / len(genders) >= GENDER_FLOOR, genders
    assert sum(bands) / len(bands) >= BAND_FLOOR, bands

    for photo in PHOTOS:  # one drawing per photo, at the photo's size, for a reviewer
        drawing = cv2.imread(str(tmp_path / f"{photo.stem}.png"))
        assert drawing is not None, photo.name
        assert drawing.shape == cv2.imread(str(photo), cv2.IMREAD_COLOR).shape


def _estimate_of(labelled: LabelledFace, found: list[dict[str, Any]]) -> dict[str, Any]:
    """The one face found in the labelled face's photo whose box holds the labelled point."""
    x, y = labelled.inside
    (estimate,) = [
        face
        for face in found
        if face["image"] == str(labelled.photo)
        and face["box"][0] <= x <= face["box"][2]
        and face["box"][1] <= y <= face["box"][3]
    ]
    return estimate
