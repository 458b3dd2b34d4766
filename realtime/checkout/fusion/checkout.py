"""The fusion's façade: one store's events in, in event-time order; visits, carts and receipts out.

A scan or a shelf event waits in :attr:`~FusionState.pending` until the tracks have run
:attr:`~FusionParams.lookahead_s` past it, and so do the looks at new ids and at close passes; each
decision is made by its part of the fusion, and every open visit's cart is shown again when it changed.
"""

from __future__ import annotations

import heapq
import math

from realtime.checkout.fusion import camera, exits, gate, receipts, shelves
from realtime.checkout.fusion.state import FusionState, PassCheck, epoch, utc
from realtime.checkout.fusion.tracks import distance
from walkout.contracts import CameraTrack, Event, GateDirection, GateScan, ShelfAction, ShelfEvent


class StoreCheckout(FusionState):
    """The live state of one store; :meth:`apply` takes events in event-time order and returns outputs."""

    def apply(self, event: Event) -> list[Event]:
        """Take one event; scans and shelf events are decided once the tracks have run past them."""
        self.clock = max(self.clock, epoch(event.ts))
        if isinstance(event, CameraTrack):
            camera.follow(self, event)
        elif isinstance(event, GateScan | ShelfEvent):
            if isinstance(event, GateScan) and event.direction is GateDirection.EXIT and event.token_id:
                self.exiting[f"{event.store_id}-{event.token_id}"] = (
                    event.gate_id,
                    epoch(event.ts),
                    event.group_size,
                )
            heapq.heappush(self.pending, (epoch(event.ts) + self.params.lookahead_s, event.event_id, event))
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
                outputs += camera.settle_new_id(self, item)
            elif isinstance(item, PassCheck):
                camera.check_pass(self, item, due)
            elif isinstance(item, GateScan):
                outputs += gate.decide_scan(self, item)
            elif item.action is ShelfAction.PICK:
                outputs += shelves.attribute_picks(self, [item, *self._picks_alongside(item)])
            else:
                outputs += shelves.attribute_put_back(self, item)
            # only decisions change carts (takes, swaps undone, people joined): each one's change is a
            # revision dated at it, however many a watermark step decides at once, so a replay shows
            # the same carts whatever its poll batches were
            outputs += receipts.cart_revisions(self, due)
        return outputs

    def _picks_alongside(self, first: ShelfEvent) -> list[ShelfEvent]:
        """Undecided picks from the same spot of the shelf in the moments after ``first`` (taken off the
        queue): hands on the shelf at about the same time are most likely different people's."""
        plate = self.plate(first.plate_id)
        if plate is None:
            return []
        alongside: list[ShelfEvent] = []
        for _, _, item in sorted(self.pending, key=lambda entry: entry[:2]):
            other = self.plate(item.plate_id) if isinstance(item, ShelfEvent) else None
            if (
                isinstance(item, ShelfEvent)
                and item.action is ShelfAction.PICK
                and other is not None
                and 0.0 <= epoch(item.ts) - epoch(first.ts) <= self.params.busy_hands_s
                and distance(other.reach_point, plate.reach_point) <= self.params.same_spot_m
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
            last_seen = max(self.last_seen(visit), epoch(visit.entered_at))
            if now - last_seen > self.params.left_without_scan_s:
                visit.review_reasons.append("exit not scanned")
                outputs += exits.close_visit(self, visit, utc(last_seen), [])
        for person in [p for p in self.persons.values() if p.visit_id is None]:
            if now - self.last_sighting(person) > self.params.left_without_scan_s:
                outputs += exits.forget_person(self, person, "left without being admitted by any scan")
        if now - self.swept >= self.params.sweep_s:
            self._sweep(now)
        return outputs

    def _sweep(self, now: float) -> None:
        self.swept = now
        self.closed = {v: at for v, at in self.closed.items() if now - at <= self.params.closed_memory_s}
        self.departed = {
            t: at for t, at in self.departed.items() if now - at <= self.params.left_without_scan_s
        }
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
            outputs += exits.close_visit(
                self, visit, utc(max(self.last_seen(visit), epoch(visit.entered_at))), []
            )
        for person in list(self.persons.values()):
            outputs += exits.forget_person(self, person, "left without being admitted by any scan")
        return outputs
