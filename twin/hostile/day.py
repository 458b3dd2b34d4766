"""The store-day hostile messages are made from: its events in send order, its store, and its devices'
signer, with the real events of each edge topic a hostile message can pass for."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from twin.hostile.message import Headers, Place
from twin.run import StoreDay
from walkout.catalog import Catalog
from walkout.contracts import (
    CameraTrack,
    Event,
    GateDirection,
    GateScan,
    ScanOutcome,
    ShelfAction,
    ShelfEvent,
)
from walkout.edge import EdgeSigner

QUIET_S = 240.0  # "where nobody stands": a stretch this long in which no camera saw anyone


class HostileDay:
    """The store-day's events in send order, its store, and the signer of its devices."""

    def __init__(self, store_day: StoreDay, catalog: Catalog, edge_key: bytes) -> None:
        self.store = catalog.store(store_day.store_id)
        self.catalog = catalog
        self.signer = EdgeSigner(edge_key)
        self.events = [event for _, event in store_day.events]
        self.sent_at = [at for at, _ in store_day.events]
        self.end = len(self.events)
        self.middle = self.end // 2

    def places(self) -> dict[Place, int]:
        return {Place.BEFORE: 0, Place.MIDDAY: self.middle, Place.END: self.end}

    def first(self, kind: type[Event], start: int, accept: Callable[[Any], bool] = bool) -> tuple[int, Any]:
        """The first event of a kind at or after index ``start`` that ``accept`` takes, and its index."""
        for index in range(start, self.end):
            event = self.events[index]
            if isinstance(event, kind) and accept(event):
                return index, event
        raise ValueError(f"no {kind.__name__} after event {start} of {self.store.store_id}")

    def last_sent(self, event: Event) -> int:
        """The index of the last send of an event (a device may retry it)."""
        return max(i for i, each in enumerate(self.events) if each.event_id == event.event_id)

    def index_at(self, at: float) -> int:
        """The index of the first event sent at or after ``at`` (epoch seconds)."""
        return next((i for i, sent in enumerate(self.sent_at) if sent >= at), self.end)

    def quiet_moment(self, start: int) -> float:
        """The middle (epoch s) of the first stretch of :data:`QUIET_S` after event ``start`` in which no
        camera saw anyone: nobody stands near any plate."""
        frames = sorted(e.ts.timestamp() for e in self.events[start:] if isinstance(e, CameraTrack))
        for earlier, later in itertools.pairwise(frames):
            if later - earlier >= QUIET_S:
                return (earlier + later) / 2
        raise ValueError(f"no quiet {QUIET_S:.0f} s after event {start} of {self.store.store_id}")

    def signed(self, event: Event, raw: bytes | None = None) -> Headers:
        """Headers of ``raw`` (default: the event's bytes) signed by the device of ``event``."""
        return self.signer.headers(event, event.to_bytes() if raw is None else raw)

    def samples(self) -> dict[str, Event]:
        """A real mid-day event of each edge topic, for hostile messages to pass for."""
        return {
            GateScan.TOPIC: self.first(GateScan, self.middle, is_accepted_entry)[1],
            ShelfEvent.TOPIC: self.first(ShelfEvent, self.middle, is_pick)[1],
            CameraTrack.TOPIC: self.first(CameraTrack, self.middle)[1],
        }


def is_accepted_entry(event: GateScan) -> bool:
    return event.outcome is ScanOutcome.ACCEPTED and event.direction is GateDirection.ENTRY


def is_pick(event: ShelfEvent) -> bool:
    return event.action is ShelfAction.PICK
