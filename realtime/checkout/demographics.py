"""A visit's age band and gender: the member's declared profile wins over the entrance camera.

The entrance camera tags a shopper's first track samples at the gate with its estimate (see the
``camera.tracks`` contract); only those band estimates reach the checkout, never a face.
"""

from __future__ import annotations

from dataclasses import dataclass

from walkout.catalog.model import Member
from walkout.contracts import CameraTrack
from walkout.vocabulary import AgeBand, DemographicSource, Gender


@dataclass(frozen=True, slots=True)
class Estimate:
    """The entrance camera's guess for one track."""

    age_band: AgeBand
    gender: Gender
    confidence: float

    @classmethod
    def of(cls, sample: CameraTrack) -> Estimate | None:
        if sample.age_band is None or sample.age_band is AgeBand.UNKNOWN:
            return None
        return cls(sample.age_band, sample.gender or Gender.UNKNOWN, sample.demographic_confidence or 0.0)


@dataclass(frozen=True, slots=True)
class VisitProfile:
    age_band: AgeBand = AgeBand.UNKNOWN
    gender: Gender = Gender.UNKNOWN
    source: DemographicSource = DemographicSource.UNKNOWN
    confidence: float | None = None


def visit_profile(member: Member | None, estimate: Estimate | None) -> VisitProfile:
    """Declared profile if the member gave one, else the camera's estimate, else unknown."""
    if member is not None and member.declared:
        return VisitProfile(member.age_band, member.gender, DemographicSource.DECLARED, 1.0)
    if estimate is not None:
        return VisitProfile(
            estimate.age_band, estimate.gender, DemographicSource.ESTIMATED, round(estimate.confidence, 4)
        )
    return VisitProfile()
