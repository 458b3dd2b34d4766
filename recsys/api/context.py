"""Live context: who is in which zone of each store now, and what their carts hold, from Kafka.

* ``camera.tracks``: each track's last position (its zone) and every entrance-camera age estimate;
* ``visits``: an opened visit names its shopper and the tracks that came through the gate with them
  (the payer is the member; the others of a group are companions of unknown age); closing forgets it;
* ``shelf.events``: a pick in a zone goes into the carts of the visits standing there (a put-back takes
  it out). Coarser than checkout's attribution, on purpose on the safe side: an ad never shows what
  someone nearby may already be holding.

Age is evidence, judged by :mod:`walkout.age`: a visit's band, its member's declared profile and every
estimate of each of its tracks all count, so any sign of a minor keeps alcohol and tobacco off a screen.

"Now" is per store: the newest event time seen, advanced by the wall clock since it arrived, so a
replay and a live store behave alike and people leave the screen when their tracks stop. The topics
come in through :func:`recsys.api.feed.follow_live_topics`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from recsys.baselines import segment_of
from walkout.age import ESTIMATE_CONFIDENCE, AgeEvidence, known_adult, strongest
from walkout.catalog import Catalog, Member, Store
from walkout.contracts import (
    CameraTrack,
    Event,
    ShelfAction,
    ShelfEvent,
    Visit,
    VisitStatus,
)
from walkout.vocabulary import AgeBand, DemographicSource, Gender

PRESENCE_S = 8.0
"""A track is in front of a screen this long after its last position in the screen's zone."""
FORGET_S = 15 * 60.0
"""Tracks silent this long are forgotten (visits end with their closing event)."""


def declared_age(member: Member | None) -> tuple[AgeEvidence, ...]:
    """What a member declared of their age in the app (an unknown band if they did not)."""
    return () if member is None else (AgeEvidence(member.declared_age_band, 1.0, declared=True),)


@dataclass(frozen=True)
class Viewer:
    """Someone in front of a screen: a member (``shopper_id``) or a person walkout cannot name."""

    shopper_id: str | None
    age_band: AgeBand
    gender: Gender
    age: tuple[AgeEvidence, ...] = ()
    """Everything said of their age; ``age_band`` only picks their segment's ranking."""

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
        """Someone is there and everyone is known to be 19 or more (:func:`walkout.age.known_adult`)."""
        return bool(self.viewers) and all(known_adult(viewer.age) for viewer in self.viewers)

    @property
    def shopper_ids(self) -> tuple[str, ...]:
        return tuple(v.shopper_id for v in self.viewers if v.shopper_id is not None)


@dataclass
class _Track:
    zone_id: str | None
    seen_at: float
    age: tuple[AgeEvidence, ...] = ()
    age_band: AgeBand = AgeBand.UNKNOWN
    gender: Gender = Gender.UNKNOWN


@dataclass
class _Visit:
    shopper_id: str
    group_size: int
    age_band: AgeBand
    gender: Gender
    track_ids: tuple[str, ...]
    age: tuple[AgeEvidence, ...]
    cart: set[str] = field(default_factory=set)


@dataclass
class _Store:
    tracks: dict[str, _Track] = field(default_factory=dict)
    visits: dict[str, _Visit] = field(default_factory=dict)
    visit_of_track: dict[str, str] = field(default_factory=dict)
    newest_event: float = 0.0
    received_at: float = 0.0


def _check_place(floor: Store, event: Event) -> None:
    """Raise :class:`CatalogError` for a zone or plate the store does not have."""
    if isinstance(event, CameraTrack) and event.zone_id is not None:
        floor.zone(event.zone_id)
    elif isinstance(event, ShelfEvent):
        floor.plate(event.plate_id)


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
        """Take one event in; one of a store, zone or plate the catalog lacks raises :class:`CatalogError`
        and changes nothing."""
        _check_place(self.catalog.store(event.store_id), event)
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
        seen_at = track.ts.timestamp()
        state = store.tracks.setdefault(track.track_id, _Track(zone, seen_at))
        state.zone_id, state.seen_at = zone, seen_at
        if track.age_band is not None:
            estimate = AgeEvidence(track.age_band, track.demographic_confidence or 0.0)
            state.age = strongest((*state.age, estimate))
            if estimate.confidence >= ESTIMATE_CONFIDENCE:
                state.age_band, state.gender = track.age_band, track.gender or Gender.UNKNOWN

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
        declared = visit.demographic_source is DemographicSource.DECLARED
        said = AgeEvidence(visit.age_band, visit.demographic_confidence or 0.0, declared)
        age = (said, *declared_age(member))
        store.visits[visit.visit_id] = _Visit(
            visit.shopper_id, visit.group_size, age_band, gender, visit.track_ids, age
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
        """Forget tracks silent for :data:`FORGET_S`, except an open visit's (their age evidence counts)."""
        cutoff = store.newest_event - FORGET_S
        for track_id, track in list(store.tracks.items()):
            if track.seen_at < cutoff and track_id not in store.visit_of_track:
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
                    viewers.append(Viewer(None, track.age_band, track.gender, track.age))
            for visit in visits.values():
                # An estimate does not say whose track it was: every one counts for the member, and a
                # group's companions stay of unknown age.
                tracks = [store.tracks[tid] for tid in visit.track_ids if tid in store.tracks]
                age = (*visit.age, *(evidence for track in tracks for evidence in track.age))
                viewers.append(Viewer(visit.shopper_id, visit.age_band, visit.gender, age))
                viewers += [Viewer(None, AgeBand.UNKNOWN, Gender.UNKNOWN)] * (visit.group_size - 1)
            cart = frozenset(product for visit in visits.values() for product in visit.cart)
            return Audience(tuple(viewers), cart)
