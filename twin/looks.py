"""What each person of the twin looks like from the ceiling.

The renderer draws this look (:mod:`twin.render`) and the stand-in tracker reports
its colour and appearance with the camera pipeline's noise (:mod:`twin.sensors`), so both
kinds of ``camera.tracks`` carry the same people. From above, a person is a shirt on the
shoulders with the head on top (the upper body) and, around the shirt, the lower body
(hips, arms, a striding leg) in the trousers' colour.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

BGR = tuple[int, int, int]

SHOULDER_HALF_M = (0.23, 0.13)  # across and along the walking direction
HEAD_RADIUS_M = 0.1
SHIRT_SHARE = 0.8  # the shirt spans this share of the shoulders; the lower body shows around it
HAIR_BGR: tuple[BGR, ...] = ((30, 30, 35), (40, 60, 90), (150, 150, 150), (90, 140, 190))
# Trousers and skirts come in fewer colours than shirts: black, navy, grey, denim, khaki, beige, white,
# and now and then a bright one.
TROUSERS_BGR: tuple[BGR, ...] = (
    (25, 25, 25),
    (80, 40, 30),
    (110, 110, 110),
    (140, 100, 60),
    (110, 160, 175),
    (170, 200, 215),
    (235, 235, 235),
    (40, 40, 170),
    (60, 140, 60),
)


@dataclass(frozen=True)
class Look:
    """A person seen from above: shirt on the shoulders, hair on the head, trousers around, and how
    broadly built."""

    shirt: BGR
    hair: BGR
    build: float
    trousers: BGR

    def parts_lab(self) -> npt.NDArray[np.float64]:
        """CIELAB colours (8-bit scale) of the shirt, the hair and the trousers (3 x 3)."""
        bgr = np.array([[self.shirt, self.hair, self.trousers]], np.uint8)
        return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB)[0], np.float64)


def parts_areas() -> npt.NDArray[np.float64]:
    """How much of a person the ceiling sees of the shirt, the hair and the trousers (m², build 1)."""
    head = math.pi * HEAD_RADIUS_M**2
    body = math.pi * SHOULDER_HALF_M[0] * SHOULDER_HALF_M[1]
    shirt = body * SHIRT_SHARE**2
    return np.array([shirt - head, head, body - shirt])


def look_of(person_id: str) -> Look:
    """The person's look: fixed by their id, so every frame and every sensor sees the same clothes."""
    digest = hashlib.sha256(person_id.encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    hsv = np.array([[[rng.uniform(0, 180), rng.uniform(60, 230), rng.uniform(50, 240)]]], np.uint8)
    shirt = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    hair = rng.choice(np.array(HAIR_BGR))
    build = float(rng.uniform(0.9, 1.12))
    trousers = rng.choice(np.array(TROUSERS_BGR))  # drawn last: the other draws stay what they were
    return Look(
        (int(shirt[0]), int(shirt[1]), int(shirt[2])),
        (int(hair[0]), int(hair[1]), int(hair[2])),
        build,
        (int(trousers[0]), int(trousers[1]), int(trousers[2])),
    )
