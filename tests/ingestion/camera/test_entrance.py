"""The entrance camera: models from their wheels, faces on real photos, and a visit's demographics."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ingestion.camera import CameraError
from ingestion.camera.entrance import AGE_BANDS, EntranceCamera, FaceEstimate, pool_faces, read_image
from ingestion.camera.models import CENTERFACE, model_path
from tests.ingestion.camera.conftest import sample_photo
from walkout.vocabulary import AgeBand, Gender


@pytest.fixture(scope="module")
def entrance() -> EntranceCamera:
    return EntranceCamera()


def test_models_are_found_in_their_wheels_and_checked() -> None:
    assert model_path(CENTERFACE).name == "centerface.onnx"
    with pytest.raises(CameraError, match=r"CenterFace face detector .*make install"):
        model_path(replace(CENTERFACE, sha256="0" * 64))
    with pytest.raises(CameraError, match=r"not-a-wheel==1\.0 is not installed; run `make install`"):
        model_path(replace(CENTERFACE, distribution="not-a-wheel", version="1.0"))


def test_one_woman_and_one_man(entrance: EntranceCamera) -> None:
    (woman,) = entrance.estimate(read_image(sample_photo("astronaut.png")))
    assert woman.gender is Gender.FEMALE
    assert woman.gender_confidence > 0.9
    (man,) = entrance.estimate(read_image(sample_photo("camera.png")))
    assert man.gender is Gender.MALE
    assert man.gender_confidence > 0.8
    for face in (woman, man):
        assert face.face_confidence > 0.5
        assert sum(face.band_probabilities) == pytest.approx(1.0, abs=1e-3)
        assert face.age_confidence == max(face.band_probabilities)
        assert 15 < face.age_years < 60


def test_no_faces_in_an_empty_entrance(entrance: EntranceCamera) -> None:
    assert entrance.estimate(np.full((480, 640, 3), 128, dtype=np.uint8)) == []
    assert entrance.estimate(read_image(sample_photo("coffee.png"))) == []


def face(band: AgeBand, male: float, confidence: float = 0.9) -> FaceEstimate:
    probabilities = tuple(0.8 if b is band else 0.04 for b, _ in AGE_BANDS)
    gender = Gender.MALE if male > 0.5 else Gender.FEMALE
    return FaceEstimate(
        (0, 0, 10, 10), confidence, 35.0, band, 0.8, gender, max(male, 1 - male), probabilities
    )


def test_faces_of_one_shopper_are_pooled_and_no_face_means_no_estimate() -> None:
    seen = pool_faces(
        [face(AgeBand.AGE_19_29, 0.8), face(AgeBand.AGE_19_29, 0.7), face(AgeBand.AGE_40_49, 0.4, 0.3)]
    )
    assert seen is not None
    assert (seen.age_band, seen.gender) == (AgeBand.AGE_19_29, Gender.MALE)
    assert 0.5 < seen.age_confidence < 0.8
    assert seen.confidence == min(seen.age_confidence, seen.gender_confidence)
    assert pool_faces([]) is None
