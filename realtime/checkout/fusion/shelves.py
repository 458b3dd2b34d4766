"""Shelves: who took from a plate, or put back on one.

A shelf event goes to the likeliest taker: whoever stood at the plate's reach point while a hand was on
it (their mean position, where the tracker's noise averages out), had stood there a while before and
moved on soon after. Picks from one spot moments apart are given together, mostly to different people.
A put-back goes to someone carrying that product, matched by weight (and by where its plate is) when it
landed on another plate. A receipt line is unsure when someone of another party was about as likely,
or (see :func:`realtime.checkout.fusion.swaps.swap`) when an id swap undone later may have put the take
on the wrong side of it.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass

from realtime.checkout.fusion import alerts
from realtime.checkout.fusion.params import FusionParams
from realtime.checkout.fusion.state import FusionState, Take, Weighed, epoch
from realtime.checkout.fusion.tracks import Person, Point, distance
from walkout.catalog import Plate
from walkout.contracts import Event, ShelfEvent


@dataclass(frozen=True)
class Stand:
    """How someone stood at a plate's reach point while a hand was on the plate."""

    distance: float  # of their mean position from the reach point: the tracker's noise averages out
    stood_s: float  # how long they had stood there before the weight settled (nan: not seen)
    moved_on_s: float  # how soon after it they walked away (inf: not within the look ahead, nan: lost)

    def taker_odds(self, params: FusionParams) -> float:
        """Log-likelihood that whoever stood like this had their hand on the plate."""
        odds = -0.5 * (self.distance / params.stand_noise_m) ** 2
        if self.stood_s < params.stood_before_s:
            odds += params.just_arrived_odds
        if math.isnan(self.moved_on_s):
            odds += params.lost_at_plate_odds
        elif self.moved_on_s > params.moved_on_s[1]:
            odds += params.stayed_on_odds
        elif self.moved_on_s < params.left_at_once_s:
            odds += params.left_at_once_odds
        elif self.moved_on_s < params.moved_on_s[0]:
            odds += params.soon_odds
        return odds


@dataclass(frozen=True)
class Candidate:
    """Someone who may have taken from (or put back on) a plate."""

    person: Person
    stand: Stand
    score: float  # the stand's taker odds


def attribute_put_back(state: FusionState, event: ShelfEvent) -> list[Event]:
    """Give a put-back to someone within reach of the plate who carried the product."""
    plate = state.plate(event.plate_id)
    if plate is None:
        return [state.reject(event, f"unknown plate {event.plate_id!r} in store {state.store.store_id}")]
    candidates = _candidates(state, plate, epoch(event.ts))
    if not candidates:
        return [state.reject(event, "unattributable: nobody stood within reach of the plate")]
    _put_back(state, event, candidates)
    return []


def attribute_picks(state: FusionState, events: list[ShelfEvent]) -> list[Event]:
    """Give picks made at about the same time from one spot to the likeliest people together: one
    person seldom has a hand on two plates at once."""
    outputs: list[Event] = []
    options: list[tuple[ShelfEvent, list[Candidate]]] = []
    for event in events:
        plate = state.plate(event.plate_id)
        candidates = _candidates(state, plate, epoch(event.ts)) if plate else []
        if plate is None:
            outputs.append(
                state.reject(event, f"unknown plate {event.plate_id!r} in store {state.store.store_id}")
            )
        elif not candidates:
            outputs.append(state.reject(event, "unattributable: nobody stood within reach of the plate"))
        else:
            options.append((event, candidates[: state.params.max_takers]))
    if not options:
        return outputs
    ranked = [
        (_joint_score(choice, state.params.both_hands_odds), choice)
        for choice in itertools.product(*(candidates for _, candidates in options))
    ]
    best_score, best = max(ranked, key=lambda item: item[0])  # the first of equals: nearest, then by id
    for index, (event, candidates) in enumerate(options):
        chosen = best[index]
        rivals = [
            (choice[index].person, score)
            for score, choice in ranked
            if not _same_party(choice[index].person, chosen.person)
        ]
        confidence = _clarity(best_score, [score for _, score in rivals]) * min(1.0, event.confidence + 0.05)
        weighed = _weighed(candidates)
        take = Take(epoch(event.ts), event.product_id, event.quantity, confidence, event, weighed)
        state.record(chosen.person, take)
        outputs += alerts.restricted_item(state, chosen.person, take)
        _flag_rivals(state, best_score, rivals)
    return outputs


def _candidates(state: FusionState, plate: Plate, at: float) -> list[Candidate]:
    """People within reach of the plate around the event, likeliest taker first."""
    candidates: list[Candidate] = []
    for person in state.persons.values():
        stand = _stand(state, person, plate.reach_point, at)
        if stand is not None and stand.distance <= state.params.reach_m:
            candidates.append(Candidate(person, stand, stand.taker_odds(state.params)))
    return sorted(candidates, key=lambda c: (-c.score, c.stand.distance, c.person.person_id))


def _stand(state: FusionState, person: Person, point: Point, at: float) -> Stand | None:
    """How the person stood at a reach point while a hand was on its plate; None if not around."""
    params = state.params
    samples = state.samples(person, at - params.hand_on_plate_s[0], at + params.hand_on_plate_s[1])
    if not samples:
        track = state.tracks.get(person.track_id)
        if track is None or not at - params.lost_s <= track.last_t < at:
            return None
        return Stand(distance(track.last_position, point), math.nan, math.nan)  # lost there a moment ago
    x = sum(sample[1] for sample in samples) / len(samples)
    y = sum(sample[2] for sample in samples) / len(samples)
    return Stand(
        distance((x, y), point), _stood_for(state, person, point, at), _moved_on(state, person, point, at)
    )


def _stood_for(state: FusionState, person: Person, point: Point, at: float) -> float:
    """Seconds the person had stood at a reach point before ``at`` (up to a look back)."""
    params = state.params
    since = at
    away = 0
    for sample in reversed(state.samples(person, at - params.stood_lookback_s, at)):
        if distance((sample[1], sample[2]), point) <= params.at_plate_m:
            since, away = sample[0], 0
        elif (away := away + 1) > 1:  # a single stray frame is the tracker's noise
            return at - since
    return math.inf if since < at - params.stood_lookback_s + 1.0 else at - since


def _moved_on(state: FusionState, person: Person, point: Point, at: float) -> float:
    """Seconds after ``at`` until the person walked away from a reach point (inf: still there at
    the end of the look ahead; nan: the tracker lost them there before it, so nobody knows)."""
    params = state.params
    away = 0
    samples = state.samples(person, at, at + params.lookahead_s)
    for sample in samples:
        if distance((sample[1], sample[2]), point) <= params.at_plate_m:
            away = 0
        elif (away := away + 1) > 1:  # a single stray frame is the tracker's noise
            return sample[0] - at
    if not samples or samples[-1][0] < at + params.lookahead_s - params.lost_at_plate_s:
        return math.nan
    return math.inf


def taker_odds(state: FusionState, person: Person, point: Point, at: float) -> float:
    stand = _stand(state, person, point, at)
    return -math.inf if stand is None else stand.taker_odds(state.params)


def _put_back(state: FusionState, event: ShelfEvent, candidates: list[Candidate]) -> None:
    product_id, quantity = event.product_id, event.quantity
    carts = {c.person.person_id: state.cart(c.person) for c in candidates}
    misplaced = event.confidence < 0.5 or not any(cart[product_id] > 0 for cart in carts.values())
    if misplaced:  # not this plate's product by weight, or nobody near carries it: a wrong-plate put-back
        match = _weight_match(state, event, list(carts.values()))
        if match is not None:
            product_id, quantity = match
    carrying = [c for c in candidates if carts[c.person.person_id][product_id] > 0]
    chosen = carrying[0] if carrying else candidates[0]
    rivals = [
        (c.person, c.score) for c in carrying if c is not chosen and not _same_party(c.person, chosen.person)
    ]
    confidence = _clarity(chosen.score, [score for _, score in rivals]) if carrying else 0.5
    weighed = _weighed(candidates[: state.params.max_takers])
    state.record(chosen.person, Take(epoch(event.ts), product_id, -quantity, confidence, event, weighed))
    _flag_rivals(state, chosen.score, rivals)


def _weighed(candidates: list[Candidate]) -> tuple[Weighed, ...]:
    """The candidates as an operator reviews them: each one's share of the likelihood, and how they
    stood."""
    top = max(candidate.score for candidate in candidates)
    weights = [math.exp(candidate.score - top) for candidate in candidates]
    total = sum(weights)
    return tuple(
        Weighed(
            candidate.person.visit_id,
            weight / total,
            candidate.stand.distance,
            candidate.stand.stood_s,
            candidate.stand.moved_on_s,
        )
        for candidate, weight in zip(candidates, weights, strict=True)
    )


def _flag_rivals(state: FusionState, chosen: float, rivals: list[tuple[Person, float]]) -> None:
    """Send another visit's receipt to review when the pick or put-back may well have been theirs:
    in a near tie, whichever way it went, one of the two receipts is wrong."""
    weights = _rival_weights(chosen, [score for _, score in rivals])
    total = 1.0 + sum(weights)  # the chosen one weighs 1
    shares: dict[str, float] = {}
    for (person, _), weight in zip(rivals, weights, strict=True):
        if person.visit_id in state.visits:
            shares[person.visit_id] = shares.get(person.visit_id, 0.0) + weight / total
    for visit_id, share in shares.items():
        if share > 1.0 - state.params.review_below:
            state.visits[visit_id].review_reasons.append("may have taken an item charged to another visit")


def _weight_match(state: FusionState, event: ShelfEvent, carts: list[Counter[str]]) -> tuple[str, int] | None:
    """The carried product (and count) whose weight explains a put-back, if one does; of products
    that weigh the same, the one whose own plate is nearest (a misplaced item lands close by)."""
    grams = abs(event.weight_delta_g)
    landed = state.store.plate(event.plate_id)
    best: tuple[float, float, str, int] | None = None
    for cart in carts:
        for product_id, carried in sorted(cart.items()):
            unit = state.catalog.product(product_id).unit_weight_g
            count = max(1, round(grams / unit))
            error = abs(count * unit - grams)
            if carried < count or error > max(state.params.weight_match_g, 0.05 * grams):
                continue
            away = min(
                (_plate_distance(landed, plate) for plate in state.store.plates_of(product_id)),
                default=math.inf,
            )
            if best is None or (away, error) < best[:2]:
                best = (away, error, product_id, count)
    return (best[2], best[3]) if best else None


def _plate_distance(one: Plate, other: Plate) -> float:
    """How far apart two plates sit on the shelves (along the floor and in height)."""
    return math.hypot(one.x_m - other.x_m, one.y_m - other.y_m, one.z_m - other.z_m)


def _joint_score(choice: tuple[Candidate, ...], both_hands_odds: float) -> float:
    """Log-likelihood of giving picks made together to these people (one person a pick, mostly:
    ``both_hands_odds`` for each pick more)."""
    people = [candidate.person.person_id for candidate in choice]
    return sum(candidate.score for candidate in choice) + both_hands_odds * (len(people) - len(set(people)))


def _same_party(one: Person, other: Person) -> bool:
    """Whether two people share a cart: one person, or members of one visit (a group's members often
    stand together)."""
    return one.person_id == other.person_id or (one.visit_id is not None and one.visit_id == other.visit_id)


def _clarity(chosen: float, rivals: list[float]) -> float:
    """How sure an attribution is: the chosen one's share of the likelihood (log-odds ``chosen``)
    against people of other parties (``rivals``), from 0.5 up to 0.99."""
    share = 1.0 / (1.0 + sum(_rival_weights(chosen, rivals)))
    return max(0.5, min(0.99, share))


def _rival_weights(chosen: float, rivals: list[float]) -> list[float]:
    """Each rival's likelihood (log-odds ``rivals``) relative to the chosen one's, which weighs 1."""
    return [math.exp(max(rival - chosen, -50.0)) for rival in rivals]
