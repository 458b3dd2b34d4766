"""The gate lanes: who came in on an entry scan, who walked out on an exit scan.

A group comes through a lane one by one right after its scan, and leaves the same way; when two groups
scan at one lane moments apart, their members are paired with the groups they were due with, both in
order (so a tailgater behind a group stays unclaimed).
"""

from __future__ import annotations

import math

from realtime.checkout.fusion import exits, receipts
from realtime.checkout.fusion.state import FusionState, OpenVisit, epoch
from realtime.checkout.fusion.tracks import Track, distance
from walkout.contracts import MAX_GROUP_SIZE, Event, GateDirection, GateScan, ScanOutcome, VisitStatus


def entry_lanes(state: FusionState, track: Track) -> list[str]:
    """The lanes a new id may have come through, likeliest first: the nearest one, and a
    neighbouring lane when the first sighting lies about halfway between the two."""
    near = sorted(state.store.gates, key=lambda g: distance(track.first_position, (g.x_m, g.y_m)))
    nearest = distance(track.first_position, (near[0].x_m, near[0].y_m))
    reach = min(state.params.gate_m, nearest + state.params.lane_doubt_m)
    return [g.gate_id for g in near if distance(track.first_position, (g.x_m, g.y_m)) <= reach]


def decide_scan(state: FusionState, scan: GateScan) -> list[Event]:
    """An accepted entry scan opens a visit with the ids that came in on it; an exit scan closes its
    visit with the people who walked out on it."""
    if scan.outcome is not ScanOutcome.ACCEPTED or scan.token_id is None or scan.shopper_id is None:
        return []
    visit_id = f"{scan.store_id}-{scan.token_id}"
    if scan.direction is GateDirection.EXIT:
        state.exiting.pop(visit_id, None)
    if visit_id in state.closed:
        return []
    visit = state.visits.get(visit_id)
    if scan.direction is GateDirection.ENTRY:
        return [] if visit is not None else _open(state, visit_id, scan)
    if visit is None:  # the entry scan was lost on the way: whoever leaves with this token is the visit
        visit = OpenVisit(visit_id, scan.shopper_id, scan.group_size, scan.gate_id, scan.ts)
        visit.review_reasons.append("entry not scanned")
        state.visits[visit_id] = visit
    leaving = _leaving(state, visit, scan)
    exits.reconcile(state, visit, leaving, epoch(scan.ts))
    return exits.close_visit(state, visit, scan.ts, leaving)


def _open(state: FusionState, visit_id: str, scan: GateScan) -> list[Event]:
    visit = OpenVisit(visit_id, scan.shopper_id or "", scan.group_size, scan.gate_id, scan.ts)
    state.visits[visit_id] = visit
    for track in _entrants(state, scan):
        state.join(state.persons[track.person_id], visit)
    return [receipts.visit_event(state, visit, VisitStatus.OPENED, None)]


def _entrants(state: FusionState, scan: GateScan) -> list[Track]:
    """The new ids that came in on a scan: its group comes through the lane one by one right after
    it. When another group scanned in at the lane meanwhile, the two groups' members come in
    between each other, each group at its own pace from its own scan."""
    params = state.params
    at = epoch(scan.ts)
    last = at + params.member_gap_s * (scan.group_size - 1) + params.entry_window_s[1]
    latest = last + params.member_gap_s * (MAX_GROUP_SIZE - 1)  # room for a group scanned in meanwhile
    entrants = sorted(
        (
            track
            for track in state.tracks.values()
            if at - params.entry_window_s[0] <= track.first_t <= latest
            and scan.gate_id in entry_lanes(state, track)
            and state.persons[track.person_id].visit_id is None
            and state.persons[track.person_id].pieces[0][1] == track.track_id
        ),
        key=lambda track: (entry_lanes(state, track).index(scan.gate_id), track.first_t, track.track_id),
    )
    slots = [(at + params.member_gap_s * member, True) for member in range(scan.group_size)]
    for _, _, item in state.pending:
        if (
            isinstance(item, GateScan)
            and item.direction is GateDirection.ENTRY
            and item.outcome is ScanOutcome.ACCEPTED
            and item.gate_id == scan.gate_id
            and item.event_id != scan.event_id
            and at <= epoch(item.ts) <= last
        ):
            slots += [
                (epoch(item.ts) + params.member_gap_s * member, False) for member in range(item.group_size)
            ]
    if len(slots) == scan.group_size:  # nobody else came in meanwhile: the first ones are the group
        return [track for track in entrants if track.first_t <= last][: scan.group_size]
    sightings = sorted(((track.first_t, track) for track in entrants), key=_by_time_and_id)
    return [track for _, track, ours in _match_in_order(sightings, sorted(slots), params.unpaired_s) if ours]


def _leaving(state: FusionState, visit: OpenVisit, scan: GateScan) -> list[Track]:
    """Ids that vanished through the lane right after the visit's exit scan, in order: its group
    leaves one by one (and a tailgater right behind). When another group scanned out at the lane
    meanwhile, the two groups leave between each other, each at its own pace from its own scan."""
    params = state.params
    at = epoch(scan.ts)
    others = [
        (when, size)
        for other, (lane, when, size) in state.exiting.items()
        if lane == scan.gate_id and other != visit.visit_id and abs(when - at) <= params.exit_window_s[1]
    ]
    last = (
        max([at, *(when + params.exit_gap_s * (size - 1) for when, size in others)]) + params.exit_window_s[1]
    )
    gone = sorted(
        (
            (track.last_t, track)
            for track in state.tracks.values()
            if at - params.exit_window_s[0] <= track.last_t <= last
            and state.lane_at(track.last_position) == scan.gate_id
            and not (track.first_t > at and entry_lanes(state, track))  # came in after the scan
        ),
        key=_by_time_and_id,
    )
    if not others:
        members = [track for when, track in gone if when <= at + params.exit_window_s[1]]
        return _lost_at_exit(state, scan, visit.group_size - len(members)) + members
    ours = [(at + params.exit_gap_s * member, True) for member in range(visit.group_size)]
    slots = sorted(
        ours + [(when + params.exit_gap_s * m, False) for when, size in others for m in range(size)]
    )
    paired = _match_in_order(gone, slots, params.unpaired_s)
    members = [track for _, track, mine in paired if mine]
    after = ours[-1][0] if ours else at
    next_group = min((when for when, mine in slots if not mine and when > after), default=math.inf)
    taken = {track.track_id for _, track, _ in paired}
    trailing = [
        track
        for when, track in gone
        if after < when < next_group - params.next_exit_s and track.track_id not in taken
    ]
    return _lost_at_exit(state, scan, visit.group_size - len(members)) + members + trailing


def _lost_at_exit(state: FusionState, scan: GateScan, missing: int) -> list[Track]:
    """Ids lost by the lane shortly before an exit scan that nobody followed on: when fewer of the
    group than scanned out were seen going through, the tracker lost the others as they left."""
    if missing <= 0:
        return []
    at = epoch(scan.ts)
    lost = sorted(
        (
            (track.last_t, track)
            for track in state.tracks.values()
            if at - state.params.lost_at_exit_s <= track.last_t < at - state.params.exit_window_s[0]
            and state.lane_at(track.last_position) == scan.gate_id
            and state.persons[track.person_id].track_id == track.track_id
        ),
        key=_by_time_and_id,
    )
    return [track for _, track in lost[max(len(lost) - missing, 0) :]]  # the last ones lost


def _by_time_and_id(sighting: tuple[float, Track]) -> tuple[float, str]:
    return sighting[0], sighting[1].track_id


def _match_in_order(
    sightings: list[tuple[float, Track]], slots: list[tuple[float, bool]], unpaired_s: float
) -> list[tuple[float, Track, bool]]:
    """Pair ids seen at a lane (each at the instant it came in or left) with the instants members of
    the groups there were due, keeping both orders, as close in time as possible; an id or a slot can
    stay unpaired at a cost of ``unpaired_s`` (a tailgater, a member the tracker missed). Returns the
    paired ids with their instant and whether their slot was ours."""
    cost = [[math.inf] * (len(slots) + 1) for _ in range(len(sightings) + 1)]
    step: dict[tuple[int, int], tuple[int, int]] = {}
    cost[0][0] = 0.0
    for i in range(len(sightings) + 1):
        for j in range(len(slots) + 1):
            here = cost[i][j]
            if here == math.inf:
                continue
            moves = [(i + 1, j, unpaired_s), (i, j + 1, unpaired_s)]
            if i < len(sightings) and j < len(slots):
                moves.append((i + 1, j + 1, abs(sightings[i][0] - slots[j][0])))
            for ni, nj, extra in moves:
                if ni <= len(sightings) and nj <= len(slots) and here + extra < cost[ni][nj]:
                    cost[ni][nj] = here + extra
                    step[(ni, nj)] = (i, j)
    pairs: list[tuple[float, Track, bool]] = []
    i, j = len(sightings), len(slots)
    while (i, j) != (0, 0):
        pi, pj = step[(i, j)]
        if pi == i - 1 and pj == j - 1:
            pairs.append((*sightings[pi], slots[pj][1]))
        i, j = pi, pj
    return pairs[::-1]
