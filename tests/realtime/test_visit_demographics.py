"""Each visit's age band and gender: the member's declared profile, else the entrance camera's guess."""

from __future__ import annotations

from collections import Counter

from realtime.checkout.demographics import Estimate, visit_profile
from realtime.checkout.fusion import StoreCheckout
from twin.run import StoreDay
from walkout.catalog import Catalog, Member, load_catalog
from walkout.contracts import Event, Visit, VisitStatus
from walkout.vocabulary import AgeBand, DemographicSource, Gender

GUESS = Estimate(AgeBand.AGE_19_29, Gender.MALE, 0.7)


def test_a_declared_profile_wins_over_the_camera() -> None:
    member = Member("M1", AgeBand.AGE_50_59, Gender.FEMALE, "S001")
    profile = visit_profile(member, GUESS)
    assert (profile.age_band, profile.gender) == (AgeBand.AGE_50_59, Gender.FEMALE)
    assert (profile.source, profile.confidence) == (DemographicSource.DECLARED, 1.0)


def test_an_undeclared_member_gets_the_estimate_and_nobody_seen_stays_unknown() -> None:
    undeclared = Member("M2", AgeBand.AGE_50_59, Gender.FEMALE, "S001", declared=False)
    profile = visit_profile(undeclared, GUESS)
    assert (profile.age_band, profile.gender, profile.source) == (
        AgeBand.AGE_19_29,
        Gender.MALE,
        DemographicSource.ESTIMATED,
    )
    assert profile.confidence == 0.7
    unseen = visit_profile(undeclared, None)
    assert (unseen.age_band, unseen.gender, unseen.source, unseen.confidence) == (
        AgeBand.UNKNOWN,
        Gender.UNKNOWN,
        DemographicSource.UNKNOWN,
        None,
    )


def closed_visits(day: StoreDay, catalog: Catalog) -> list[Visit]:
    fusion = StoreCheckout(catalog.store(day.store_id), catalog)
    outputs: list[Event] = []
    seen: set[str] = set()
    for event in sorted((event for _, event in day.events), key=lambda event: (event.ts, event.event_id)):
        if event.event_id not in seen:
            seen.add(event.event_id)
            outputs += fusion.apply(event)
    outputs += fusion.close_all()
    return [e for e in outputs if isinstance(e, Visit) and e.status is VisitStatus.CLOSED]


def test_visits_of_a_simulated_day_carry_declared_or_estimated_profiles(
    simulated_day: list[StoreDay],
) -> None:
    catalog = load_catalog()
    visits = closed_visits(simulated_day[0], catalog)
    sources = Counter(visit.demographic_source for visit in visits)
    assert sources[DemographicSource.DECLARED] > 0
    assert sources[DemographicSource.ESTIMATED] > 0
    # nearly every undeclared payer is seen by the entrance camera as they come in
    assert sources[DemographicSource.UNKNOWN] <= 0.05 * len(visits)
    right: Counter[str] = Counter()
    for visit in visits:
        member = catalog.members[visit.shopper_id]
        assert (visit.demographic_source is DemographicSource.DECLARED) == member.declared
        if member.declared:
            assert (visit.age_band, visit.gender) == (member.age_band, member.gender)
        elif visit.demographic_source is DemographicSource.ESTIMATED:
            right["age"] += visit.age_band is member.age_band
            right["gender"] += visit.gender is member.gender
    estimated = sources[DemographicSource.ESTIMATED]
    # the stand-in camera guesses the band about 6 times in 10 and the gender about 9 in 10
    assert right["age"] >= 0.4 * estimated
    assert right["gender"] >= 0.8 * estimated
