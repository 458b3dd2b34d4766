"""Id swaps: when the tracker most likely swapped two people's ids, and undoing it.

A tracker swaps two ids the first time their people come within swapping distance; whether it did at
a close pass is weighed from how each id walks on (motion) and how each id's person looks (colour).
An exit under an id that is not the visit's is explained by the likeliest chain of such swaps, and
the takes after each swap move with it. Those takes are then only as sure as the swap: as the chain is
likelier than the runner-up explanation, and as the swap came at the chosen close pass rather than at
another of the pair's on the take's other side. (At the plate the person the track says is often the
only one near; whether the track was still theirs is the doubt that remains.)
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import replace

from realtime.checkout.fusion import shelves
from realtime.checkout.fusion.state import FusionState
from realtime.checkout.fusion.tracks import (
    Look,
    Looks,
    Person,
    Sighting,
    closest,
    misfit,
    split_passes,
    swap_odds_from_looks,
    typical_look,
)

Swaps = list[tuple[Person, float]]  # going back in time: each swapped ids with the one before, then
Passes = list[tuple[float, float]]  # a pair's close passes: where each likeliest swapped them, its weight
Explanation = tuple[float, Swaps, list[Passes]]  # a chain's cost, the chain, and each swap's pair's passes


def _look(state: FusionState, person: Person, at: float, after: bool) -> Look | None:
    """How the person looked in their sightings nearest before ``at`` (or from it on), if seen."""
    params = state.params
    start, end = (at, at + params.look_horizon_s) if after else (at - params.look_horizon_s, at)
    sightings: list[Sighting] = []
    for track_id, begin, until in person.spans(start, end):
        track = state.tracks.get(track_id)
        if track is not None:
            sightings += track.looks_between(begin, until)
    nearest = sightings[: params.look_sightings] if after else sightings[-params.look_sightings :]
    return typical_look(nearest) if len(nearest) >= params.colour_min_sightings else None


def _looks(state: FusionState, one: Person, other: Person, at: float, after: bool) -> Looks:
    return _look(state, one, at, after), _look(state, other, at, after)


def swap_chains(state: FusionState, owner: Person, targets: list[Person], until: float) -> list[Explanation]:
    """The two likeliest chains of id swaps by which one of ``targets`` came to walk under
    ``owner``'s id, with their costs (each swap costs its unlikeliness), best first, and for each
    swap the close passes of its pair, each weighed as where they swapped (see :func:`swap`)."""
    wanted = {person.person_id for person in targets}
    order = itertools.count()
    start: list[Passes] = []
    frontier: list[tuple[float, int, Person, float, Swaps, list[Passes]]] = [
        (0.0, next(order), owner, until, [], start)
    ]
    found: list[Explanation] = []
    while frontier and len(found) < 2:
        cost, _, person, before, chain, passes = heapq.heappop(frontier)
        if chain and person.person_id in wanted:
            found.append((cost, chain, passes))
            continue
        if len(chain) == state.params.max_swaps:
            continue
        seen = {owner.person_id, *(step[0].person_id for step in chain)}
        for other in state.persons.values():
            swap = None if other.person_id in seen else _swap_time(state, person, other, before)
            if swap is not None:
                step_cost = cost + math.log1p(1.0 / (state.params.swap_odds * swap[1]))  # -log P(swapped)
                step = [*chain, (other, swap[0])]
                heapq.heappush(frontier, (step_cost, next(order), other, swap[0], step, [*passes, swap[2]]))
    return found


def explanation_sureness(explanations: list[Explanation]) -> float:
    """How likely the best of an exit's explanations (best first) is the true one: its share of the
    likelihood against the runner-up (each chain's likelihood is ``exp(-cost)``; the exit happened, so
    one of them is true). A take an undone swap moved is charged right only if that swap was real."""
    if not explanations:
        return 1.0
    best = explanations[0][0]
    rivals = sum(math.exp(max(best - cost, -50.0)) for cost, _, _ in explanations[1:])
    return 1.0 / (1.0 + rivals)


def charged_differently(state: FusionState, owner: Person, one: Swaps, other: Swaps, until: float) -> bool:
    """Whether two explanations of an exit could charge differently: the people they involve took
    something where the explanations disagree (between their swap instants, or from the first
    swap on when they swap with different people)."""
    instants = [at for _, at in (*one, *other)]
    if [person.person_id for person, _ in one] == [person.person_id for person, _ in other]:
        if all(abs(a - b) <= 1.0 for (_, a), (_, b) in zip(one, other, strict=True)):
            return False
        start, end = min(instants), max(instants)
    else:
        start, end = min(instants), until
    people = {owner.person_id, *(person.person_id for person, _ in (*one, *other))}
    return any(
        start - state.params.pick_window_s[0] <= take.at <= end + state.params.pick_window_s[1]
        for person_id in sorted(people)
        for take in state.takes.get(person_id, [])
    )


def unswap(
    state: FusionState, owner: Person, chain: Swaps, sure: float = 1.0, passes: list[Passes] | None = None
) -> Person:
    """Undo a chain's swaps, oldest first, so its target follows ``owner``'s id; returns the target.
    ``sure``: how likely the chain is the true one; ``passes``: each swap's pair's close passes (see
    :func:`swap`: together they say how sure the takes of the people involved are)."""
    target = chain[-1][0]
    before = [owner, *(person for person, _ in chain[:-1])]
    weighed = passes if passes is not None else [[] for _ in chain]
    steps = zip(before, [at for _, at in chain], weighed, strict=True)
    for person, at, where in reversed(list(steps)):
        swap(state, target, person, at, sure, where)
    return target


def _swap_time(
    state: FusionState, one: Person, other: Person, until: float
) -> tuple[float, float, Passes] | None:
    """When the tracker most likely swapped the two people's ids (before ``until``), how likely that
    swap is, and every close pass of theirs (the instant each most likely swapped them, its weight).

    A tracker swaps two ids the first time their people come within swapping distance: each close
    pass is weighed as that first time by how close they likely came and by whether the ids jump
    or turn there as swapped ids would.
    """
    params = state.params
    start = max(one.since, other.since)
    gaps = sorted(
        (at, dx, dy) if mine < theirs else (at, -dx, -dy)
        for mine, mine_from, mine_until in one.spans(start, until)
        for theirs, theirs_from, theirs_until in other.spans(start, until)
        for at, dx, dy in state.passes.get((mine, theirs) if mine < theirs else (theirs, mine), ())
        if max(mine_from, theirs_from) <= at < min(mine_until, theirs_until)
    )
    best: tuple[float, float] | None = None  # (weight, instant)
    weighed: Passes = []
    not_yet = 1.0  # probability they had not come that close before this pass
    for close_pass in split_passes(gaps, params):
        close, frames = closest(close_pass, params)
        evidence, _, at = likeliest_swap(state, one, other, frames)
        weight = max(not_yet, params.someone_else) * close * math.exp(evidence)
        weighed.append((at, weight))
        if best is None or weight > best[0]:
            best = (weight, at)
        not_yet *= 1.0 - close
    if best is None or best[0] < 1e-9:
        return None
    return best[1], best[0], weighed


def _motion_evidence(state: FusionState, one: Person, other: Person, at: float) -> float:
    """Log-odds that the two ids were swapped at ``at``, from how each moves just before and after.

    People keep walking the way they walked (or keep standing); an id that jumps to where the
    other person stood, or turns to walk their way, was swapped. An id that only just appeared
    (or is about to vanish) is judged by the other one's walk alone.
    """
    params = state.params
    befores = [state.samples(person, at - params.join_s, at) for person in (one, other)]
    afters = [state.samples(person, at, at + params.join_s) for person in (one, other)]
    seen_before = [len(samples) >= 2 for samples in befores]
    seen_after = [len(samples) >= 2 for samples in afters]
    if all(seen_after):  # whom each walk up to ``at`` went on as
        terms = [
            misfit(befores[i], afters[i]) - misfit(befores[i], afters[1 - i])
            for i in (0, 1)
            if seen_before[i]
        ]
    elif all(seen_before):  # whom each walk from ``at`` came from
        terms = [
            misfit(befores[i], afters[i]) - misfit(befores[1 - i], afters[i]) for i in (0, 1) if seen_after[i]
        ]
    else:
        terms = []
    if not terms:
        return 0.0
    return max(params.motion_floor, min(params.motion_cap, sum(terms) / params.motion_scale_m2))


def likeliest_swap(
    state: FusionState, one: Person, other: Person, frames: list[tuple[float, float]]
) -> tuple[float, float, float]:
    """The frame of a close pass (from ``frames``, each with its prior) where the two ids most likely
    swapped: the log-odds of that from walks, looks and prior together, from looks alone, and the
    frame."""
    best = (-math.inf, 0.0, frames[0][0])
    for frame, prior in frames:
        looks = _colour_evidence(state, one, other, frame)
        evidence = _motion_evidence(state, one, other, frame) + looks + math.log(prior)
        if (evidence, frame) > (best[0], best[2]):
            best = (evidence, looks, frame)
    return best


def _colour_evidence(state: FusionState, one: Person, other: Person, at: float) -> float:
    """Log-odds that the two ids were swapped at ``at``, from how each id's person looked in their
    sightings nearest before it and from it on (see :func:`swap_odds_from_looks`). Frames where the
    two stood close enough to blur into one show neither's look (see :func:`camera.follow`), so while
    they stand together the looks come from before they met and after they parted."""
    params = state.params
    before, after = _looks(state, one, other, at, after=False), _looks(state, one, other, at, after=True)
    return max(
        -params.colour_cap,
        min(params.colour_cap, swap_odds_from_looks(before, after, params)),
    )


def swap(
    state: FusionState, one: Person, other: Person, at: float, sure: float = 1.0, passes: Passes | None = None
) -> None:
    """The tracker swapped the two people's ids at ``at``: from then on each is the other's.

    Each take of the two people becomes as sure as the chance it is now charged right (its confidence
    times that; see :func:`charged_right`): ``sure`` is how likely the swap was real at all, and
    ``passes`` (the pair's close passes, each weighed as where they swapped) how likely it was before
    or after the take; without them, only at ``at``. (A take two swaps of one chain move counts the
    chain's doubt twice: rare, and on the safe side.)"""
    one_before, one_after = one.split_at(at)
    other_before, other_after = other.split_at(at)
    one.pieces, other.pieces = one_before + other_after, other_before + one_after
    for person in (one, other):  # an id is owned by whoever follows it last
        for begin, track_id in person.pieces:
            track = state.tracks.get(track_id)
            if track is not None and begin >= at:
                latest = (begin, track_id) == person.pieces[-1]
                if latest or track.person_id in (one.person_id, other.person_id):
                    track.person_id = person.person_id
    moved = {one.person_id: other.person_id, other.person_id: one.person_id}
    takes = [(holder, take) for holder in moved for take in state.takes.pop(holder, [])]
    for holder, take in sorted(takes, key=lambda item: (item[1].at, item[1].event.event_id)):
        if take.at + state.params.pick_window_s[1] < at:
            taker = state.persons[holder]
        elif take.at - state.params.pick_window_s[0] > at:
            taker = state.persons[moved[holder]]
        else:  # the hand was on the plate around the swap: whoever now stood there took it
            reach = state.store.plate(take.event.plate_id).reach_point
            likely = {p.person_id: shelves.taker_odds(state, p, reach, take.at) for p in (one, other)}
            taker = state.persons[max(likely, key=lambda p: (likely[p], p == holder))]
        if take.quantity < 0:  # a put-back is by whoever carried the item, if only one of them did
            carriers = [p for p in (one, other) if state.cart(p)[take.product_id] > 0]
            taker = carriers[0] if len(carriers) == 1 else taker
        undone = taker.person_id != holder
        right = charged_right(take.at, undone, sure, at, passes or [(at, 1.0)])
        if undone or right < 1.0:
            take = replace(take, confidence=take.confidence * right, swaps_undone=take.swaps_undone + undone)
        state.record(taker, take)


def charged_right(at: float, moved: bool, sure: float, swapped_at: float, passes: Passes) -> float:
    """How likely a take at ``at`` of two people whose swap is undone (at ``swapped_at``) is charged
    right after it: one it moved to the other person is right if the swap was real (``sure``) and came
    before the take; one it left where it was is right if the swap was not real, or came after the take.
    ``passes``: where the pair may have swapped, each with its weight (a pass's share of the weight is
    the chance they swapped there); a take about as early as the undone swap went to whoever stood at
    the plate, so that swap counts as on the side it was charged to."""
    total = sum(weight for _, weight in passes)
    if total <= 0.0:
        return sure if moved else 1.0
    before = sum(weight for instant, weight in passes if (moved if instant == swapped_at else instant < at))
    share = before / total
    return sure * share if moved else 1.0 - sure + sure * (1.0 - share)
