"""Sensor fusion for one store: visits from gate scans, shoppers from camera tracks, carts from plates.

Events arrive here in event-time order (see :mod:`realtime.checkout.ordering`). An accepted entry
scan opens a visit; the tracks that appear at that gate in the next seconds are its people (up to
the group size, so a tailgater stays unlinked). A track that appears mid-store right after a linked
track vanished nearby is the same person after a tracker break, and is stitched to that visit. A
shelf event goes to the visit whose person stood closest to the plate's reach point around that
moment, with a confidence from how clearly closest they were; put-backs prefer the person carrying
that product, and a put-back whose weight does not match the plate's product is matched against
what the candidates carry. The exit scan closes the visit: one receipt (none when nothing was
taken), the visit's zone segments, and the closed visit.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from realtime.checkout.tracks import Track
from walkout.catalog import Catalog, Plate, Store
from walkout.contracts import (
    CameraTrack,
    DeadLetter,
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
    dead_letter,
    make_event_id,
)

REACH_M = 1.2  # how far from the reach point a shopper can stand and still take from the plate
PICK_WINDOW_S = (3.0, 1.0)  # a shelf event is reported when the weight settles, just after the hand
LOOKAHEAD_S = 4.0  # decide a shelf event or scan once tracks this much later have arrived
LOST_S = 6.0  # a person the tracker lost this recently still stands where last seen
GATE_LINK_M = 1.5
GATE_LINK_S = 8.0
STITCH_GAP_S = 8.0
STITCH_MIN_GAP_S = 1.0  # a track seen in the last frame or two is still alive, not lost
STITCH_M = 1.0
WALK_MPS = 1.5  # a shopper walks at most this fast: how far a lost person can have gone
LEFT_WITHOUT_SCAN_S = 180.0  # a visit whose tracks are all gone this long left without an exit scan
TRACK_MEMORY_S = 900.0
STOP_MIN_S = 5.0
REVIEW_BELOW = 0.55
WEIGHT_MATCH_G = 15.0


def epoch(value: datetime) -> float:
    return value.timestamp()


@dataclass
class CartLine:
    quantity: int = 0
    confidence: float = 1.0


@dataclass
class OpenVisit:
    visit_id: str
    shopper_id: str
    group_size: int
    gate_id: str
    entered_at: datetime
    track_ids: list[str] = field(default_factory=list)
    cart: dict[str, CartLine] = field(default_factory=dict)
    review_reasons: list[str] = field(default_factory=list)
    last_seen: float = 0.0

    @property
    def people_linked(self) -> int:
        return len(self.track_ids)

    def carries(self, product_id: str) -> bool:
        line = self.cart.get(product_id)
        return line is not None and line.quantity > 0


@dataclass(frozen=True)
class Candidate:
    track: Track
    visit: OpenVisit
    distance: float


class StoreCheckout:
    """The live state of one store; :meth:`apply` takes events in event-time order and returns outputs."""

    def __init__(self, store: Store, catalog: Catalog) -> None:
        self.store = store
        self.catalog = catalog
        self.visits: dict[str, OpenVisit] = {}
        self.tracks: dict[str, Track] = {}
        self.closed: set[str] = set()
        self.departed: dict[str, float] = {}  # track id → when its visit closed; late samples are ignored
        self.pending: list[tuple[float, str, GateScan | ShelfEvent]] = []
        self.clock = 0.0

    # --- events in ------------------------------------------------------------------------------

    def apply(self, event: Event) -> list[Event]:
        """Take one event; scans and shelf events are decided once the tracks have run past them."""
        self.clock = max(self.clock, epoch(event.ts))
        if isinstance(event, CameraTrack):
            self._track(event)
        elif isinstance(event, GateScan | ShelfEvent):
            heapq.heappush(self.pending, (epoch(event.ts), event.event_id, event))
        return self._decide(self.clock - LOOKAHEAD_S)

    def _decide(self, until: float) -> list[Event]:
        outputs: list[Event] = []
        while self.pending and self.pending[0][0] <= until:
            _, _, event = heapq.heappop(self.pending)
            outputs += self._scan(event) if isinstance(event, GateScan) else self._shelf(event)
        return outputs

    def expire(self, now: float) -> list[Event]:
        """Close visits that left without an exit scan (a dropped message) and forget old tracks."""
        outputs: list[Event] = []
        for visit in list(self.visits.values()):
            if visit.last_seen and now - visit.last_seen > LEFT_WITHOUT_SCAN_S:
                visit.review_reasons.append("exit not scanned")
                outputs += self._close(visit, datetime.fromtimestamp(visit.last_seen, UTC))
        for track_id in [t for t, track in self.tracks.items() if now - track.last_t > TRACK_MEMORY_S]:
            del self.tracks[track_id]
        for track_id in [t for t, left in self.departed.items() if now - left > TRACK_MEMORY_S]:
            del self.departed[track_id]
        return outputs

    def close_all(self) -> list[Event]:
        """Decide everything pending, then close every open visit as if it left when last seen."""
        outputs = self._decide(math.inf)
        for visit in list(self.visits.values()):
            visit.review_reasons.append("exit not scanned")
            outputs += self._close(
                visit, datetime.fromtimestamp(max(visit.last_seen, epoch(visit.entered_at)), UTC)
            )
        return outputs

    # --- gate -------------------------------------------------------------------------------------

    def _scan(self, scan: GateScan) -> list[Event]:
        if scan.outcome is not ScanOutcome.ACCEPTED or scan.token_id is None or scan.shopper_id is None:
            return []
        visit_id = f"{scan.store_id}-{scan.token_id}"
        if scan.direction is GateDirection.EXIT:
            visit = self.visits.get(visit_id)
            return self._close(visit, scan.ts) if visit is not None else []
        if visit_id in self.visits or visit_id in self.closed:
            return []
        visit = OpenVisit(
            visit_id, scan.shopper_id, scan.group_size, scan.gate_id, scan.ts, last_seen=epoch(scan.ts)
        )
        self.visits[visit_id] = visit
        for track in sorted(self.tracks.values(), key=lambda track: track.first_t):
            if visit.people_linked < visit.group_size and self._appeared_at_gate(track, visit):
                self._link(track, visit, entry=True)
        return [self._visit_event(visit, VisitStatus.OPENED, None)]

    def _appeared_at_gate(self, track: Track, visit: OpenVisit) -> bool:
        if track.visit_id is not None:
            return False
        entered = epoch(visit.entered_at)
        if not entered - 3.0 <= track.first_t <= entered + GATE_LINK_S:
            return False
        gate = next(g for g in self.store.gates if g.gate_id == visit.gate_id)
        x, y = track.samples[0][1], track.samples[0][2]
        return math.hypot(x - gate.x_m, y - gate.y_m) <= GATE_LINK_M

    # --- camera -----------------------------------------------------------------------------------

    def _track(self, event: CameraTrack) -> None:
        at = epoch(event.ts)
        if event.track_id in self.departed:
            return
        track = self.tracks.get(event.track_id)
        if track is None:
            track = self.tracks[event.track_id] = Track(event.track_id)
            track.add((at, event.x_m, event.y_m, event.zone_id))
            self._adopt(track)
        elif at > track.last_t:
            track.add((at, event.x_m, event.y_m, event.zone_id))
        if track.visit_id in self.visits:
            self.visits[track.visit_id].last_seen = max(self.visits[track.visit_id].last_seen, at)

    def _adopt(self, track: Track) -> None:
        """A new track id: a person just admitted at a gate, or someone the tracker lost a moment ago."""
        waiting = [
            v
            for v in self.visits.values()
            if v.people_linked < v.group_size and self._appeared_at_gate(track, v)
        ]
        if waiting:
            self._link(track, max(waiting, key=lambda visit: visit.entered_at), entry=True)
            return
        x, y = track.last_position
        if any(math.hypot(x - gate.x_m, y - gate.y_m) <= GATE_LINK_M for gate in self.store.gates):
            return  # someone at the gate: their entry scan links them
        lost = [
            (math.hypot(x - old.last_position[0], y - old.last_position[1]), old)
            for old in self.tracks.values()
            if old is not track
            and old.visit_id in self.visits
            and STITCH_MIN_GAP_S <= track.first_t - old.last_t <= STITCH_GAP_S
        ]
        lost = [(d, old) for d, old in lost if d <= STITCH_M + WALK_MPS * (track.first_t - old.last_t)]
        if lost:
            _, old = min(lost, key=lambda item: item[0])
            assert old.visit_id is not None
            self._link(track, self.visits[old.visit_id], entry=False)

    def _link(self, track: Track, visit: OpenVisit, entry: bool) -> None:
        track.visit_id = visit.visit_id
        track.entry_link = entry
        visit.track_ids.append(track.track_id)

    # --- shelves ----------------------------------------------------------------------------------

    def _shelf(self, event: ShelfEvent) -> list[Event]:
        try:
            plate = self.store.plate(event.plate_id)
        except ValueError:
            return [self._reject(event, f"unknown plate {event.plate_id!r} in store {self.store.store_id}")]
        candidates = self._candidates(plate, epoch(event.ts))
        if not candidates:
            return [
                self._reject(event, "unattributable: no shopper of an open visit within reach of the plate")
            ]
        if event.action is ShelfAction.PICK:
            self._pick(event, candidates)
        else:
            self._put_back(event, candidates)
        return []

    def _candidates(self, plate: Plate, at: float) -> list[Candidate]:
        """People of open visits near the plate's reach point around the event, nearest first per visit."""
        nearest: dict[str, Candidate] = {}
        for track in self.tracks.values():
            if track.visit_id not in self.visits:
                continue
            distance = track.mean_distance(plate.reach_point, at - PICK_WINDOW_S[0], at + PICK_WINDOW_S[1])
            if distance is None and at - LOST_S <= track.last_t < at:
                x, y = track.last_position
                distance = math.hypot(x - plate.reach_point[0], y - plate.reach_point[1])
            if distance is None or distance > REACH_M:
                continue
            visit = self.visits[track.visit_id]
            if visit.visit_id not in nearest or distance < nearest[visit.visit_id].distance:
                nearest[visit.visit_id] = Candidate(track, visit, distance)
        return sorted(nearest.values(), key=lambda candidate: candidate.distance)

    @staticmethod
    def _clarity(candidates: list[Candidate], chosen: Candidate) -> float:
        """How sure the choice is: 0.99 alone at the shelf, down to 0.5 when two stand equally close."""
        others = [c.distance for c in candidates if c is not chosen]
        if not others:
            return 0.99
        margin = min(others) - chosen.distance
        return max(0.5, min(0.99, 0.5 + 0.49 * margin / 0.6))

    def _pick(self, event: ShelfEvent, candidates: list[Candidate]) -> None:
        chosen = candidates[0]
        confidence = self._clarity(candidates, chosen) * min(1.0, event.confidence + 0.05)
        line = chosen.visit.cart.setdefault(event.product_id, CartLine())
        line.quantity += event.quantity
        line.confidence = min(line.confidence, confidence)

    def _put_back(self, event: ShelfEvent, candidates: list[Candidate]) -> None:
        product_id, quantity = event.product_id, event.quantity
        misplaced = event.confidence < 0.5 or not any(c.visit.carries(product_id) for c in candidates)
        if misplaced:  # not this plate's product by weight, or nobody near carries it: a wrong-plate put-back
            match = self._weight_match(abs(event.weight_delta_g), candidates)
            if match is not None:
                product_id, quantity = match
        carrying = [c for c in candidates if c.visit.carries(product_id)]
        if not carrying:
            candidates[0].visit.review_reasons.append(f"put-back of {product_id} not in any nearby cart")
            return
        chosen = carrying[0]
        line = chosen.visit.cart[product_id]
        line.quantity = max(line.quantity - quantity, 0)
        line.confidence = min(line.confidence, self._clarity(carrying, chosen))

    def _weight_match(self, grams: float, candidates: list[Candidate]) -> tuple[str, int] | None:
        """The carried product (and count) whose weight explains a put-back, if one does."""
        best: tuple[float, str, int] | None = None
        for candidate in candidates:
            for product_id, line in candidate.visit.cart.items():
                unit = self.catalog.product(product_id).unit_weight_g
                count = max(1, round(grams / unit))
                error = abs(count * unit - grams)
                explains = line.quantity >= count and error <= max(WEIGHT_MATCH_G, 0.05 * grams)
                if explains and (best is None or error < best[0]):
                    best = (error, product_id, count)
        return (best[1], best[2]) if best else None

    # --- exit -------------------------------------------------------------------------------------

    def _close(self, visit: OpenVisit, at: datetime) -> list[Event]:
        del self.visits[visit.visit_id]
        self.closed.add(visit.visit_id)
        outputs: list[Event] = [self._visit_event(visit, VisitStatus.CLOSED, at)]
        outputs += self._dwell_segments(visit)
        receipt = self._receipt(visit, at)
        if receipt is not None:
            outputs.append(receipt)
        for track_id in visit.track_ids:
            self.tracks.pop(track_id, None)
            self.departed[track_id] = epoch(at)
        return outputs

    def _receipt(self, visit: OpenVisit, at: datetime) -> Purchase | None:
        lines = []
        for product_id, line in sorted(visit.cart.items()):
            if line.quantity <= 0:
                continue
            price = self.catalog.product(product_id).price_krw
            lines.append(
                ReceiptLine(
                    product_id=product_id,
                    quantity=min(line.quantity, 100),
                    unit_price_krw=price,
                    amount_krw=price * min(line.quantity, 100),
                    confidence=round(line.confidence, 4),
                )
            )
        if not lines:
            return None
        confidence = min(line.confidence for line in lines)
        reasons = list(visit.review_reasons)
        if confidence < REVIEW_BELOW:
            reasons.append("low attribution confidence")
        return Purchase(
            event_id=make_event_id("purchase", visit.visit_id),
            store_id=self.store.store_id,
            ts=at,
            visit_id=visit.visit_id,
            shopper_id=visit.shopper_id,
            group_size=visit.group_size,
            lines=tuple(lines),
            total_krw=sum(line.amount_krw for line in lines),
            confidence=round(confidence, 4),
            needs_review=bool(reasons),
            review_reasons=tuple(reasons),
        )

    def _visit_event(self, visit: OpenVisit, status: VisitStatus, exited_at: datetime | None) -> Visit:
        at = exited_at or visit.entered_at
        return Visit(
            event_id=make_event_id("visit", visit.visit_id, status),
            store_id=self.store.store_id,
            ts=at,
            visit_id=visit.visit_id,
            shopper_id=visit.shopper_id,
            status=status,
            group_size=visit.group_size,
            track_ids=tuple(visit.track_ids),
            entered_at=visit.entered_at,
            exited_at=max(exited_at, visit.entered_at) if exited_at else None,
        )

    def _dwell_segments(self, visit: OpenVisit) -> list[DwellSegment]:
        """Zone stays of each person of the visit: consecutive samples in one zone."""
        segments: list[DwellSegment] = []
        for track_id in visit.track_ids:
            track = self.tracks.get(track_id)
            if track is None:
                continue
            runs: list[list[tuple[float, float, float, str | None]]] = []
            for sample in track.samples:
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
                        event_id=make_event_id("dwell", visit.visit_id, track_id, number),
                        store_id=self.store.store_id,
                        ts=datetime.fromtimestamp(run[-1][0], UTC),
                        visit_id=visit.visit_id,
                        shopper_id=visit.shopper_id,
                        zone_id=zone,
                        entered_at=datetime.fromtimestamp(run[0][0], UTC),
                        exited_at=datetime.fromtimestamp(run[-1][0], UTC),
                        dwell_s=round(dwell, 3),
                        stopped=dwell >= STOP_MIN_S and path / max(dwell, 1e-9) < 0.4,
                    )
                )
        return segments

    def _reject(self, event: Event, reason: str) -> DeadLetter:
        return dead_letter(event.to_bytes(), event.TOPIC, reason, "checkout", self.store.store_id)
