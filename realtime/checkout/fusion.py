"""Sensor fusion for one store: visits from gate scans, people from camera tracks, carts from plates.

Events arrive in event-time order (see :mod:`realtime.checkout.ordering`); scans and shelf events
are decided once the tracks a few seconds past them have arrived. The tracker is the weak sensor:
it loses people for a moment (breaks) and swaps the ids of people who pass close by, so every id is
followed as part of a :class:`Person`, and the takes are kept per person with their time so they
can move when we learn that ids were swapped.

* **Entry.** An accepted entry scan opens a visit; the new ids that appear at that gate lane right
  after it are its people, in the order they came through (so a tailgater behind a group stays
  unclaimed). When two groups scan in at one lane moments apart, each member is paired with the
  group it was due with, both in order.
* **Breaks.** A new id that appears mid-store continues the person whose id was lost a moment ago
  where the walks of both join up best.
* **Shelves.** A shelf event goes to the likeliest taker: whoever stood at the plate's reach point
  while a hand was on it (their mean position, where the tracker's noise averages out), had stood
  there a while before and moved on soon after. Picks from one spot moments apart are given
  together, mostly to different people. A put-back goes to someone carrying that product, matched
  by weight (and by where its plate is) when it landed on another plate. What an unclaimed person
  takes is held until we learn who they are. A receipt line is unsure when someone of another
  party was about as likely.
* **Exit.** The people who walk out through the gate right after a visit's exit scan (or whom the
  tracker lost by the lane just before it, when too few were seen going through) carry its goods;
  whoever slips out behind the group was not admitted (their takes are dead-lettered). A member
  leaving under an id that is not the visit's got it through id swaps: the likeliest chain of swaps
  at close passes (how close they came, whether the walks join up only as swapped) leads back to one
  of the visit's people, and the takes after each swap move with it before the receipt is
  made. An exit scan without its entry (a lost message) still charges whoever left with it.

Everything here is decided from the events alone, in their order: a service restored from a
snapshot, or one run in another process, decides the same (no iteration over sets, no ``hash``).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from realtime.checkout.demographics import Estimate, visit_profile
from realtime.checkout.tracks import (
    FRAME_S,
    JOIN_S,
    Colour,
    Gap,
    Looks,
    Person,
    Point,
    Sample,
    Sighting,
    Track,
    closest,
    distance,
    misfit,
    split_passes,
    swap_odds_from_looks,
    typical_colour,
)
from walkout.age import AgeEvidence, known_adult
from walkout.catalog import Catalog, CatalogError, Plate, Store
from walkout.contracts import (
    MAX_QUANTITY,
    CameraTrack,
    Cart,
    DwellSegment,
    Event,
    GateDirection,
    GateScan,
    Purchase,
    ReceiptLine,
    ScanOutcome,
    ShelfAction,
    ShelfEvent,
    Visit,
    VisitStatus,
    make_event_id,
    rejected_event,
)
from walkout.vocabulary import AgeBand

LOOKAHEAD_S = 10.0  # decide a scan or shelf event once tracks this much later have arrived
LEFT_WITHOUT_SCAN_S = 180.0  # a visit whose people are all gone this long left without an exit scan
CLOSED_MEMORY_S = 86_400.0
SWEEP_S = 10.0  # how often (event time) to forget what is long gone

# Gate lanes: who came in on a scan, who left on one.
GATE_M = 1.5  # a track starting or ending this close to a gate lane went through it
LANE_DOUBT_M = 0.4  # a first sighting this much further from a neighbouring lane may have come through it
GATE_SETTLE_S = LOOKAHEAD_S + 0.5  # a new id at a gate first waits for the entry scan that admits it
ENTRY_WINDOW_S = (1.0, 2.0)  # a group's members appear at the gate from just before its scan on
MEMBER_GAP_S = 0.9  # members of a group come through the gate about this far apart
MAX_GROUP = 4  # one QR admits up to this many people
UNPAIRED_S = 1.5  # how far from when a member was due an id may come or go before it is someone else
EXIT_WINDOW_S = (1.5, 4.0)  # the people of a visit vanish through the gate around its exit scan
LOST_AT_EXIT_S = 5.0  # ... or the tracker lost them by the gate this long before it (a break as they left)
EXIT_GAP_S = 0.8  # members of a group leave through the gate about this far apart
NEXT_EXIT_S = 0.3  # ... and whoever leaves after the next exit scan at that lane belongs to that one

# Track breaks: a new id mid-store continues someone lost a moment ago.
MIDSTORE_SETTLE_S = 2.0  # a new id mid-store is judged once it has moved a little
STITCH_GAP_S = (0.5, 8.0)  # the tracker loses someone for this long
STITCH_M = 1.0  # ... and finds them this far (plus a walk across the gap) from where it lost them
WALK_MPS = 1.5  # a shopper walks at most this fast: how far a lost person can have gone
LOST_S = 6.0  # a person the tracker lost this recently still stands where last seen

# Hands on plates: who stood at the reach point, and how they came and went (measured on the twin).
REACH_M = 1.2  # how far from the reach point a shopper can stand and still take from the plate
HAND_ON_PLATE_S = (4.5, 1.0)  # a taker surely stands there this long before the weight settles and after
STAND_NOISE_M = 0.04  # the tracker's mean position over that stand strays this far from the true one
AT_PLATE_M = 0.4  # standing at a reach point, give or take the tracker's noise
STOOD_BEFORE_S = 4.8  # a taker has stood at the shelf this long before the weight settles ...
STOOD_LOOKBACK_S = 8.0
JUST_ARRIVED_ODDS = math.log(0.05)  # ... nearly always
MOVED_ON_S = (3.0, 9.0)  # a taker moves on this long after the weight settled, most of the time
# (stowing the item, a last look), as measured on the twin's stands:
STAYED_ON_ODDS = math.log(0.15)  # ... seldom staying longer (another take from the same spot)
SOON_ODDS = math.log(0.25)  # ... now and then a second sooner
LEFT_AT_ONCE_S = 2.0
LEFT_AT_ONCE_ODDS = math.log(0.05)  # ... and hardly ever leaving sooner still
LOST_AT_PLATE_ODDS = math.log(0.5)  # one the tracker lost there before they walked away: half as likely
LOST_AT_PLATE_S = 1.5  # not seen for this long by the end of the look ahead: lost (a break), not staying
BUSY_HANDS_S = 5.0  # picks from one spot this close in time are weighed together ...
SAME_SPOT_M = 0.5  # ... when their reach points are this close
BOTH_HANDS_ODDS = math.log(0.05)  # one person taking two of them at once
MAX_TAKERS = 3  # likeliest people weighed per pick
PICK_WINDOW_S = (6.0, 1.0)  # a take this close to an id swap is given again to whoever stood there
WEIGHT_MATCH_G = 15.0  # a put-back on another plate weighs a carried product's units, give or take

# Id swaps at close passes, undone at the exit (motion evidence calibrated on the twin).
PASS_M = 1.2  # people this close (along each axis) in a frame are passing each other
SWAP_ODDS = 0.3 / 0.7  # a close pass swaps ids now and then: explanations with fewer swaps win
SOMEONE_ELSE = 0.1  # ids of people who came close before may still swap: a third person passed between
MAX_SWAPS = 3  # longest chain of swaps an exit is explained by
MOTION_SCALE_M2 = 0.12  # how far (m²) walks stray from straight lines over a few seconds, besides a swap
MOTION_FLOOR = -2.3  # walks that join up as kept make a swap there unlikely ...
MOTION_CAP = 5.0  # ... and walks that join up only as swapped make it likely, within bounds
LOOK_SIGHTINGS = 8  # an id's look either side of an instant: its nearest sightings there ...
LOOK_HORIZON_S = 30.0  # ... within this long (people who stood close together were seen as one blob)
COLOUR_MIN_SIGHTINGS = 2
COLOUR_CAP = 6.0  # however different the looks, a swap's odds move at most this much (log)
LOOKS_BLEND_M = 0.7  # people this close may show up as one blob: neither's look is their own
COLOUR_SURE = 4.0  # looks this sure of a swap undo it right after the pass, before anyone leaves
PASS_SEEN_AFTER_S = FRAME_S + 6.0  # a pass is looked at once both were seen this long after
AMBIGUOUS_COST = 1.0  # a second explanation this close to the best one leaves the receipt unsure

# Receipts and dwell.
REVIEW_BELOW = 0.65  # a receipt line less sure than this goes to review: wrong about one time in three
AGE_NOT_VERIFIED = "age-restricted item taken by someone not known to be an adult"  # a review reason
STOP_MIN_S = 5.0  # a zone stay at least this long, moving under 0.4 m/s on average, is a stop

Swaps = list[tuple[Person, float]]  # going back in time: each swapped ids with the one before, then


def epoch(value: datetime) -> float:
    return value.timestamp()


def utc(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True)
class Take:
    """A shelf event as it changed one person's cart (a put-back takes a negative quantity)."""

    at: float  # when the plate settled
    product_id: str
    quantity: int
    confidence: float
    event: ShelfEvent


@dataclass
class OpenVisit:
    visit_id: str
    shopper_id: str
    group_size: int
    gate_id: str
    entered_at: datetime
    person_ids: list[str] = field(default_factory=list)
    review_reasons: list[str] = field(default_factory=list)
    cart_revision: int = 0  # how many times its cart was shown
    cart_shown: tuple[tuple[str, int], ...] = ()  # products and quantities the cart last showed


@dataclass(frozen=True)
class Stand:
    """How someone stood at a plate's reach point while a hand was on the plate."""

    distance: float  # of their mean position from the reach point: the tracker's noise averages out
    stood_s: float  # how long they had stood there before the weight settled (nan: not seen)
    moved_on_s: float  # how soon after it they walked away (inf: not within the look ahead, nan: lost)

    def taker_odds(self) -> float:
        """Log-likelihood that whoever stood like this had their hand on the plate."""
        odds = -0.5 * (self.distance / STAND_NOISE_M) ** 2
        if self.stood_s < STOOD_BEFORE_S:
            odds += JUST_ARRIVED_ODDS
        if math.isnan(self.moved_on_s):
            odds += LOST_AT_PLATE_ODDS
        elif self.moved_on_s > MOVED_ON_S[1]:
            odds += STAYED_ON_ODDS
        elif self.moved_on_s < LEFT_AT_ONCE_S:
            odds += LEFT_AT_ONCE_ODDS
        elif self.moved_on_s < MOVED_ON_S[0]:
            odds += SOON_ODDS
        return odds


@dataclass(frozen=True)
class PassCheck:
    """Look again at two ids once their close passes are over and both have been seen for a while after."""

    pair: tuple[str, str]
    since: float = -math.inf  # the passes from this instant on are yet to be looked at


@dataclass(frozen=True)
class Candidate:
    """Someone who may have taken from (or put back on) a plate."""

    person: Person
    stand: Stand
    score: float  # the stand's taker odds


class StoreCheckout:
    """The live state of one store; :meth:`apply` takes events in event-time order and returns outputs."""

    def __init__(self, store: Store, catalog: Catalog) -> None:
        self.store = store
        self.catalog = catalog
        self.visits: dict[str, OpenVisit] = {}
        self.tracks: dict[str, Track] = {}
        self.persons: dict[str, Person] = {}
        self.takes: dict[str, list[Take]] = {}  # person id → what they took, in time order
        self.passes: dict[tuple[str, str], list[Gap]] = {}  # id pair → frames they were close
        self.frame: tuple[float, list[tuple[str, float, float]]] = (0.0, [])  # ids in the latest frame
        self.exiting: dict[str, tuple[str, float, int]] = {}  # visit id → lane, time, group of undecided exit
        self.closed: dict[str, float] = {}  # visit id → when it closed
        self.departed: dict[str, float] = {}  # track id → when it left; late samples are ignored
        self.estimates: dict[str, Estimate] = {}  # track id → the entrance camera's surest guess
        self.minors: set[str] = set()  # track ids the entrance camera ever took for a minor
        self.pass_checks: set[tuple[str, str]] = set()  # id pairs whose close pass is yet to be looked at
        self.pending: list[tuple[float, str, GateScan | ShelfEvent | PassCheck | str]] = []
        self.clock = 0.0
        self.swept = 0.0

    # --- events in ------------------------------------------------------------------------------

    def apply(self, event: Event) -> list[Event]:
        """Take one event; scans and shelf events are decided once the tracks have run past them."""
        self.clock = max(self.clock, epoch(event.ts))
        if isinstance(event, CameraTrack):
            self._track(event)
        elif isinstance(event, GateScan | ShelfEvent):
            if isinstance(event, GateScan) and event.direction is GateDirection.EXIT and event.token_id:
                self.exiting[f"{event.store_id}-{event.token_id}"] = (
                    event.gate_id,
                    epoch(event.ts),
                    event.group_size,
                )
            heapq.heappush(self.pending, (epoch(event.ts) + LOOKAHEAD_S, event.event_id, event))
        return self._decide(self.clock)

    def advance(self, until: float) -> list[Event]:
        """Every stream of the store has passed ``until`` (a quiet store's heartbeats say so): decide
        what was waiting for it, though no event came after it."""
        if until <= self.clock:
            return []
        self.clock = until
        return self._decide(until)

    def _decide(self, until: float) -> list[Event]:
        outputs: list[Event] = []
        while self.pending and self.pending[0][0] <= until:
            due, _, item = heapq.heappop(self.pending)
            if isinstance(item, str):
                self._settle(item)
            elif isinstance(item, PassCheck):
                self._check_pass(item, due)
            elif isinstance(item, GateScan):
                outputs += self._scan(item)
            elif item.action is ShelfAction.PICK:
                outputs += self._picks([item, *self._picks_alongside(item)])
            else:
                outputs += self._shelf(item)
            # only decisions change carts (takes, swaps undone, people joined): each one's change is a
            # revision dated at it, however many a watermark step decides at once, so a replay shows
            # the same carts whatever its poll batches were
            outputs += self._carts(due)
        return outputs

    def _picks_alongside(self, first: ShelfEvent) -> list[ShelfEvent]:
        """Undecided picks from the same spot of the shelf in the moments after ``first`` (taken off the
        queue): hands on the shelf at about the same time are most likely different people's."""
        plate = self._plate(first.plate_id)
        if plate is None:
            return []
        alongside: list[ShelfEvent] = []
        for _, _, item in sorted(self.pending, key=lambda entry: entry[:2]):
            other = self._plate(item.plate_id) if isinstance(item, ShelfEvent) else None
            if (
                isinstance(item, ShelfEvent)
                and item.action is ShelfAction.PICK
                and other is not None
                and 0.0 <= epoch(item.ts) - epoch(first.ts) <= BUSY_HANDS_S
                and distance(other.reach_point, plate.reach_point) <= SAME_SPOT_M
            ):
                alongside.append(item)
        if alongside:
            taken = {event.event_id for event in alongside}
            self.pending = [entry for entry in self.pending if entry[1] not in taken]
            heapq.heapify(self.pending)
        return alongside

    def expire(self, now: float) -> list[Event]:
        """Close visits that left without an exit scan (a lost message) and forget people long gone."""
        outputs: list[Event] = []
        for visit in list(self.visits.values()):
            last_seen = max(self._last_seen(visit), epoch(visit.entered_at))
            if now - last_seen > LEFT_WITHOUT_SCAN_S:
                visit.review_reasons.append("exit not scanned")
                outputs += self._close(visit, utc(last_seen), [])
        for person in [p for p in self.persons.values() if p.visit_id is None]:
            if now - self._last_sighting(person) > LEFT_WITHOUT_SCAN_S:
                outputs += self._forget(person, "left without being admitted by any scan")
        if now - self.swept >= SWEEP_S:
            self._sweep(now)
        return outputs

    def _sweep(self, now: float) -> None:
        self.swept = now
        self.closed = {v: at for v, at in self.closed.items() if now - at <= CLOSED_MEMORY_S}
        self.departed = {t: at for t, at in self.departed.items() if now - at <= LEFT_WITHOUT_SCAN_S}
        self.passes = {
            pair: gaps
            for pair, gaps in self.passes.items()
            if pair[0] in self.tracks or pair[1] in self.tracks
        }

    def close_all(self) -> list[Event]:
        """Decide everything pending, then close every open visit as if it left when last seen."""
        outputs = self._decide(math.inf)
        for visit in list(self.visits.values()):
            visit.review_reasons.append("exit not scanned")
            outputs += self._close(visit, utc(max(self._last_seen(visit), epoch(visit.entered_at))), [])
        for person in list(self.persons.values()):
            outputs += self._forget(person, "left without being admitted by any scan")
        return outputs

    # --- camera -----------------------------------------------------------------------------------

    def _track(self, event: CameraTrack) -> None:
        if event.track_id in self.departed:
            return
        estimate = Estimate.of(event)
        known = self.estimates.get(event.track_id)
        if estimate is not None and (known is None or estimate.confidence > known.confidence):
            self.estimates[event.track_id] = estimate
        if estimate is not None and estimate.age_band is AgeBand.MINOR:
            self.minors.add(event.track_id)  # however unsure: a minor's estimate always counts
        sample = (epoch(event.ts), event.x_m, event.y_m, event.zone_id)
        crowded = self._note_passes(event.track_id, sample)
        looks = None if crowded else event.colour_lab
        track = self.tracks.get(event.track_id)
        followed = track is not None
        if track is None:
            track = self.tracks[event.track_id] = Track(event.track_id, event.track_id, [sample])
        else:
            track.add(sample)
        if looks is not None:
            track.add_colour(sample[0], looks)
        if followed:
            return
        self.persons[track.track_id] = Person(track.track_id, [(sample[0], track.track_id)])
        settle = GATE_SETTLE_S if self._entry_lanes(track) else MIDSTORE_SETTLE_S
        heapq.heappush(self.pending, (sample[0] + settle, f"track:{track.track_id}", track.track_id))

    def _note_passes(self, track_id: str, sample: Sample) -> bool:
        """Note the ids seen close to this one in the same frame: where the tracker can swap them.
        Returns whether someone stood close enough to blur into this person's look; their own look in
        this frame is forgotten too."""
        at, x, y, _ = sample
        if at != self.frame[0]:
            if at < self.frame[0]:
                return True  # a late sample: its frame has gone by, and who stood by with it
            self.frame = (at, [])
        crowded = False
        for other, other_x, other_y in self.frame[1]:
            if other != track_id and abs(x - other_x) <= PASS_M and abs(y - other_y) <= PASS_M:
                pair, gap = (
                    ((other, track_id), (at, other_x - x, other_y - y))
                    if other < track_id
                    else ((track_id, other), (at, x - other_x, y - other_y))
                )
                self.passes.setdefault(pair, []).append(gap)
                if pair not in self.pass_checks:
                    self._schedule_pass_check(PassCheck(pair, since=at), at)
                if math.hypot(gap[1], gap[2]) < LOOKS_BLEND_M:
                    crowded = True
                    if other in self.tracks:
                        self.tracks[other].drop_colour(at)
        self.frame[1].append((track_id, x, y))
        return crowded

    def _schedule_pass_check(self, check: PassCheck, last_close: float) -> None:
        self.pass_checks.add(check.pair)
        due = last_close + PASS_SEEN_AFTER_S
        heapq.heappush(self.pending, (due, f"pass:{check.pair[0]}|{check.pair[1]}", check))

    def _check_pass(self, check: PassCheck, due: float) -> None:
        """Swap two people's ids back as soon as their looks show the tracker swapped them in a pass:
        each pass since the last look, in turn (two may come a few seconds apart)."""
        gaps = self.passes.get(check.pair, [])
        if gaps and gaps[-1][0] + PASS_SEEN_AFTER_S > due:  # still passing
            self._schedule_pass_check(check, gaps[-1][0])
            return
        self.pass_checks.discard(check.pair)
        tracks = [self.tracks.get(track_id) for track_id in check.pair]
        if tracks[0] is None or tracks[1] is None:
            return
        for close_pass in split_passes(sorted(gaps)):
            if close_pass[-1][0] < check.since:
                continue
            one, other = self.persons.get(tracks[0].person_id), self.persons.get(tracks[1].person_id)
            if one is None or other is None or one is other:
                return
            _, looks, at = self._likeliest_swap(one, other, closest(close_pass)[1])
            if looks >= COLOUR_SURE:
                self._swap(one, other, at)

    def _settle(self, track_id: str) -> None:
        """A new id nobody admitted at a gate: most likely someone the tracker lost a moment ago."""
        track = self.tracks.get(track_id)
        if track is None:
            return
        person = self.persons[track.person_id]
        if person.visit_id is not None or person.pieces[0][1] != track_id:
            return
        lost = self._lost_person(track)
        if lost is not None:
            self._merge(person, into=lost)

    def _lost_person(self, track: Track) -> Person | None:
        """The person whose id vanished just before this one appeared, where their walks join up best."""
        best: tuple[float, Person] | None = None
        for person in self.persons.values():
            old = self.tracks.get(person.track_id)
            if old is None or old is track:
                continue
            gap = track.first_t - old.last_t
            if not STITCH_GAP_S[0] <= gap <= STITCH_GAP_S[1]:
                continue
            if distance(old.last_position, track.first_position) > STITCH_M + WALK_MPS * gap:
                continue
            cost = _stitch_cost(old, track)
            if best is None or cost < best[0]:
                best = (cost, person)
        return best[1] if best is not None else None

    def _merge(self, person: Person, into: Person) -> None:
        """``person`` (an id of its own so far) is ``into`` after a break: one person from now on."""
        for begin, track_id in person.pieces:
            into.pieces.append((begin, track_id))
            self.tracks[track_id].person_id = into.person_id  # a new id's one piece: still in the store
        self.takes[into.person_id] = sorted(
            self.takes.get(into.person_id, []) + self.takes.pop(person.person_id, []),
            key=lambda take: take.at,
        )
        del self.persons[person.person_id]

    def _samples(self, person: Person, start: float, end: float) -> list[Sample]:
        samples: list[Sample] = []
        for track_id, begin, until in person.spans(start, end):
            track = self.tracks.get(track_id)  # gone with another person who already left
            if track is not None:
                samples += track.between(begin, until)
        return samples

    def _look(self, person: Person, at: float, after: bool) -> Colour | None:
        """How the person looked in their sightings nearest before ``at`` (or from it on), if seen."""
        start, end = (at, at + LOOK_HORIZON_S) if after else (at - LOOK_HORIZON_S, at)
        sightings: list[Sighting] = []
        for track_id, begin, until in person.spans(start, end):
            track = self.tracks.get(track_id)
            if track is not None:
                sightings += track.colours_between(begin, until)
        nearest = sightings[:LOOK_SIGHTINGS] if after else sightings[-LOOK_SIGHTINGS:]
        return typical_colour(nearest) if len(nearest) >= COLOUR_MIN_SIGHTINGS else None

    def _looks(self, one: Person, other: Person, at: float, after: bool) -> Looks:
        return self._look(one, at, after), self._look(other, at, after)

    def _last_seen(self, visit: OpenVisit) -> float:
        return max((self._last_sighting(self.persons[p]) for p in visit.person_ids), default=0.0)

    def _last_sighting(self, person: Person) -> float:
        """When the person was last seen (their id may have left with someone else they swapped with)."""
        for track_id, begin, until in reversed(list(person.spans(-math.inf, math.inf))):
            track = self.tracks.get(track_id)
            samples = track.between(begin, until) if track is not None else []
            if samples:
                return samples[-1][0]
        return person.since

    # --- gate -------------------------------------------------------------------------------------

    def _lane_at(self, position: Point) -> str | None:
        """The gate lane someone at this position is passing through, if any. Lanes are compared by
        id: a restored snapshot holds copies of the store's gates."""
        gate = min(self.store.gates, key=lambda g: distance(position, (g.x_m, g.y_m)))
        return gate.gate_id if distance(position, (gate.x_m, gate.y_m)) <= GATE_M else None

    def _entry_lanes(self, track: Track) -> list[str]:
        """The lanes a new id may have come through, likeliest first: the nearest one, and a
        neighbouring lane when the first sighting lies about halfway between the two."""
        near = sorted(self.store.gates, key=lambda g: distance(track.first_position, (g.x_m, g.y_m)))
        nearest = distance(track.first_position, (near[0].x_m, near[0].y_m))
        reach = min(GATE_M, nearest + LANE_DOUBT_M)
        return [g.gate_id for g in near if distance(track.first_position, (g.x_m, g.y_m)) <= reach]

    def _scan(self, scan: GateScan) -> list[Event]:
        if scan.outcome is not ScanOutcome.ACCEPTED or scan.token_id is None or scan.shopper_id is None:
            return []
        visit_id = f"{scan.store_id}-{scan.token_id}"
        if scan.direction is GateDirection.EXIT:
            self.exiting.pop(visit_id, None)
        if visit_id in self.closed:
            return []
        visit = self.visits.get(visit_id)
        if scan.direction is GateDirection.ENTRY:
            return [] if visit is not None else self._open(visit_id, scan)
        if visit is None:  # the entry scan was lost on the way: whoever leaves with this token is the visit
            visit = OpenVisit(visit_id, scan.shopper_id, scan.group_size, scan.gate_id, scan.ts)
            visit.review_reasons.append("entry not scanned")
            self.visits[visit_id] = visit
        leaving = self._leaving(visit, scan)
        self._reconcile(visit, leaving, epoch(scan.ts))
        return self._close(visit, scan.ts, leaving)

    def _open(self, visit_id: str, scan: GateScan) -> list[Event]:
        visit = OpenVisit(visit_id, scan.shopper_id or "", scan.group_size, scan.gate_id, scan.ts)
        self.visits[visit_id] = visit
        for track in self._entrants(scan):
            self._join(self.persons[track.person_id], visit)
        return [self._visit_event(visit, VisitStatus.OPENED, None)]

    def _entrants(self, scan: GateScan) -> list[Track]:
        """The new ids that came in on a scan: its group comes through the lane one by one right after
        it. When another group scanned in at the lane meanwhile, the two groups' members come in
        between each other, each group at its own pace from its own scan."""
        at = epoch(scan.ts)
        last = at + MEMBER_GAP_S * (scan.group_size - 1) + ENTRY_WINDOW_S[1]
        entrants = sorted(
            (
                track
                for track in self.tracks.values()
                if at - ENTRY_WINDOW_S[0] <= track.first_t <= last + MEMBER_GAP_S * (MAX_GROUP - 1)
                and scan.gate_id in self._entry_lanes(track)
                and self.persons[track.person_id].visit_id is None
                and self.persons[track.person_id].pieces[0][1] == track.track_id
            ),
            key=lambda track: (self._entry_lanes(track).index(scan.gate_id), track.first_t, track.track_id),
        )
        slots = [(at + MEMBER_GAP_S * member, True) for member in range(scan.group_size)]
        for _, _, item in self.pending:
            if (
                isinstance(item, GateScan)
                and item.direction is GateDirection.ENTRY
                and item.outcome is ScanOutcome.ACCEPTED
                and item.gate_id == scan.gate_id
                and item.event_id != scan.event_id
                and at <= epoch(item.ts) <= last
            ):
                slots += [
                    (epoch(item.ts) + MEMBER_GAP_S * member, False) for member in range(item.group_size)
                ]
        if len(slots) == scan.group_size:  # nobody else came in meanwhile: the first ones are the group
            return [track for track in entrants if track.first_t <= last][: scan.group_size]
        sightings = sorted(((track.first_t, track) for track in entrants), key=_by_time_and_id)
        return [track for _, track, ours in _match_in_order(sightings, sorted(slots)) if ours]

    def _join(self, person: Person, visit: OpenVisit) -> None:
        person.visit_id = visit.visit_id
        visit.person_ids.append(person.person_id)

    def _leaving(self, visit: OpenVisit, scan: GateScan) -> list[Track]:
        """Ids that vanished through the lane right after the visit's exit scan, in order: its group
        leaves one by one (and a tailgater right behind). When another group scanned out at the lane
        meanwhile, the two groups leave between each other, each at its own pace from its own scan."""
        at = epoch(scan.ts)
        others = [
            (when, size)
            for other, (lane, when, size) in self.exiting.items()
            if lane == scan.gate_id and other != visit.visit_id and abs(when - at) <= EXIT_WINDOW_S[1]
        ]
        last = max([at, *(when + EXIT_GAP_S * (size - 1) for when, size in others)]) + EXIT_WINDOW_S[1]
        gone = sorted(
            (
                (track.last_t, track)
                for track in self.tracks.values()
                if at - EXIT_WINDOW_S[0] <= track.last_t <= last
                and self._lane_at(track.last_position) == scan.gate_id
                and not (track.first_t > at and self._entry_lanes(track))  # came in after the scan
            ),
            key=_by_time_and_id,
        )
        if not others:
            members = [track for when, track in gone if when <= at + EXIT_WINDOW_S[1]]
            return self._lost_at_exit(scan, visit.group_size - len(members)) + members
        ours = [(at + EXIT_GAP_S * member, True) for member in range(visit.group_size)]
        slots = sorted(ours + [(when + EXIT_GAP_S * m, False) for when, size in others for m in range(size)])
        paired = _match_in_order(gone, slots)
        members = [track for _, track, mine in paired if mine]
        after = ours[-1][0] if ours else at
        next_group = min((when for when, mine in slots if not mine and when > after), default=math.inf)
        taken = {track.track_id for _, track, _ in paired}
        trailing = [
            track
            for when, track in gone
            if after < when < next_group - NEXT_EXIT_S and track.track_id not in taken
        ]
        return self._lost_at_exit(scan, visit.group_size - len(members)) + members + trailing

    def _lost_at_exit(self, scan: GateScan, missing: int) -> list[Track]:
        """Ids lost by the lane shortly before an exit scan that nobody followed on: when fewer of the
        group than scanned out were seen going through, the tracker lost the others as they left."""
        if missing <= 0:
            return []
        at = epoch(scan.ts)
        lost = sorted(
            (
                (track.last_t, track)
                for track in self.tracks.values()
                if at - LOST_AT_EXIT_S <= track.last_t < at - EXIT_WINDOW_S[0]
                and self._lane_at(track.last_position) == scan.gate_id
                and self.persons[track.person_id].track_id == track.track_id
            ),
            key=_by_time_and_id,
        )
        return [track for _, track in lost[max(len(lost) - missing, 0) :]]  # the last ones lost

    # --- exit: who left with the visit ------------------------------------------------------------

    def _reconcile(self, visit: OpenVisit, leaving: list[Track], at: float) -> None:
        """Make the people who walked out with the visit its people, moving takes where ids swapped.

        The group leaves right after its scan, so the first of ``leaving`` are its members (see
        :meth:`_members`). A member leaving under an id that is not the visit's got it through id
        swaps with one of the visit's people who did not leave (or who left last, as a tailgater
        would); an unclaimed one is someone the entry missed or a break we did not stitch.
        """
        members = self._members(visit, leaving)
        member_ids = {track.track_id for track in members}
        spare = [self.persons[p] for p in visit.person_ids if self.persons[p].track_id not in member_ids]
        for track in members:
            owner = self.persons[track.person_id]
            if owner.visit_id == visit.visit_id:
                continue
            targets = spare
            if not spare and owner.visit_id is not None and len(visit.person_ids) < visit.group_size:
                targets = [p for p in self.persons.values() if p.visit_id is None]  # ours, never claimed
            explanations = self._swap_chains(owner, targets, track.last_t)
            if (
                len(explanations) > 1
                and explanations[1][0] - explanations[0][0] < AMBIGUOUS_COST
                and self._charged_differently(owner, explanations[0][1], explanations[1][1], track.last_t)
            ):
                visit.review_reasons.append("ids swapped: ambiguous")
            if explanations:
                ours = self._unswap(owner, explanations[0][1])
                if ours in spare:
                    spare.remove(ours)
                else:
                    self._join(ours, visit)
            elif owner.visit_id is None:
                self._join(owner, visit)
            else:
                visit.review_reasons.append("left under the track of another visit")
        if any(self._last_sighting(person) > at for person in spare):  # still in the store
            visit.review_reasons.append("a shopper of the visit was not seen leaving")

    def _members(self, visit: OpenVisit, leaving: list[Track]) -> list[Track]:
        """The group's members among the ids that left with its exit scan: the first ones, except that
        an id followed as someone of a visit still shopping (not scanning out) gives way to a later id
        followed as one of ours. Such an id was mostly lost by the lane for a moment (a break), not
        swapped with ours."""
        members = leaving[: visit.group_size]
        ours = [
            track
            for track in leaving[visit.group_size :]
            if self.persons[track.person_id].visit_id == visit.visit_id
        ]
        for index, track in enumerate(members):
            owner = self.persons[track.person_id].visit_id
            shopping = owner in self.visits and owner != visit.visit_id and owner not in self.exiting
            if ours and shopping:
                members[index] = ours.pop(0)
        return members

    def _swap_chains(self, owner: Person, targets: list[Person], until: float) -> list[tuple[float, Swaps]]:
        """The two likeliest chains of id swaps by which one of ``targets`` came to walk under
        ``owner``'s id, with their costs (each swap costs its unlikeliness), best first."""
        wanted = {person.person_id for person in targets}
        order = itertools.count()
        frontier: list[tuple[float, int, Person, float, Swaps]] = [(0.0, next(order), owner, until, [])]
        found: list[tuple[float, Swaps]] = []
        while frontier and len(found) < 2:
            cost, _, person, before, chain = heapq.heappop(frontier)
            if chain and person.person_id in wanted:
                found.append((cost, chain))
                continue
            if len(chain) == MAX_SWAPS:
                continue
            seen = {owner.person_id, *(step[0].person_id for step in chain)}
            for other in self.persons.values():
                swap = None if other.person_id in seen else self._swap_time(person, other, before)
                if swap is not None:
                    step_cost = cost + math.log1p(1.0 / (SWAP_ODDS * swap[1]))  # -log P(swapped)
                    heapq.heappush(
                        frontier, (step_cost, next(order), other, swap[0], [*chain, (other, swap[0])])
                    )
        return found

    def _charged_differently(self, owner: Person, one: Swaps, other: Swaps, until: float) -> bool:
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
            start - PICK_WINDOW_S[0] <= take.at <= end + PICK_WINDOW_S[1]
            for person_id in sorted(people)
            for take in self.takes.get(person_id, [])
        )

    def _unswap(self, owner: Person, chain: Swaps) -> Person:
        """Undo a chain's swaps, oldest first, so its target follows ``owner``'s id; returns the target."""
        target = chain[-1][0]
        before = [owner, *(person for person, _ in chain[:-1])]
        for person, at in reversed(list(zip(before, [at for _, at in chain], strict=True))):
            self._swap(target, person, at)
        return target

    def _swap_time(self, one: Person, other: Person, until: float) -> tuple[float, float] | None:
        """When the tracker most likely swapped the two people's ids (before ``until``), and how likely
        that swap is.

        A tracker swaps two ids the first time their people come within swapping distance: each close
        pass is weighed as that first time by how close they likely came and by whether the ids jump
        or turn there as swapped ids would.
        """
        start = max(one.since, other.since)
        gaps = sorted(
            (at, dx, dy) if mine < theirs else (at, -dx, -dy)
            for mine, mine_from, mine_until in one.spans(start, until)
            for theirs, theirs_from, theirs_until in other.spans(start, until)
            for at, dx, dy in self.passes.get((mine, theirs) if mine < theirs else (theirs, mine), ())
            if max(mine_from, theirs_from) <= at < min(mine_until, theirs_until)
        )
        best: tuple[float, float] | None = None  # (weight, instant)
        not_yet = 1.0  # probability they had not come that close before this pass
        for close_pass in split_passes(gaps):
            close, frames = closest(close_pass)
            evidence, _, at = self._likeliest_swap(one, other, frames)
            weight = max(not_yet, SOMEONE_ELSE) * close * math.exp(evidence)
            if best is None or weight > best[0]:
                best = (weight, at)
            not_yet *= 1.0 - close
        if best is None or best[0] < 1e-9:
            return None
        return best[1], best[0]

    def _motion_evidence(self, one: Person, other: Person, at: float) -> float:
        """Log-odds that the two ids were swapped at ``at``, from how each moves just before and after.

        People keep walking the way they walked (or keep standing); an id that jumps to where the
        other person stood, or turns to walk their way, was swapped. An id that only just appeared
        (or is about to vanish) is judged by the other one's walk alone.
        """
        befores = [self._samples(person, at - JOIN_S, at) for person in (one, other)]
        afters = [self._samples(person, at, at + JOIN_S) for person in (one, other)]
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
                misfit(befores[i], afters[i]) - misfit(befores[1 - i], afters[i])
                for i in (0, 1)
                if seen_after[i]
            ]
        else:
            terms = []
        if not terms:
            return 0.0
        return max(MOTION_FLOOR, min(MOTION_CAP, sum(terms) / MOTION_SCALE_M2))

    def _likeliest_swap(
        self, one: Person, other: Person, frames: list[tuple[float, float]]
    ) -> tuple[float, float, float]:
        """The frame of a close pass (from ``frames``, each with its prior) where the two ids most likely
        swapped: the log-odds of that from walks, looks and prior together, from looks alone, and the
        frame."""
        best = (-math.inf, 0.0, frames[0][0])
        for frame, prior in frames:
            looks = self._colour_evidence(one, other, frame)
            evidence = self._motion_evidence(one, other, frame) + looks + math.log(prior)
            if (evidence, frame) > (best[0], best[2]):
                best = (evidence, looks, frame)
        return best

    def _colour_evidence(self, one: Person, other: Person, at: float) -> float:
        """Log-odds that the two ids were swapped at ``at``, from how each id's person looked in their
        sightings nearest before it and from it on (see :func:`swap_odds_from_looks`). Frames where the
        two stood close enough to blur into one show neither's look (see :meth:`_note_passes`), so
        while they stand together the looks come from before they met and after they parted."""
        before, after = self._looks(one, other, at, after=False), self._looks(one, other, at, after=True)
        return max(-COLOUR_CAP, min(COLOUR_CAP, swap_odds_from_looks(before, after)))

    def _swap(self, one: Person, other: Person, at: float) -> None:
        """The tracker swapped the two people's ids at ``at``: from then on each is the other's."""
        one_before, one_after = one.split_at(at)
        other_before, other_after = other.split_at(at)
        one.pieces, other.pieces = one_before + other_after, other_before + one_after
        for person in (one, other):  # an id is owned by whoever follows it last
            for begin, track_id in person.pieces:
                track = self.tracks.get(track_id)
                if track is not None and begin >= at:
                    latest = (begin, track_id) == person.pieces[-1]
                    if latest or track.person_id in (one.person_id, other.person_id):
                        track.person_id = person.person_id
        moved = {one.person_id: other.person_id, other.person_id: one.person_id}
        takes = [(holder, take) for holder in moved for take in self.takes.pop(holder, [])]
        for holder, take in sorted(takes, key=lambda item: (item[1].at, item[1].event.event_id)):
            if take.at + PICK_WINDOW_S[1] < at:
                taker = self.persons[holder]
            elif take.at - PICK_WINDOW_S[0] > at:
                taker = self.persons[moved[holder]]
            else:  # the hand was on the plate around the swap: whoever now stood there took it
                reach = self.store.plate(take.event.plate_id).reach_point
                likely = {p.person_id: self._taker_odds(p, reach, take.at) for p in (one, other)}
                taker = self.persons[max(likely, key=lambda p: (likely[p], p == holder))]
            if take.quantity < 0:  # a put-back is by whoever carried the item, if only one of them did
                carriers = [p for p in (one, other) if self._cart(p)[take.product_id] > 0]
                taker = carriers[0] if len(carriers) == 1 else taker
            self._record(taker, take)

    # --- exit: receipt and goodbye ----------------------------------------------------------------

    def _close(self, visit: OpenVisit, at: datetime, leaving: list[Track]) -> list[Event]:
        del self.visits[visit.visit_id]
        self.closed[visit.visit_id] = epoch(at)
        outputs: list[Event] = [self._visit_event(visit, VisitStatus.CLOSED, at)]
        outputs += self._dwell_segments(visit)
        receipt = self._receipt(visit, at)
        if receipt is not None:
            outputs.append(receipt)
        left = {track.track_id for track in leaving}
        for person_id in visit.person_ids:
            person = self.persons.pop(person_id)
            self.takes.pop(person_id, None)
            for track_id in dict.fromkeys(track_id for _, track_id in person.pieces):
                track = self.tracks.get(track_id)
                if track is None or track.person_id != person_id:
                    continue
                if track_id in left or epoch(at) - track.last_t > LOST_S:
                    self._depart(track, epoch(at))
                else:  # still walking the store: someone we lost track of, unknown from here on
                    self._restart(track, epoch(at))
        for track in leaving:  # an unclaimed person who left with this visit: a tailgater
            if track.track_id in self.tracks and self.persons[track.person_id].visit_id is None:
                outputs += self._forget(
                    self.persons[track.person_id], "taken by someone who was not admitted"
                )
        return outputs

    def _depart(self, track: Track, at: float) -> None:
        del self.tracks[track.track_id]
        self.estimates.pop(track.track_id, None)
        self.minors.discard(track.track_id)
        self.departed[track.track_id] = at

    def _restart(self, track: Track, at: float) -> None:
        person = Person(f"{track.track_id}@{at:.1f}", [(at, track.track_id)])
        self.persons[person.person_id] = person
        track.person_id = person.person_id

    def _forget(self, person: Person, why: str) -> list[Event]:
        """An unclaimed person is gone: what they took is charged to nobody."""
        outputs = [
            self._reject(take.event, f"unattributable: {why}")
            for take in self.takes.pop(person.person_id, [])
        ]
        self.persons.pop(person.person_id, None)
        for _, track_id in person.pieces:
            track = self.tracks.get(track_id)
            if track is not None and track.person_id == person.person_id:
                self._depart(track, track.last_t)
        return outputs

    # --- shelves ----------------------------------------------------------------------------------

    def _plate(self, plate_id: str) -> Plate | None:
        try:
            return self.store.plate(plate_id)
        except CatalogError:
            return None

    def _shelf(self, event: ShelfEvent) -> list[Event]:
        plate = self._plate(event.plate_id)
        if plate is None:
            return [self._reject(event, f"unknown plate {event.plate_id!r} in store {self.store.store_id}")]
        candidates = self._candidates(plate, epoch(event.ts))
        if not candidates:
            return [self._reject(event, "unattributable: nobody stood within reach of the plate")]
        self._put_back(event, candidates)
        return []

    def _picks(self, events: list[ShelfEvent]) -> list[Event]:
        """Give picks made at about the same time from one spot to the likeliest people together: one
        person seldom has a hand on two plates at once."""
        outputs: list[Event] = []
        options: list[tuple[ShelfEvent, list[Candidate]]] = []
        for event in events:
            plate = self._plate(event.plate_id)
            candidates = self._candidates(plate, epoch(event.ts)) if plate else []
            if plate is None:
                outputs.append(
                    self._reject(event, f"unknown plate {event.plate_id!r} in store {self.store.store_id}")
                )
            elif not candidates:
                outputs.append(self._reject(event, "unattributable: nobody stood within reach of the plate"))
            else:
                options.append((event, candidates[:MAX_TAKERS]))
        if not options:
            return outputs
        ranked = [
            (_joint_score(choice), choice)
            for choice in itertools.product(*(candidates for _, candidates in options))
        ]
        best_score, best = max(ranked, key=lambda item: item[0])  # the first of equals: nearest, then by id
        for index, (event, _) in enumerate(options):
            chosen = best[index]
            rivals = [
                (choice[index].person, score)
                for score, choice in ranked
                if not _same_party(choice[index].person, chosen.person)
            ]
            confidence = _clarity(best_score, [score for _, score in rivals]) * min(
                1.0, event.confidence + 0.05
            )
            self._record(
                chosen.person, Take(epoch(event.ts), event.product_id, event.quantity, confidence, event)
            )
            self._flag_rivals(best_score, rivals)
        return outputs

    def _candidates(self, plate: Plate, at: float) -> list[Candidate]:
        """People within reach of the plate around the event, likeliest taker first."""
        candidates: list[Candidate] = []
        for person in self.persons.values():
            stand = self._stand(person, plate.reach_point, at)
            if stand is not None and stand.distance <= REACH_M:
                candidates.append(Candidate(person, stand, stand.taker_odds()))
        return sorted(candidates, key=lambda c: (-c.score, c.stand.distance, c.person.person_id))

    def _stand(self, person: Person, point: Point, at: float) -> Stand | None:
        """How the person stood at a reach point while a hand was on its plate; None if not around."""
        samples = self._samples(person, at - HAND_ON_PLATE_S[0], at + HAND_ON_PLATE_S[1])
        if not samples:
            track = self.tracks.get(person.track_id)
            if track is None or not at - LOST_S <= track.last_t < at:
                return None
            return Stand(distance(track.last_position, point), math.nan, math.nan)  # lost there a moment ago
        x = sum(sample[1] for sample in samples) / len(samples)
        y = sum(sample[2] for sample in samples) / len(samples)
        return Stand(
            distance((x, y), point), self._stood_for(person, point, at), self._moved_on(person, point, at)
        )

    def _stood_for(self, person: Person, point: Point, at: float) -> float:
        """Seconds the person had stood at a reach point before ``at`` (up to a look back)."""
        since = at
        away = 0
        for sample in reversed(self._samples(person, at - STOOD_LOOKBACK_S, at)):
            if distance((sample[1], sample[2]), point) <= AT_PLATE_M:
                since, away = sample[0], 0
            elif (away := away + 1) > 1:  # a single stray frame is the tracker's noise
                return at - since
        return math.inf if since < at - STOOD_LOOKBACK_S + 1.0 else at - since

    def _moved_on(self, person: Person, point: Point, at: float) -> float:
        """Seconds after ``at`` until the person walked away from a reach point (inf: still there at
        the end of the look ahead; nan: the tracker lost them there before it, so nobody knows)."""
        away = 0
        samples = self._samples(person, at, at + LOOKAHEAD_S)
        for sample in samples:
            if distance((sample[1], sample[2]), point) <= AT_PLATE_M:
                away = 0
            elif (away := away + 1) > 1:  # a single stray frame is the tracker's noise
                return sample[0] - at
        if not samples or samples[-1][0] < at + LOOKAHEAD_S - LOST_AT_PLATE_S:
            return math.nan
        return math.inf

    def _taker_odds(self, person: Person, point: Point, at: float) -> float:
        stand = self._stand(person, point, at)
        return -math.inf if stand is None else stand.taker_odds()

    def _put_back(self, event: ShelfEvent, candidates: list[Candidate]) -> None:
        product_id, quantity = event.product_id, event.quantity
        carts = {c.person.person_id: self._cart(c.person) for c in candidates}
        misplaced = event.confidence < 0.5 or not any(cart[product_id] > 0 for cart in carts.values())
        if misplaced:  # not this plate's product by weight, or nobody near carries it: a wrong-plate put-back
            match = self._weight_match(event, list(carts.values()))
            if match is not None:
                product_id, quantity = match
        carrying = [c for c in candidates if carts[c.person.person_id][product_id] > 0]
        chosen = carrying[0] if carrying else candidates[0]
        rivals = [
            (c.person, c.score)
            for c in carrying
            if c is not chosen and not _same_party(c.person, chosen.person)
        ]
        confidence = _clarity(chosen.score, [score for _, score in rivals]) if carrying else 0.5
        self._record(chosen.person, Take(epoch(event.ts), product_id, -quantity, confidence, event))
        self._flag_rivals(chosen.score, rivals)

    def _flag_rivals(self, chosen: float, rivals: list[tuple[Person, float]]) -> None:
        """Send another visit's receipt to review when the pick or put-back may well have been theirs:
        in a near tie, whichever way it went, one of the two receipts is wrong."""
        weights = _rival_weights(chosen, [score for _, score in rivals])
        total = 1.0 + sum(weights)  # the chosen one weighs 1
        shares: dict[str, float] = {}
        for (person, _), weight in zip(rivals, weights, strict=True):
            if person.visit_id in self.visits:
                shares[person.visit_id] = shares.get(person.visit_id, 0.0) + weight / total
        for visit_id, share in shares.items():
            if share > 1.0 - REVIEW_BELOW:
                self.visits[visit_id].review_reasons.append("may have taken an item charged to another visit")

    def _record(self, person: Person, take: Take) -> None:
        self.takes.setdefault(person.person_id, []).append(take)

    def _cart(self, person: Person) -> Counter[str]:
        """What this person's party carries: the visit's cart, or the person's own if unclaimed."""
        visit = self.visits.get(person.visit_id or "")
        return self._carried(visit.person_ids if visit else [person.person_id])

    def _carried(self, person_ids: list[str]) -> Counter[str]:
        """Units of each product these people took, less what they put back."""
        cart: Counter[str] = Counter()
        for person_id in person_ids:
            for take in self.takes.get(person_id, []):
                cart[take.product_id] += take.quantity
        return cart

    def _weight_match(self, event: ShelfEvent, carts: list[Counter[str]]) -> tuple[str, int] | None:
        """The carried product (and count) whose weight explains a put-back, if one does; of products
        that weigh the same, the one whose own plate is nearest (a misplaced item lands close by)."""
        grams = abs(event.weight_delta_g)
        landed = self.store.plate(event.plate_id)
        best: tuple[float, float, str, int] | None = None
        for cart in carts:
            for product_id, carried in sorted(cart.items()):
                unit = self.catalog.product(product_id).unit_weight_g
                count = max(1, round(grams / unit))
                error = abs(count * unit - grams)
                if carried < count or error > max(WEIGHT_MATCH_G, 0.05 * grams):
                    continue
                away = min(
                    (_plate_distance(landed, plate) for plate in self.store.plates_of(product_id)),
                    default=math.inf,
                )
                if best is None or (away, error) < best[:2]:
                    best = (away, error, product_id, count)
        return (best[2], best[3]) if best else None

    # --- outputs ----------------------------------------------------------------------------------

    def _priced_lines(self, visit: OpenVisit) -> tuple[list[ReceiptLine], dict[str, float]]:
        """What the visit's people carry, priced, and how sure the takes of each product were."""
        confidences: dict[str, float] = {}
        for person_id in visit.person_ids:
            for take in self.takes.get(person_id, []):
                confidences[take.product_id] = min(confidences.get(take.product_id, 1.0), take.confidence)
        lines = []
        for product_id, quantity in _line_quantities(self._carried(visit.person_ids)):
            price = self.catalog.product(product_id).price_krw
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

    def _carts(self, at: float) -> list[Event]:
        """A new revision of every open visit's cart whose contents changed since it was last shown
        (compared as counts: runs at every decision, so the priced lines are built only for a change)."""
        outputs: list[Event] = []
        for visit in self.visits.values():
            contents = _line_quantities(self._carried(visit.person_ids))
            if contents == visit.cart_shown:
                continue
            lines, _ = self._priced_lines(visit)
            visit.cart_shown = contents
            visit.cart_revision += 1
            outputs.append(
                Cart(
                    event_id=make_event_id("cart", visit.visit_id, visit.cart_revision),
                    store_id=self.store.store_id,
                    ts=utc(at),
                    visit_id=visit.visit_id,
                    shopper_id=visit.shopper_id,
                    revision=visit.cart_revision,
                    lines=tuple(lines),
                    total_krw=sum(line.amount_krw for line in lines),
                )
            )
        return outputs

    def _receipt(self, visit: OpenVisit, at: datetime) -> Purchase | None:
        lines, confidences = self._priced_lines(visit)
        if not lines:
            return None
        # a line an unsure put-back took away is as unsure: the shopper may still carry it
        confidence = min(round(value, 4) for value in confidences.values())
        reasons = list(dict.fromkeys(visit.review_reasons))
        if confidence < REVIEW_BELOW:
            reasons.append("low attribution confidence")
        if self._unverified_restricted_take(visit):
            reasons.append(AGE_NOT_VERIFIED)
        return Purchase(
            event_id=make_event_id("purchase", visit.visit_id),
            store_id=self.store.store_id,
            ts=at,
            visit_id=visit.visit_id,
            shopper_id=visit.shopper_id,
            group_size=visit.group_size,
            lines=tuple(lines),
            total_krw=sum(line.amount_krw for line in lines),
            confidence=confidence,
            needs_review=bool(reasons),
            review_reasons=tuple(reasons),
        )

    def _unverified_restricted_take(self, visit: OpenVisit) -> bool:
        """Whether one of the visit's people not known to be an adult (:mod:`walkout.age`) carries alcohol
        or tobacco out: the payer counts their declared profile, everyone their camera estimates."""
        for number, person_id in enumerate(visit.person_ids):
            carried = self._carried([person_id])
            if not any(units > 0 and self.catalog.product(p).age_restricted for p, units in carried.items()):
                continue
            if not known_adult(self._age_evidence(self.persons[person_id], payer=number == 0, visit=visit)):
                return True
        return False

    def _age_evidence(self, person: Person, payer: bool, visit: OpenVisit) -> list[AgeEvidence]:
        track_ids = [track_id for _, track_id in person.pieces]
        evidence = [
            AgeEvidence(estimate.age_band, estimate.confidence)
            for track_id in track_ids
            if (estimate := self.estimates.get(track_id)) is not None
        ]
        evidence += [AgeEvidence(AgeBand.MINOR) for track_id in track_ids if track_id in self.minors]
        member = self.catalog.members.get(visit.shopper_id)
        if payer and member is not None and member.declared:
            evidence.append(AgeEvidence(member.age_band, 1.0, declared=True))
        return evidence

    def _visit_event(self, visit: OpenVisit, status: VisitStatus, exited_at: datetime | None) -> Visit:
        track_ids = [t for p in visit.person_ids for _, t in self.persons[p].pieces]
        payer_tracks = [t for _, t in self.persons[visit.person_ids[0]].pieces] if visit.person_ids else []
        seen = [self.estimates[t] for t in payer_tracks if t in self.estimates]
        profile = visit_profile(
            self.catalog.members.get(visit.shopper_id), max(seen, key=lambda e: e.confidence, default=None)
        )
        return Visit(
            event_id=make_event_id("visit", visit.visit_id, status),
            store_id=self.store.store_id,
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

    def _dwell_segments(self, visit: OpenVisit) -> list[DwellSegment]:
        """Zone stays of each person of the visit: consecutive samples in one zone."""
        segments: list[DwellSegment] = []
        for person_id in visit.person_ids:
            runs: list[list[Sample]] = []
            for sample in self._samples(self.persons[person_id], -math.inf, math.inf):
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
                        store_id=self.store.store_id,
                        ts=utc(run[-1][0]),
                        visit_id=visit.visit_id,
                        shopper_id=visit.shopper_id,
                        zone_id=zone,
                        entered_at=utc(run[0][0]),
                        exited_at=utc(run[-1][0]),
                        dwell_s=round(dwell, 3),
                        stopped=dwell >= STOP_MIN_S and path / max(dwell, 1e-9) < 0.4,
                    )
                )
        return segments

    def _reject(self, event: Event, reason: str) -> Event:
        return rejected_event(event, reason, "checkout")


def _line_quantities(carried: Counter[str]) -> tuple[tuple[str, int], ...]:
    """Products a receipt or cart lists, in order, with their units (within a line's bound)."""
    return tuple(
        (product_id, min(quantity, MAX_QUANTITY))
        for product_id, quantity in sorted(carried.items())
        if quantity > 0
    )


def _by_time_and_id(sighting: tuple[float, Track]) -> tuple[float, str]:
    return sighting[0], sighting[1].track_id


def _match_in_order(
    sightings: list[tuple[float, Track]], slots: list[tuple[float, bool]]
) -> list[tuple[float, Track, bool]]:
    """Pair ids seen at a lane (each at the instant it came in or left) with the instants members of
    the groups there were due, keeping both orders, as close in time as possible; an id or a slot can
    stay unpaired at a cost (a tailgater, a member the tracker missed). Returns the paired ids with
    their instant and whether their slot was ours."""
    cost = [[math.inf] * (len(slots) + 1) for _ in range(len(sightings) + 1)]
    step: dict[tuple[int, int], tuple[int, int]] = {}
    cost[0][0] = 0.0
    for i in range(len(sightings) + 1):
        for j in range(len(slots) + 1):
            here = cost[i][j]
            if here == math.inf:
                continue
            moves = [(i + 1, j, UNPAIRED_S), (i, j + 1, UNPAIRED_S)]
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


def _plate_distance(one: Plate, other: Plate) -> float:
    """How far apart two plates sit on the shelves (along the floor and in height)."""
    return math.hypot(one.x_m - other.x_m, one.y_m - other.y_m, one.z_m - other.z_m)


def _joint_score(choice: tuple[Candidate, ...]) -> float:
    """Log-likelihood of giving picks made together to these people (one person a pick, mostly)."""
    people = [candidate.person.person_id for candidate in choice]
    return sum(candidate.score for candidate in choice) + BOTH_HANDS_ODDS * (len(people) - len(set(people)))


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


def _stitch_cost(old: Track, new: Track) -> float:
    """How far apart a lost id's end and a new id's start are once each walk is carried across the gap."""
    gap = new.first_t - old.last_t
    (ox, oy), (nx, ny) = old.last_position, new.first_position
    (ovx, ovy), (nvx, nvy) = old.end_velocity(), new.start_velocity()
    kept_walking = distance((ox + ovx * gap, oy + ovy * gap), (nx, ny))
    came_walking = distance((nx - nvx * gap, ny - nvy * gap), (ox, oy))
    met = distance((ox + ovx * gap / 2, oy + ovy * gap / 2), (nx - nvx * gap / 2, ny - nvy * gap / 2))
    return min(kept_walking, came_walking, met)
