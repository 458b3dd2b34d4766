"""Checkout replayed offline: a store-day's edge events through the service's fusion, without Kafka.

Backfills (weeks of history for the demo's forecasts and recommendations), the warehouse tests and
benchmarks need what the checkout service would have published for a store-day. They get it from the
same :class:`StoreCheckout` the service runs, fed each event once and in event-time order, as the
service's ordering buffer would feed it.
"""

from __future__ import annotations

from collections.abc import Iterable

from realtime.checkout.fusion import StoreCheckout
from walkout.calibration import Calibration
from walkout.catalog import Catalog
from walkout.contracts import Event

EXPIRE_EVERY_S = 10.0
"""How often (event time) open visits are checked for expiry, about as often as the service does."""


def replay_checkout(
    catalog: Catalog, store_id: str, edge_events: Iterable[Event], calibration: Calibration | None = None
) -> list[Event]:
    """The visits, dwell segments, receipts and dead letters the service publishes for these events
    (receipts flagged by ``calibration`` when given, as the service does once it has loaded one)."""
    fusion = StoreCheckout(catalog.store(store_id), catalog, calibration=calibration)
    unique = {event.event_id: event for event in edge_events}.values()
    outputs: list[Event] = []
    expired_at = 0.0
    for event in sorted(unique, key=lambda e: (e.ts, e.event_id)):
        outputs += fusion.apply(event)
        if event.ts.timestamp() - expired_at > EXPIRE_EVERY_S:
            expired_at = event.ts.timestamp()
            outputs += fusion.expire(expired_at)
    return outputs + fusion.close_all()
