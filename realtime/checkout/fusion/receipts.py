"""What the fusion sends out for a visit: its cart while it shops, and its visit, dwell and receipt.

Receipts carry a confidence and a review flag: a line less sure than the parameters' ``review_below``
(or, with a calibration, one whose calibrated confidence is below its threshold: the receipt names it),
an age-restricted item taken by someone not known to be an adult, or a doubt noted along the way (see
:attr:`OpenVisit.review_reasons`) sends it to an operator.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from datetime import datetime

from realtime.checkout.demographics import visit_profile
from realtime.checkout.fusion.params import FusionParams
from realtime.checkout.fusion.state import FusionState, OpenVisit, Weighed, utc
from realtime.checkout.fusion.tracks import Person, Sample
from walkout.age import AgeEvidence, known_adult
from walkout.contracts import (
    MAX_QUANTITY,
    Attribution,
    Cart,
    DwellSegment,
    Event,
    Purchase,
    ReceiptLine,
    TakeCandidate,
    Visit,
    VisitStatus,
    make_event_id,
)
from walkout.vocabulary import AgeBand

AGE_NOT_VERIFIED = "age-restricted item taken by someone not known to be an adult"  # a review reason
LOW_CONFIDENCE = "low attribution confidence"  # a review reason: a line less sure than the threshold


def _priced_lines(state: FusionState, visit: OpenVisit) -> tuple[list[ReceiptLine], dict[str, float]]:
    """What the visit's people carry, priced, and how sure the takes of each product were."""
    confidences: dict[str, float] = {}
    for person_id in visit.person_ids:
        for take in state.takes.get(person_id, []):
            confidences[take.product_id] = min(confidences.get(take.product_id, 1.0), take.confidence)
    lines = []
    for product_id, quantity in _line_quantities(state.carried(visit.person_ids)):
        price = state.catalog.product(product_id).price_krw
        lines.append(
            ReceiptLine(
                product_id=product_id,
                quantity=quantity,
                unit_price_krw=price,
                amount_krw=price * quantity,
                confidence=round(confidences[product_id], 4),
            )
        )
    return lines, confidences


def attributions(state: FusionState, visit: OpenVisit) -> list[Event]:
    """Who took what: every take of the visit's people as its receipt charges it, in the order the
    plates settled."""
    takes = [take for person_id in visit.person_ids for take in state.takes.get(person_id, [])]
    return [
        Attribution(
            event_id=make_event_id("attribution", take.event.event_id),
            store_id=state.store.store_id,
            ts=take.event.ts,
            shelf_event_id=take.event.event_id,
            visit_id=visit.visit_id,
            shopper_id=visit.shopper_id,
            plate_id=take.event.plate_id,
            action=take.event.action,
            product_id=take.product_id,
            quantity=abs(take.quantity),
            confidence=round(take.confidence, 4),
            candidates=tuple(_candidate(weighed, state.params) for weighed in take.weighed),
            swaps_undone=take.swaps_undone,
        )
        for take in sorted(takes, key=lambda take: (take.at, take.event.event_id))
    ]


def _candidate(weighed: Weighed, params: FusionParams) -> TakeCandidate:
    stood = min(weighed.stood_s, params.stood_lookback_s)  # inf: stood longer than the look back
    return TakeCandidate(
        visit_id=weighed.visit_id,
        likelihood=round(weighed.likelihood, 4),
        distance_m=round(weighed.distance, 2),
        stood_s=None if math.isnan(stood) else round(stood, 1),
        moved_on_s=None if not math.isfinite(weighed.moved_on_s) else round(weighed.moved_on_s, 1),
        lost_at_plate=math.isnan(weighed.moved_on_s),
    )


def cart_revisions(state: FusionState, at: float) -> list[Event]:
    """A new revision of every open visit's cart whose contents changed since it was last shown
    (compared as counts: runs at every decision, so the priced lines are built only for a change)."""
    outputs: list[Event] = []
    for visit in state.visits.values():
        contents = _line_quantities(state.carried(visit.person_ids))
        if contents == visit.cart_shown:
            continue
        lines, _ = _priced_lines(state, visit)
        visit.cart_shown = contents
        visit.cart_revision += 1
        outputs.append(
            Cart(
                event_id=make_event_id("cart", visit.visit_id, visit.cart_revision),
                store_id=state.store.store_id,
                ts=utc(at),
                visit_id=visit.visit_id,
                shopper_id=visit.shopper_id,
                revision=visit.cart_revision,
                lines=tuple(lines),
                total_krw=sum(line.amount_krw for line in lines),
            )
        )
    return outputs


def receipt(state: FusionState, visit: OpenVisit, at: datetime) -> Purchase | None:
    """The visit's receipt at its exit (none for an empty cart), sent to review when unsure."""
    lines, confidences = _priced_lines(state, visit)
    if not lines:
        return None
    # a line an unsure put-back took away is as unsure: the shopper may still carry it
    confidence = min(round(value, 4) for value in confidences.values())
    reasons = list(dict.fromkeys(visit.review_reasons))
    calibration = state.calibration
    if calibration.flags(confidence) if calibration else confidence < state.params.review_below:
        reasons.append(LOW_CONFIDENCE)
    if _unverified_restricted_take(state, visit):
        reasons.append(AGE_NOT_VERIFIED)
    return Purchase(
        event_id=make_event_id("purchase", visit.visit_id),
        store_id=state.store.store_id,
        ts=at,
        visit_id=visit.visit_id,
        shopper_id=visit.shopper_id,
        group_size=visit.group_size,
        lines=tuple(lines),
        total_krw=sum(line.amount_krw for line in lines),
        confidence=confidence,
        needs_review=bool(reasons),
        review_reasons=tuple(reasons),
        calibration_version=calibration.version if calibration else None,
    )


def _unverified_restricted_take(state: FusionState, visit: OpenVisit) -> bool:
    """Whether one of the visit's people not known to be an adult (:mod:`walkout.age`) carries alcohol
    or tobacco out: the payer counts their declared profile, everyone their camera estimates."""
    for number, person_id in enumerate(visit.person_ids):
        carried = state.carried([person_id])
        if not any(units > 0 and state.catalog.product(p).age_restricted for p, units in carried.items()):
            continue
        if not known_adult(age_evidence(state, state.persons[person_id], payer=number == 0, visit=visit)):
            return True
    return False


def age_evidence(
    state: FusionState, person: Person, payer: bool, visit: OpenVisit | None
) -> list[AgeEvidence]:
    """What the fusion knows of a person's age (:mod:`walkout.age`): the camera's estimates and minor
    sightings of each of their tracks, and, for a visit's payer, the member's declared profile."""
    track_ids = [track_id for _, track_id in person.pieces]
    evidence = [
        AgeEvidence(estimate.age_band, estimate.confidence)
        for track_id in track_ids
        if (estimate := state.estimates.get(track_id)) is not None
    ]
    evidence += [AgeEvidence(AgeBand.MINOR) for track_id in track_ids if track_id in state.minors]
    member = state.catalog.members.get(visit.shopper_id) if visit is not None else None
    if payer and member is not None and member.declared:
        evidence.append(AgeEvidence(member.age_band, 1.0, declared=True))
    return evidence


def visit_event(
    state: FusionState, visit: OpenVisit, status: VisitStatus, exited_at: datetime | None
) -> Visit:
    """The visit opened or closed, with its payer's demographic profile."""
    track_ids = [t for p in visit.person_ids for _, t in state.persons[p].pieces]
    payer_tracks = [t for _, t in state.persons[visit.person_ids[0]].pieces] if visit.person_ids else []
    seen = [state.estimates[t] for t in payer_tracks if t in state.estimates]
    profile = visit_profile(
        state.catalog.members.get(visit.shopper_id), max(seen, key=lambda e: e.confidence, default=None)
    )
    return Visit(
        event_id=make_event_id("visit", visit.visit_id, status),
        store_id=state.store.store_id,
        ts=exited_at or visit.entered_at,
        visit_id=visit.visit_id,
        shopper_id=visit.shopper_id,
        status=status,
        group_size=visit.group_size,
        track_ids=tuple(dict.fromkeys(track_ids)),
        entered_at=visit.entered_at,
        exited_at=max(exited_at, visit.entered_at) if exited_at else None,
        age_band=profile.age_band,
        gender=profile.gender,
        demographic_source=profile.source,
        demographic_confidence=profile.confidence,
    )


def dwell_segments(state: FusionState, visit: OpenVisit) -> list[DwellSegment]:
    """Zone stays of each person of the visit: consecutive samples in one zone."""
    segments: list[DwellSegment] = []
    for person_id in visit.person_ids:
        runs: list[list[Sample]] = []
        for sample in state.samples(state.persons[person_id], -math.inf, math.inf):
            if runs and runs[-1][-1][3] == sample[3]:
                runs[-1].append(sample)
            else:
                runs.append([sample])
        for number, run in enumerate(runs):
            zone = run[0][3]
            if zone is None:
                continue
            dwell = run[-1][0] - run[0][0]
            path = sum(math.hypot(b[1] - a[1], b[2] - a[2]) for a, b in itertools.pairwise(run))
            segments.append(
                DwellSegment(
                    event_id=make_event_id("dwell", visit.visit_id, person_id, number),
                    store_id=state.store.store_id,
                    ts=utc(run[-1][0]),
                    visit_id=visit.visit_id,
                    shopper_id=visit.shopper_id,
                    zone_id=zone,
                    entered_at=utc(run[0][0]),
                    exited_at=utc(run[-1][0]),
                    dwell_s=round(dwell, 3),
                    stopped=dwell >= state.params.stop_min_s and path / max(dwell, 1e-9) < 0.4,
                )
            )
    return segments


def _line_quantities(carried: Counter[str]) -> tuple[tuple[str, int], ...]:
    """Products a receipt or cart lists, in order, with their units (within a line's bound)."""
    return tuple(
        (product_id, min(quantity, MAX_QUANTITY))
        for product_id, quantity in sorted(carried.items())
        if quantity > 0
    )
