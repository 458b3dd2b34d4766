"""What is happening in the stores right now, for the Live page: a :class:`walkout.live.LiveFeed` of
``camera.tracks``, ``visits`` and ``carts`` keeping a bounded window in memory.

"Now" is event time: the newest event seen from a store. A person is in the store while their track
was seen within :data:`PRESENCE_S` of that; a visit is open from its ``opened`` event to its ``closed``
one. The feed reads from the earliest offset without a consumer group (it commits nothing and disturbs
no one), so a page opened mid-simulation catches up on what is already in the topics.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from walkout.contracts import CameraTrack, Cart, Event, Visit, VisitStatus
from walkout.live import LiveFeed
from walkout.settings import Settings

TOPICS = (CameraTrack.TOPIC, Visit.TOPIC, Cart.TOPIC)
PRESENCE_S = 5.0
"""A track seen this recently (event time) is a person in the store."""
OPEN_VISIT_LIMIT_S = 4 * 3600.0
"""A visit open this long without a ``closed`` event is dropped (its exit was missed)."""
MAX_OPEN_VISITS = 5_000


@dataclass(frozen=True)
class Person:
    """The latest camera position of a track."""

    track_id: str
    x_m: float
    y_m: float
    zone_id: str | None
    seen_at: datetime


@dataclass(frozen=True)
class OpenVisit:
    visit_id: str
    group_size: int
    entered_at: datetime
    cart: tuple[tuple[str, int], ...] = ()  # product and quantity, as its latest cart shows them
    cart_total_krw: int = 0
    cart_revision: int = 0


@dataclass(frozen=True)
class StoreNow:
    """One store at its latest event time: who is on the floor and which visits are open."""

    store_id: str
    as_of: datetime | None
    people: tuple[Person, ...] = ()
    open_visits: tuple[OpenVisit, ...] = ()


@dataclass
class _StoreWindow:
    as_of: datetime | None = None
    people: dict[str, Person] = field(default_factory=dict)
    visits: OrderedDict[str, OpenVisit] = field(default_factory=OrderedDict)
    # Each visit's newest cart, kept apart from its visit: the two topics arrive in no set order.
    carts: dict[str, Cart] = field(default_factory=dict)
    closed: OrderedDict[str, None] = field(default_factory=OrderedDict)  # recently, for late carts


class LiveWindow:
    """The latest position per track and the open visits of each store, bounded in time and size."""

    def __init__(self, presence_s: float = PRESENCE_S, max_open_visits: int = MAX_OPEN_VISITS) -> None:
        self.presence = timedelta(seconds=presence_s)
        self.max_open_visits = max_open_visits
        self._stores: dict[str, _StoreWindow] = {}
        self._lock = threading.Lock()

    def apply(self, event: Event) -> None:
        """Take one event into its store's window, and forget what it makes too old there."""
        with self._lock:
            store = self._stores.setdefault(event.store_id, _StoreWindow())
            if store.as_of is None or event.ts > store.as_of:
                store.as_of = event.ts
            if isinstance(event, CameraTrack):
                _see(store, event)
            elif isinstance(event, Visit):
                _track_visit(store, event, self.max_open_visits)
            elif isinstance(event, Cart):
                _fill_cart(store, event, self.max_open_visits)
            self._forget_old(store)

    def _forget_old(self, store: _StoreWindow) -> None:
        if store.as_of is None:
            return
        gone = [
            track for track, person in store.people.items() if person.seen_at < store.as_of - self.presence
        ]
        for track in gone:
            del store.people[track]
        too_old = store.as_of - timedelta(seconds=OPEN_VISIT_LIMIT_S)
        for visit_id in [v.visit_id for v in store.visits.values() if v.entered_at < too_old]:
            del store.visits[visit_id]
        for visit_id in [c.visit_id for c in store.carts.values() if c.ts < too_old]:
            del store.carts[visit_id]

    def now(self, store_id: str) -> StoreNow:
        with self._lock:
            store = self._stores.get(store_id)
            if store is None:
                return StoreNow(store_id, None)
            visits = tuple(
                _with_cart(visit, store.carts.get(visit.visit_id)) for visit in store.visits.values()
            )
            return StoreNow(store_id, store.as_of, tuple(store.people.values()), visits)

    def stores(self) -> list[str]:
        with self._lock:
            return sorted(self._stores)


def _see(store: _StoreWindow, track: CameraTrack) -> None:
    known = store.people.get(track.track_id)
    if known is None or track.ts >= known.seen_at:
        store.people[track.track_id] = Person(track.track_id, track.x_m, track.y_m, track.zone_id, track.ts)


def _track_visit(store: _StoreWindow, visit: Visit, limit: int) -> None:
    if visit.status is VisitStatus.CLOSED:
        store.visits.pop(visit.visit_id, None)
        store.carts.pop(visit.visit_id, None)
        store.closed[visit.visit_id] = None
        while len(store.closed) > limit:
            store.closed.popitem(last=False)
        return
    if visit.visit_id in store.closed:  # its opening came in after its closing
        return
    store.visits[visit.visit_id] = OpenVisit(visit.visit_id, visit.group_size, visit.entered_at)
    while len(store.visits) > limit:
        store.visits.popitem(last=False)


def _fill_cart(store: _StoreWindow, cart: Cart, limit: int) -> None:
    """Keep the visit's newest cart revision; a closed visit's cart is gone for good."""
    known = store.carts.get(cart.visit_id)
    if cart.visit_id in store.closed or (known is not None and known.revision >= cart.revision):
        return
    store.carts[cart.visit_id] = cart
    while len(store.carts) > limit:
        del store.carts[next(iter(store.carts))]


def _with_cart(visit: OpenVisit, cart: Cart | None) -> OpenVisit:
    if cart is None:
        return visit
    lines = tuple((line.product_id, line.quantity) for line in cart.lines)
    return replace(visit, cart=lines, cart_total_krw=cart.total_krw, cart_revision=cart.revision)


@dataclass(frozen=True)
class LiveStores:
    """The Live page's window on the stores, and the feed that fills it from Kafka."""

    window: LiveWindow
    feed: LiveFeed


_live: dict[tuple[str, str | None], LiveStores] = {}
_live_lock = threading.Lock()


def live_stores(settings: Settings) -> LiveStores:
    """The window of this data directory and cluster, its feed started on first use; shared by every
    session of the app."""
    key = (str(settings.data_dir.resolve()), settings.kafka_bootstrap)
    with _live_lock:
        if key not in _live:
            window = LiveWindow()
            _live[key] = LiveStores(
                window, LiveFeed(settings, "dashboard-live-feed", TOPICS, window.apply).start()
            )
        return _live[key]
