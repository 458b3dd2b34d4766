"""Camera tracks in: ids followed as people, close passes noted, breaks stitched.

Every new id starts as a person of its own; one that appeared at a gate lane waits for the entry scan
that admits it, one that appeared mid-store is most likely someone the tracker lost a moment ago. Ids
that pass close by are noted (the tracker may have swapped them) and looked at again once the pass is
over: when the looks are sure of a swap, it is undone at once.
"""

from __future__ import annotations

import heapq
import math

from realtime.checkout.demographics import Estimate
from realtime.checkout.fusion import alerts, gate, swaps
from realtime.checkout.fusion.state import FusionState, PassCheck, epoch
from realtime.checkout.fusion.tracks import Person, Sample, Track, closest, distance, split_passes
from walkout.contracts import Alert, CameraTrack
from walkout.vocabulary import AgeBand


def follow(state: FusionState, event: CameraTrack) -> None:
    """Add a camera sample to its id (a new id: a new person, settled once a scan or a break explains it)."""
    if event.track_id in state.departed:
        return
    estimate = Estimate.of(event)
    known = state.estimates.get(event.track_id)
    if estimate is not None and (known is None or estimate.confidence > known.confidence):
        state.estimates[event.track_id] = estimate
    if estimate is not None and estimate.age_band is AgeBand.MINOR:
        state.minors.add(event.track_id)  # however unsure: a minor's estimate always counts
    sample = (epoch(event.ts), event.x_m, event.y_m, event.zone_id)
    crowded = _note_passes(state, event.track_id, sample)
    seen = not crowded and (event.colour_lab is not None or event.appearance is not None)
    track = state.tracks.get(event.track_id)
    followed = track is not None
    if track is None:
        track = state.tracks[event.track_id] = Track(event.track_id, event.track_id, [sample])
    else:
        track.add(sample)
    if seen:
        track.add_look((sample[0], event.colour_lab, event.appearance))
    if followed:
        return
    state.persons[track.track_id] = Person(track.track_id, [(sample[0], track.track_id)])
    settle = state.params.gate_settle_s if gate.entry_lanes(state, track) else state.params.midstore_settle_s
    heapq.heappush(state.pending, (sample[0] + settle, f"track:{track.track_id}", track.track_id))


def _note_passes(state: FusionState, track_id: str, sample: Sample) -> bool:
    """Note the ids seen close to this one in the same frame: where the tracker can swap them.
    Returns whether someone stood close enough to blur into this person's look; their own look in
    this frame is forgotten too."""
    params = state.params
    at, x, y, _ = sample
    if at != state.frame[0]:
        if at < state.frame[0]:
            return True  # a late sample: its frame has gone by, and who stood by with it
        state.frame = (at, [])
    crowded = False
    for other, other_x, other_y in state.frame[1]:
        if other != track_id and abs(x - other_x) <= params.pass_m and abs(y - other_y) <= params.pass_m:
            pair, gap = (
                ((other, track_id), (at, other_x - x, other_y - y))
                if other < track_id
                else ((track_id, other), (at, x - other_x, y - other_y))
            )
            state.passes.setdefault(pair, []).append(gap)
            if pair not in state.pass_checks:
                _schedule_pass_check(state, PassCheck(pair, since=at), at)
            if math.hypot(gap[1], gap[2]) < params.looks_blend_m:
                crowded = True
                if other in state.tracks:
                    state.tracks[other].drop_look(at)
    state.frame[1].append((track_id, x, y))
    return crowded


def _schedule_pass_check(state: FusionState, check: PassCheck, last_close: float) -> None:
    state.pass_checks.add(check.pair)
    due = last_close + state.params.pass_seen_after_s
    heapq.heappush(state.pending, (due, f"pass:{check.pair[0]}|{check.pair[1]}", check))


def check_pass(state: FusionState, check: PassCheck, due: float) -> None:
    """Swap two people's ids back as soon as their looks show the tracker swapped them in a pass:
    each pass since the last look, in turn (two may come a few seconds apart)."""
    params = state.params
    gaps = state.passes.get(check.pair, [])
    if gaps and gaps[-1][0] + params.pass_seen_after_s > due:  # still passing
        _schedule_pass_check(state, check, gaps[-1][0])
        return
    state.pass_checks.discard(check.pair)
    tracks = [state.tracks.get(track_id) for track_id in check.pair]
    if tracks[0] is None or tracks[1] is None:
        return
    for close_pass in split_passes(sorted(gaps), params):
        if close_pass[-1][0] < check.since:
            continue
        one, other = state.persons.get(tracks[0].person_id), state.persons.get(tracks[1].person_id)
        if one is None or other is None or one is other:
            return
        _, looks, at = swaps.likeliest_swap(state, one, other, closest(close_pass, params)[1])
        if looks >= params.colour_sure:  # as sure of it as the looks' odds say
            swaps.swap(state, one, other, at, sure=1.0 / (1.0 + math.exp(-looks)))


def settle_new_id(state: FusionState, track_id: str) -> list[Alert]:
    """A new id nobody admitted: most likely someone the tracker lost a moment ago; else, at a gate lane
    right behind an admitted group, a tailgater."""
    track = state.tracks.get(track_id)
    if track is None:
        return []
    person = state.persons[track.person_id]
    if person.visit_id is not None or person.pieces[0][1] != track_id:
        return []
    lost = _lost_person(state, track)
    if lost is not None:
        _merge(state, person, into=lost)
        return []
    return alerts.tailgater(state, track, gate.entry_lanes(state, track))


def _lost_person(state: FusionState, track: Track) -> Person | None:
    """The person whose id vanished just before this one appeared, where their walks join up best."""
    params = state.params
    best: tuple[float, Person] | None = None
    for person in state.persons.values():
        old = state.tracks.get(person.track_id)
        if old is None or old is track:
            continue
        gap = track.first_t - old.last_t
        if not params.stitch_gap_s[0] <= gap <= params.stitch_gap_s[1]:
            continue
        if distance(old.last_position, track.first_position) > params.stitch_m + params.walk_mps * gap:
            continue
        cost = _stitch_cost(old, track, params.motion_s)
        if best is None or cost < best[0]:
            best = (cost, person)
    return best[1] if best is not None else None


def _merge(state: FusionState, person: Person, into: Person) -> None:
    """``person`` (an id of its own so far) is ``into`` after a break: one person from now on."""
    for begin, track_id in person.pieces:
        into.pieces.append((begin, track_id))
        state.tracks[track_id].person_id = into.person_id  # a new id's one piece: still in the store
    state.takes[into.person_id] = sorted(
        state.takes.get(into.person_id, []) + state.takes.pop(person.person_id, []),
        key=lambda take: take.at,
    )
    del state.persons[person.person_id]


def _stitch_cost(old: Track, new: Track, motion_s: float) -> float:
    """How far apart a lost id's end and a new id's start are once each walk is carried across the gap."""
    gap = new.first_t - old.last_t
    (ox, oy), (nx, ny) = old.last_position, new.first_position
    (ovx, ovy), (nvx, nvy) = old.end_velocity(motion_s), new.start_velocity(motion_s)
    kept_walking = distance((ox + ovx * gap, oy + ovy * gap), (nx, ny))
    came_walking = distance((nx - nvx * gap, ny - nvy * gap), (ox, oy))
    met = distance((ox + ovx * gap / 2, oy + ovy * gap / 2), (nx - nvx * gap / 2, ny - nvy * gap / 2))
    return min(kept_walking, came_walking, met)
