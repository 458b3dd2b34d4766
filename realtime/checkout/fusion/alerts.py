"""Loss-prevention alerts, raised by the fusion as it decides, beside the receipts it makes.

* *tailgating*: a new id came in through a lane right behind a group an accepted entry scan admitted,
  was admitted by no scan, and is no one the tracker lost a moment before (a break): it walked in on
  someone else's scan. Raised when the new id is settled, once per id.
* *unpaid exit*: an unclaimed person (admitted by no scan) is gone, carrying goods: what they took, less
  what they put back, is charged to nobody (the takes are dead-lettered too). Raised with the goods and
  their catalog value, once per set of takes.
* *restricted item*: someone took alcohol or tobacco who is, or may be, a minor (not known to be an adult
  by the rule of :mod:`walkout.age`, as the receipt's age check), or the store's selling hours for them
  are over (local time). Raised as the pick is attributed, once per shelf event.

The thresholds are :class:`~realtime.checkout.fusion.params.AlertRules` (``params.alerts``). Alerts change
nothing the fusion decides: carts, receipts and attributions are the same with or without them.
"""

from __future__ import annotations

import math
from collections import Counter
from zoneinfo import ZoneInfo

from realtime.checkout.fusion.receipts import age_evidence
from realtime.checkout.fusion.state import FusionState, Take, epoch, utc
from realtime.checkout.fusion.tracks import Person, Sample, Track
from walkout.age import known_adult
from walkout.catalog import CatalogError
from walkout.contracts import (
    MAX_ALERT_UNITS,
    Alert,
    AlertItem,
    AlertKind,
    AlertSeverity,
    GateDirection,
    GateScan,
    ScanOutcome,
    alert_id,
)


def tailgater(state: FusionState, track: Track, lanes: list[str]) -> list[Alert]:
    """A tailgating alert for a new id at a gate lane that nobody admitted and no break explains, when it
    came in right behind a group admitted at that lane (``lanes``: the lanes it may have come through)."""
    params = state.params
    if not lanes or _undecided_entry(state, track, lanes):
        return []
    behind = [
        visit
        for visit in state.visits.values()
        if visit.gate_id in lanes
        and epoch(visit.entered_at)
        <= track.first_t
        <= epoch(visit.entered_at)
        + params.member_gap_s * (visit.group_size - 1)
        + params.entry_window_s[1]
        + params.alerts.tailgate_behind_s
    ]
    if not behind:
        return []
    visit = max(behind, key=lambda v: (v.entered_at, v.visit_id))  # the group it came in right behind
    after_s = track.first_t - epoch(visit.entered_at)
    _, x, y, zone = track.samples[0]
    return [
        Alert(
            event_id=alert_id(AlertKind.TAILGATING, state.store.store_id, track.track_id),
            store_id=state.store.store_id,
            ts=utc(track.first_t),
            kind=AlertKind.TAILGATING,
            severity=AlertSeverity.MEDIUM,
            zone_id=zone,
            x_m=x,
            y_m=y,
            gate_id=visit.gate_id,
            track_ids=(track.track_id,),
            visit_id=visit.visit_id,
            evidence=f"came in through {visit.gate_id} {after_s:.1f} s after the scan that admitted a group "
            f"of {visit.group_size}; admitted by no scan",
        )
    ]


def _undecided_entry(state: FusionState, track: Track, lanes: list[str]) -> bool:
    """Whether an accepted entry scan at these lanes that may yet admit this id is still undecided."""
    return any(
        isinstance(item, GateScan)
        and item.direction is GateDirection.ENTRY
        and item.outcome is ScanOutcome.ACCEPTED
        and item.gate_id in lanes
        and epoch(item.ts) - state.params.entry_window_s[0] <= track.first_t
        for _, _, item in state.pending
    )


def unpaid_exit(state: FusionState, person: Person, takes: list[Take]) -> list[Alert]:
    """An unpaid-exit alert for an unclaimed person gone with what they took (less what they put back),
    if anything is left of it."""
    carried: Counter[str] = Counter()
    for take in takes:
        carried[take.product_id] += take.quantity
    items = []
    for product_id, units in sorted(carried.items()):
        if units <= 0:
            continue
        try:
            price = state.catalog.product(product_id).price_krw
        except CatalogError:
            price = 0  # a product the catalog no longer knows: named, of no known value
        items.append(
            AlertItem(product_id=product_id, quantity=min(units, MAX_ALERT_UNITS), unit_price_krw=price)
        )
    if not items:
        return []
    value = sum(item.quantity * item.unit_price_krw for item in items)
    rules = state.params.alerts
    severity = (
        AlertSeverity.HIGH
        if value >= rules.unpaid_high_krw
        else AlertSeverity.MEDIUM
        if value >= rules.unpaid_medium_krw
        else AlertSeverity.LOW
    )
    last = _last_sample(state, person)
    at, x, y, zone = last if last is not None else (person.since, None, None, None)
    track_ids = tuple(dict.fromkeys(track_id for _, track_id in person.pieces))
    units = sum(item.quantity for item in items)
    return [
        Alert(
            event_id=alert_id(
                AlertKind.UNPAID_EXIT, state.store.store_id, *(take.event.event_id for take in takes)
            ),
            store_id=state.store.store_id,
            ts=utc(at),
            kind=AlertKind.UNPAID_EXIT,
            severity=severity,
            zone_id=zone,
            x_m=x,
            y_m=y,
            gate_id=state.lane_at((x, y)) if x is not None and y is not None else None,
            track_ids=track_ids[-20:],
            evidence=f"left carrying {units} unit{'s' if units != 1 else ''} worth {value:,} KRW that no "
            "visit was charged for; admitted by no scan",
            items=tuple(items),
            value_krw=value,
        )
    ]


def restricted_item(state: FusionState, person: Person, take: Take) -> list[Alert]:
    """A restricted-item alert for a pick of alcohol or tobacco by someone who is, or may be, a minor
    (high when any evidence says minor, medium when they are just not known to be an adult), or taken
    outside the store's selling hours for them (medium)."""
    if take.quantity <= 0:
        return []
    try:
        product = state.catalog.product(take.product_id)
    except CatalogError:
        return []
    if not product.age_restricted:
        return []
    visit = state.visits.get(person.visit_id or "")
    payer = visit is not None and bool(visit.person_ids) and visit.person_ids[0] == person.person_id
    evidence = age_evidence(state, person, payer=payer, visit=visit)
    minor = any(piece.says_minor for piece in evidence)
    adult = known_adult(evidence)
    store = state.store
    local_hour = utc(take.at).astimezone(ZoneInfo(store.timezone)).hour
    out_of_hours = not store.restricted_sale_allowed(local_hour)
    if adult and not out_of_hours:
        return []
    reasons = []
    if minor:
        reasons.append("by someone the entrance camera took for a minor")
    elif not adult:
        reasons.append("by someone not known to be an adult")
    if out_of_hours:
        start, end = store.restricted_hours or (0, 0)
        reasons.append(
            f"at {local_hour:02d}h local, outside its selling hours (not sold {start:02d}h-{end:02d}h)"
        )
    units = min(take.quantity, MAX_ALERT_UNITS)
    item = AlertItem(product_id=product.product_id, quantity=units, unit_price_krw=product.price_krw)
    plate = state.plate(take.event.plate_id)
    track_ids = tuple(dict.fromkeys(track_id for _, track_id in person.pieces))
    if not track_ids:
        return []
    return [
        Alert(
            event_id=alert_id(AlertKind.RESTRICTED_ITEM, store.store_id, take.event.event_id),
            store_id=store.store_id,
            ts=take.event.ts,
            kind=AlertKind.RESTRICTED_ITEM,
            severity=AlertSeverity.HIGH if minor else AlertSeverity.MEDIUM,
            zone_id=plate.zone_id if plate is not None else None,
            x_m=plate.x_m if plate is not None else None,
            y_m=plate.y_m if plate is not None else None,
            track_ids=track_ids[-20:],
            visit_id=person.visit_id,
            evidence=f"took {units} unit{'s' if units != 1 else ''} of age-restricted {product.product_id} "
            + " and ".join(reasons),
            items=(item,),
            value_krw=units * product.price_krw,
        )
    ]


def _last_sample(state: FusionState, person: Person) -> Sample | None:
    for track_id, begin, until in reversed(list(person.spans(-math.inf, math.inf))):
        track = state.tracks.get(track_id)
        samples = track.between(begin, until) if track is not None else []
        if samples:
            return samples[-1]
    return None
