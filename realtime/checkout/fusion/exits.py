"""Exits: who left with a visit, and the visit closed with its receipt.

The people who walk out through the gate right after a visit's exit scan (or whom the tracker lost by
the lane just before it) carry its goods. A member leaving under an id that is not the visit's got it
through id swaps (see :mod:`~realtime.checkout.fusion.swaps`), undone before the receipt is made;
whoever slips out behind the group was not admitted, and their takes are dead-lettered (and an unpaid
exit is raised, see :mod:`~realtime.checkout.fusion.alerts`).
"""

from __future__ import annotations

from datetime import datetime

from realtime.checkout.fusion import alerts, receipts, swaps
from realtime.checkout.fusion.state import FusionState, OpenVisit, epoch
from realtime.checkout.fusion.tracks import Person, Track
from walkout.contracts import Event, VisitStatus


def reconcile(state: FusionState, visit: OpenVisit, leaving: list[Track], at: float) -> None:
    """Make the people who walked out with the visit its people, moving takes where ids swapped.

    The group leaves right after its scan, so the first of ``leaving`` are its members (see
    ``_members``). A member leaving under an id that is not the visit's got it through id
    swaps with one of the visit's people who did not leave (or who left last, as a tailgater
    would); an unclaimed one is someone the entry missed or a break we did not stitch.
    """
    members = _members(state, visit, leaving)
    member_ids = {track.track_id for track in members}
    spare = [state.persons[p] for p in visit.person_ids if state.persons[p].track_id not in member_ids]
    for track in members:
        owner = state.persons[track.person_id]
        if owner.visit_id == visit.visit_id:
            continue
        targets = spare
        if not spare and owner.visit_id is not None and len(visit.person_ids) < visit.group_size:
            targets = [p for p in state.persons.values() if p.visit_id is None]  # ours, never claimed
        explanations = swaps.swap_chains(state, owner, targets, track.last_t)
        if (
            len(explanations) > 1
            and explanations[1][0] - explanations[0][0] < state.params.ambiguous_cost
            and swaps.charged_differently(state, owner, explanations[0][1], explanations[1][1], track.last_t)
        ):
            visit.review_reasons.append("ids swapped: ambiguous")
        if explanations:
            sure = swaps.explanation_sureness(explanations)
            ours = swaps.unswap(state, owner, explanations[0][1], sure, explanations[0][2])
            if ours in spare:
                spare.remove(ours)
            else:
                state.join(ours, visit)
        elif owner.visit_id is None:
            state.join(owner, visit)
        else:
            visit.review_reasons.append("left under the track of another visit")
    if any(state.last_sighting(person) > at for person in spare):  # still in the store
        visit.review_reasons.append("a shopper of the visit was not seen leaving")


def _members(state: FusionState, visit: OpenVisit, leaving: list[Track]) -> list[Track]:
    """The group's members among the ids that left with its exit scan: the first ones, except that
    an id followed as someone of a visit still shopping (not scanning out) gives way to a later id
    followed as one of ours. Such an id was mostly lost by the lane for a moment (a break), not
    swapped with ours."""
    members = leaving[: visit.group_size]
    ours = [
        track
        for track in leaving[visit.group_size :]
        if state.persons[track.person_id].visit_id == visit.visit_id
    ]
    for index, track in enumerate(members):
        owner = state.persons[track.person_id].visit_id
        shopping = owner in state.visits and owner != visit.visit_id and owner not in state.exiting
        if ours and shopping:
            members[index] = ours.pop(0)
    return members


def close_visit(state: FusionState, visit: OpenVisit, at: datetime, leaving: list[Track]) -> list[Event]:
    """The visit left at ``at`` with ``leaving``: its visit, dwell, receipt and attributions out, its
    people gone (one of them still walking the store is someone we lost track of, unknown from here on)."""
    del state.visits[visit.visit_id]
    state.closed[visit.visit_id] = epoch(at)
    outputs: list[Event] = [receipts.visit_event(state, visit, VisitStatus.CLOSED, at)]
    outputs += receipts.dwell_segments(state, visit)
    receipt = receipts.receipt(state, visit, at)
    if receipt is not None:
        outputs.append(receipt)
    outputs += receipts.attributions(state, visit)
    left = {track.track_id for track in leaving}
    for person_id in visit.person_ids:
        person = state.persons.pop(person_id)
        state.takes.pop(person_id, None)
        for track_id in dict.fromkeys(track_id for _, track_id in person.pieces):
            track = state.tracks.get(track_id)
            if track is None or track.person_id != person_id:
                continue
            if track_id in left or epoch(at) - track.last_t > state.params.lost_s:
                _depart(state, track, epoch(at))
            else:  # still walking the store: someone we lost track of, unknown from here on
                _restart(state, track, epoch(at))
    for track in leaving:  # an unclaimed person who left with this visit: a tailgater
        if track.track_id in state.tracks and state.persons[track.person_id].visit_id is None:
            outputs += forget_person(
                state, state.persons[track.person_id], "taken by someone who was not admitted"
            )
    return outputs


def _depart(state: FusionState, track: Track, at: float) -> None:
    del state.tracks[track.track_id]
    state.estimates.pop(track.track_id, None)
    state.minors.discard(track.track_id)
    state.departed[track.track_id] = at


def _restart(state: FusionState, track: Track, at: float) -> None:
    person = Person(f"{track.track_id}@{at:.1f}", [(at, track.track_id)])
    state.persons[person.person_id] = person
    track.person_id = person.person_id


def forget_person(state: FusionState, person: Person, why: str) -> list[Event]:
    """An unclaimed person is gone: what they took is charged to nobody, and an unpaid exit is raised
    when they carried something out."""
    takes = state.takes.pop(person.person_id, [])
    outputs: list[Event] = [state.reject(take.event, f"unattributable: {why}") for take in takes]
    outputs += alerts.unpaid_exit(state, person, takes)
    state.persons.pop(person.person_id, None)
    for _, track_id in person.pieces:
        track = state.tracks.get(track_id)
        if track is not None and track.person_id == person.person_id:
            _depart(state, track, track.last_t)
    return outputs
