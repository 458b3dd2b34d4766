"""Live context: who is in which zone of each store now, and what their carts hold, from Kafka.

* ``camera.tracks``: each track's last position (its zone) and any entrance-camera age estimate;
* ``visits``: an opened visit names its shopper and the tracks that came through the gate with them
  (the payer is the member; the others of a group are companions of unknown age); closing forgets it;
* ``shelf.events``: a pick in a zone goes into the carts of the visits standing there (a put-back takes
  it out). Coarser than checkout's attribution, on purpose on the safe side: an ad never shows what
  someone nearby may already be holding.

"Now" is per store: the newest event time seen, advanced by the wall clock since it arrived, so a
replay and a live store behave alike and people leave the screen when their tracks stop. A
:class:`LiveFeed` thread applies the topics; every API instance reads them all (its own group,
from the earliest retained event, no commits: the state lives in memory only).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from recsys.baselines import segment_of
from walkout.catalog import Catalog
from walkout.contracts import (
    CameraTrack,
    ContractError,
    Event,
    ShelfAction,
    ShelfEvent,
    Visit,
    VisitStatus,
    parse_event,
)
from walkout.kafka import KafkaSetupError, make_consumer
from walkout.settings import Settings
from walkout.vocabulary import AgeBand, Gender

log = logging.getLogger(__name__)

PRESENCE_S = 8.0
"""A track is in front of a screen this long after its last position in the screen's zone."""
FORGET_S = 15 * 60.0
"""Tracks silent this long are forgotten (visits end with their closing event)."""
ESTIMATE_CONFIDENCE = 0.8
"""Entrance-camera age estimates below this confidence count as unknown age."""
LIVE_TOPICS = (CameraTrack.TOPIC, Visit.TOPIC, ShelfEvent.TOPIC)


@dataclass(frozen=True)
class Viewer:
    """Someone in front of a screen: a member (``shopper_id``) or a person walkout cannot name."""

    shopper_id: str | None
    age_band: AgeBand
    gender: Gender

    @property
    def segment(self) -> str | None:
        if self.age_band is AgeBand.UNKNOWN:
            return None
        return segment_of(self.age_band, self.gender)


@dataclass(frozen=True)
class Audience:
    viewers: tuple[Viewer, ...] = ()
    in_cart: frozenset[str] = frozenset()

    @property
    def adults_only(self) -> bool:
        """Someone is there and everyone's age is known to be 19 or more."""
        return bool(self.viewers) and all(
            v.age_band not in {AgeBand.MINOR, AgeBand.UNKNOWN} for v in self.viewers
        )

    @property
    def shopper_ids(self) -> tuple[str, ...]:
        return tuple(v.shopper_id for v in self.viewers if v.shopper_id is not None)


@dataclass
class _Track:
    zone_id: str | None
    seen_at: float
    age_band: AgeBand = AgeBand.UNKNOWN
    gender: Gender = Gender.UNKNOWN


@dataclass
class _Visit:
    shopper_id: str
    group_size: int
    age_band: AgeBand
    gender: Gender
    track_ids: tuple[str, ...]
    cart: set[str] = field(default_factory=set)


@dataclass
class _Store:
    tracks: dict[str, _Track] = field(default_factory=dict)
    visits: dict[str, _Visit] = field(default_factory=dict)
    visit_of_track: dict[str, str] = field(default_factory=dict)
    newest_event: float = 0.0
    received_at: float = 0.0


class LiveContext:
    """The state of every store's floor, fed event by event; safe to read while a feed writes."""

    def __init__(self, catalog: Catalog, clock: Callable[[], float] = time.monotonic) -> None:
        self.catalog = catalog
        self.clock = clock
        self.events_applied = 0
        self._stores: dict[str, _Store] = {}
        self._lock = threading.Lock()

    def now(self, store_id: str) -> float:
        """The store's current event time (epoch seconds): newest event plus the time since it came."""
        store = self._stores.get(store_id)
        if store is None:
            return 0.0
        return store.newest_event + (self.clock() - store.received_at)

    def apply(self, event: Event) -> None:
        with self._lock:
            store = self._stores.setdefault(event.store_id, _Store())
            at = event.ts.timestamp()
            if at >= store.newest_event:
                store.newest_event, store.received_at = at, self.clock()
            if isinstance(event, CameraTrack):
                self._see(store, event)
            elif isinstance(event, Visit):
                self._open_or_close(store, event)
            elif isinstance(event, ShelfEvent):
                self._pick_or_put_back(store, event)
            self.events_applied += 1
            if self.events_applied % 10_000 == 0:
                self._forget_silent_tracks(store)

    def _see(self, store: _Store, track: CameraTrack) -> None:
        zone = track.zone_id
        if zone is None:
            located = self.catalog.store(track.store_id).zone_at(track.x_m, track.y_m)
            zone = located.zone_id if located else None
        known = store.tracks.get(track.track_id)
        state = _Track(zone, track.ts.timestamp())
        if track.age_band and (track.demographic_confidence or 0.0) >= ESTIMATE_CONFIDENCE:
            state.age_band, state.gender = track.age_band, track.gender or Gender.UNKNOWN
        elif known is not None:
            state.age_band, state.gender = known.age_band, known.gender
        store.tracks[track.track_id] = state

    def _open_or_close(self, store: _Store, visit: Visit) -> None:
        if visit.status is VisitStatus.CLOSED:
            closed = store.visits.pop(visit.visit_id, None)
            for track_id in closed.track_ids if closed else ():
                store.visit_of_track.pop(track_id, None)
                store.tracks.pop(track_id, None)
            return
        member = self.catalog.members.get(visit.shopper_id)
        age_band, gender = visit.age_band, visit.gender
        if age_band is AgeBand.UNKNOWN and member is not None:
            age_band, gender = member.declared_age_band, member.declared_gender
        store.visits[visit.visit_id] = _Visit(
            visit.shopper_id, visit.group_size, age_band, gender, visit.track_ids
        )
        for track_id in visit.track_ids:
            store.visit_of_track[track_id] = visit.visit_id

    def _pick_or_put_back(self, store: _Store, event: ShelfEvent) -> None:
        zone = self.catalog.store(event.store_id).plate(event.plate_id).zone_id
        for visit in self._visits_in(store, event.store_id, zone):
            if event.action is ShelfAction.PICK:
                visit.cart.add(event.product_id)
            else:
                visit.cart.discard(event.product_id)

    def _present(self, store: _Store, store_id: str, zone_id: str) -> list[str]:
        since = self.now(store_id) - PRESENCE_S
        return [
            tid for tid, track in store.tracks.items() if track.zone_id == zone_id and track.seen_at >= since
        ]

    def _visits_in(self, store: _Store, store_id: str, zone_id: str) -> list[_Visit]:
        ids = {store.visit_of_track.get(track_id) for track_id in self._present(store, store_id, zone_id)}
        return [store.visits[visit_id] for visit_id in ids if visit_id in store.visits]

    def _forget_silent_tracks(self, store: _Store) -> None:
        cutoff = store.newest_event - FORGET_S
        for track_id in [tid for tid, track in store.tracks.items() if track.seen_at < cutoff]:
            del store.tracks[track_id]

    def audience(self, store_id: str, zone_id: str) -> Audience:
        """Who is in the zone now: each visit's member and companions, and people of no known visit."""
        with self._lock:
            store = self._stores.get(store_id)
            if store is None:
                return Audience()
            viewers: list[Viewer] = []
            visits: dict[str, _Visit] = {}
            for track_id in self._present(store, store_id, zone_id):
                visit_id = store.visit_of_track.get(track_id)
                if visit_id in store.visits:
                    visits[visit_id] = store.visits[visit_id]
                else:
                    track = store.tracks[track_id]
                    viewers.append(Viewer(None, track.age_band, track.gender))
            for visit in visits.values():
                viewers.append(Viewer(visit.shopper_id, visit.age_band, visit.gender))
                viewers += [Viewer(None, AgeBand.UNKNOWN, Gender.UNKNOWN)] * (visit.group_size - 1)
            cart = frozenset(product for visit in visits.values() for product in visit.cart)
            return Audience(tuple(viewers), cart)


class LiveFeed(threading.Thread):
    """Applies the live topics to a :class:`LiveContext` until stopped."""

    def __init__(self, settings: Settings, context: LiveContext) -> None:
        super().__init__(name="ad-api-live-feed", daemon=True)
        self.settings = settings
        self.context = context
        self.stopping = threading.Event()
        self.rejected = 0

    def run(self) -> None:
        group = f"ad-api.{socket.gethostname()}.{os.getpid()}.{id(self)}"
        try:
            consumer = make_consumer(self.settings, group, LIVE_TOPICS)
        except KafkaSetupError as error:
            log.error("no live context (every screen gets cold-start ads): %s", error)
            return
        try:
            while not self.stopping.is_set():
                for records in consumer.poll(timeout_ms=200).values():
                    for record in records:
                        self._apply(record.value, record.topic)
        finally:
            consumer.close()

    def _apply(self, raw: bytes, topic: str) -> None:
        try:
            event = parse_event(raw, topic, self.settings.max_event_bytes)
        except ContractError as error:
            self.rejected += 1
            log.debug("live feed skips a message of %s: %s", topic, error)
            return
        self.context.apply(event)

    def stop(self) -> None:
        self.stopping.set()
