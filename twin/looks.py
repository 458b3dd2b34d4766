"""What each person of the twin looks like from the ceiling.

The renderer draws this look (:mod:`twin.render`) and the stand-in tracker reports
its colour with the camera pipeline's noise (:mod:`twin.sensors`), so both kinds of
``camera.tracks`` carry the same people.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import cv2
import numpy as np

BGR = tuple[int, int, int]

SHOULDER_HALF_M = (0.23, 0.13)  # across and along the walking direction
HEAD_RADIUS_M = 0.1
HAIR_BGR: tuple[BGR, ...] = ((30, 30, 35), (40, 60, 90), (150, 150, 150), (90, 140, 190))


@dataclass(frozen=True)
class Look:
    """A person seen from above: shirt on the shoulders, hair on the head, and how broadly built."""

    shirt: BGR
    hair: BGR
    build: float

    def overhead_lab(self) -> tuple[float, float, float]:
        """Mean CIELAB colour (8-bit scale) of the person's pixels from above: shoulders around the head."""
        head = math.pi * HEAD_RADIUS_M**2
        shoulders = math.pi * SHOULDER_HALF_M[0] * SHOULDER_HALF_M[1] - head
        lab = cv2.cvtColor(np.array([[self.shirt, self.hair]], np.uint8), cv2.COLOR_BGR2LAB)[0].astype(float)
        mean = (lab[0] * shoulders + lab[1] * head) / (shoulders + head)
        return float(mean[0]), float(mean[1]), float(mean[2])


def look_of(person_id: str) -> Look:
    """The person's look: fixed by their id, so every frame and every sensor sees the same clothes."""
    digest = hashlib.sha256(person_id.encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    hsv = np.array([[[rng.uniform(0, 180), rng.uniform(60, 230), rng.uniform(50, 240)]]], np.uint8)
    shirt = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    hair = rng.choice(np.array(HAIR_BGR))
    return Look(
        (int(shirt[0]), int(shirt[1]), int(shirt[2])),
        (int(hair[0]), int(hair[1]), int(hair[2])),
        float(rng.uniform(0.9, 1.12)),
    )
