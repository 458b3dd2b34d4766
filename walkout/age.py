"""Who is known to be an adult: the one rule for alcohol and tobacco, on the ad screens and at checkout.

Korean law sells them from 19 (:attr:`AgeBand.MINOR` is 0-18). What walkout knows of a person's age is
evidence from several sources that may disagree: the entrance camera's estimate of each of their
tracks, the band a visit was given, a member's declared profile. The rule fails safe:

* any evidence of a minor wins, from any source and at any confidence;
* otherwise a person is an adult only on a declared adult profile or an adult estimate at least
  :data:`ESTIMATE_CONFIDENCE` sure;
* no such evidence (a group's companions, a person the camera did not estimate) is not an adult.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from walkout.vocabulary import AgeBand

ESTIMATE_CONFIDENCE = 0.8
"""An estimate this sure or surer tells someone's age band; below it only a minor's estimate counts."""


@dataclass(frozen=True, slots=True)
class AgeEvidence:
    """One source's word on a person's age band: an estimate and how sure it is, or a declared profile."""

    age_band: AgeBand
    confidence: float = 0.0
    declared: bool = False

    @property
    def says_minor(self) -> bool:
        return self.age_band is AgeBand.MINOR

    @property
    def says_adult(self) -> bool:
        sure = self.declared or self.confidence >= ESTIMATE_CONFIDENCE
        return sure and self.age_band not in {AgeBand.MINOR, AgeBand.UNKNOWN}


def known_adult(evidence: Iterable[AgeEvidence]) -> bool:
    """The person is known to be 19 or older: some evidence surely says so and none says minor."""
    pieces = tuple(evidence)
    return any(piece.says_adult for piece in pieces) and not any(piece.says_minor for piece in pieces)


def strongest(evidence: Iterable[AgeEvidence]) -> tuple[AgeEvidence, ...]:
    """The surest piece of each band and kind: decides :func:`known_adult` exactly as all of it does, in
    at most 14 pieces, so a stream of estimates can be kept."""
    kept: dict[tuple[AgeBand, bool], AgeEvidence] = {}
    for piece in evidence:
        known = kept.get((piece.age_band, piece.declared))
        if known is None or piece.confidence > known.confidence:
            kept[(piece.age_band, piece.declared)] = piece
    return tuple(kept.values())
