"""The age rule of alcohol and tobacco: any sign of a minor wins, unknown is not adult."""

from __future__ import annotations

import itertools

import pytest

from walkout.age import ESTIMATE_CONFIDENCE, AgeEvidence, known_adult, strongest
from walkout.vocabulary import AgeBand

SURE, UNSURE = 0.95, 0.63
ADULT_BANDS = [band for band in AgeBand if band not in {AgeBand.MINOR, AgeBand.UNKNOWN}]


def estimate(band: AgeBand, confidence: float) -> AgeEvidence:
    return AgeEvidence(band, confidence)


def declared(band: AgeBand) -> AgeEvidence:
    return AgeEvidence(band, 1.0, declared=True)


@pytest.mark.parametrize("band", ADULT_BANDS)
def test_a_sure_estimate_or_a_declared_profile_of_an_adult_is_an_adult(band: AgeBand) -> None:
    assert known_adult([estimate(band, ESTIMATE_CONFIDENCE)])
    assert known_adult([declared(band)])


@pytest.mark.parametrize(
    "evidence",
    [
        [],
        [estimate(AgeBand.UNKNOWN, 1.0)],
        [declared(AgeBand.UNKNOWN)],
        [estimate(AgeBand.AGE_19_29, UNSURE)],
        [estimate(AgeBand.AGE_30_39, ESTIMATE_CONFIDENCE - 0.01)],
    ],
    ids=["nothing", "unknown band", "declared nothing", "unsure adult", "just below the threshold"],
)
def test_unknown_or_unsure_is_not_an_adult(evidence: list[AgeEvidence]) -> None:
    assert not known_adult(evidence)


@pytest.mark.parametrize(
    "evidence",
    [
        # the probe: the visit's weaker estimate said adult, a track's stronger one said minor
        [estimate(AgeBand.AGE_19_29, UNSURE), estimate(AgeBand.MINOR, SURE)],
        [estimate(AgeBand.AGE_19_29, SURE), estimate(AgeBand.MINOR, 0.05)],
        [declared(AgeBand.AGE_40_49), estimate(AgeBand.MINOR, 0.3)],
        [estimate(AgeBand.AGE_60_PLUS, 1.0), declared(AgeBand.MINOR)],
        [estimate(AgeBand.MINOR, 0.0)],
    ],
    ids=["probe", "a faint minor", "declared adult, estimated minor", "declared minor", "zero confidence"],
)
def test_any_evidence_of_a_minor_wins(evidence: list[AgeEvidence]) -> None:
    assert not known_adult(evidence)
    assert not known_adult(reversed(evidence))


def test_the_strongest_pieces_decide_as_all_of_them_do() -> None:
    pieces = [
        evidence
        for band in AgeBand
        for evidence in (estimate(band, 0.1), estimate(band, UNSURE), estimate(band, SURE), declared(band))
    ]
    for size in (1, 2, 3):
        for combination in itertools.combinations(pieces, size):
            kept = strongest(combination)
            assert known_adult(kept) == known_adult(combination), combination
            assert set(kept) <= set(combination)
    assert len(strongest(pieces * 3)) == 2 * len(AgeBand)
