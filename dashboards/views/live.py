"""Live: people on the floor per zone and the open visits with what their carts hold, refreshed every
few seconds from Kafka while the stores (or ``walkout simulate --speed realtime``) send events. Needs
no warehouse."""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import lru_cache
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboards.charts import Measure
from dashboards.floor import floor_plans, people_on_plan, zones_of
from dashboards.format import Column, Kind
from dashboards.live import LiveStores, StoreNow, live_stores
from dashboards.page import chart, table
from walkout.catalog import Store
from walkout.live import FeedHealth
from walkout.settings import get_settings

REFRESH_S = 2
QUIET_S = 30.0
PEOPLE = Measure("people", "People in the zone now", step=1)
ZONE_COLUMNS = [Column("zone", "Zone"), Column("people", "People now", Kind.COUNT)]
VISIT_COLUMNS = [
    Column("entered", "Entered (store time)"),
    Column("minutes_in_store", "Minutes in the store", Kind.DECIMAL),
    Column("group_size", "People on the QR code", Kind.COUNT),
    Column("cart", "In the cart"),
    Column("cart_total_krw", "Cart total (KRW)", Kind.KRW),
]
SEND_HINT = "Send events with `walkout simulate --speed realtime` (and `walkout checkout run` for visits)."


def zone_occupancy(store: Store, now: StoreNow) -> pl.DataFrame:
    """People per zone of the store (every zone, zero when empty)."""
    counts: dict[str, int] = {}
    for person in now.people:
        if person.zone_id is not None:
            counts[person.zone_id] = counts.get(person.zone_id, 0) + 1
    return (
        zones_of(store)
        .select("zone_id", "zone")
        .with_columns(people=pl.col("zone_id").replace_strict(counts, default=0, return_dtype=pl.Int64))
    )


@lru_cache(maxsize=1)
def product_names() -> Mapping[str, str]:
    from walkout.catalog import load_products

    return {product_id: product.name for product_id, product in load_products().items()}


def open_visits(store: Store, now: StoreNow) -> pl.DataFrame:
    """The open visits, longest in the store first, with local entry times and their carts."""
    local = ZoneInfo(store.timezone)
    names = product_names()
    rows = [
        {
            "entered": visit.entered_at.astimezone(local).strftime("%H:%M:%S"),
            "minutes_in_store": (now.as_of - visit.entered_at).total_seconds() / 60 if now.as_of else None,
            "group_size": visit.group_size,
            "cart": ", ".join(
                f"{names.get(product, product)} ({quantity})" for product, quantity in visit.cart
            ),
            "cart_total_krw": visit.cart_total_krw,
        }
        for visit in sorted(now.open_visits, key=lambda visit: visit.entered_at)
    ]
    return pl.DataFrame(
        rows,
        schema={
            "entered": pl.String,
            "minutes_in_store": pl.Float64,
            "group_size": pl.Int64,
            "cart": pl.String,
            "cart_total_krw": pl.Int64,
        },
    )


def say_feed_state(health: FeedHealth, now: StoreNow, store: Store) -> None:
    """Tell what the feed is doing when it is not simply showing the store."""
    if health.cut_off is not None:
        st.warning(
            f"Kafka is not reachable: {health.cut_off}. Then: {SEND_HINT}", icon=":material/cloud_off:"
        )
    elif health.running and not health.connected:
        st.info("Connecting to Kafka…", icon=":material/hourglass_top:")
    elif health.problem is not None:  # stuck, or stopped: what is shown is not now
        st.warning(f"Not live: {health.problem}.", icon=":material/sync_problem:")
    elif now.as_of is None:
        st.info(f"Connected to Kafka at {health.bootstrap}; no events from {store.name} yet. {SEND_HINT}")
    elif health.last_received_at is not None and time.monotonic() - health.last_received_at > QUIET_S:
        st.caption(f"No new events for {time.monotonic() - health.last_received_at:.0f} s.")


def show_store(live: LiveStores, store: Store) -> None:
    now = live.window.now(store.store_id)
    say_feed_state(live.feed.health(), now, store)
    if now.as_of is None:
        return
    zones = zone_occupancy(store, now)
    visits = open_visits(store, now)
    figures = {
        "People on the floor": str(len(now.people)),
        "Open visits": str(visits.height),
        "Store time": now.as_of.astimezone(ZoneInfo(store.timezone)).strftime("%H:%M:%S"),
    }
    for column, (label, value) in zip(st.columns(len(figures)), figures.items(), strict=True):
        column.metric(label, value)
    positions = pl.DataFrame(
        [{"x_m": p.x_m, "y_m": p.y_m, "zone_id": p.zone_id} for p in now.people],
        schema={"x_m": pl.Float64, "y_m": pl.Float64, "zone_id": pl.String},
    ).join(zones.select("zone_id", "zone"), on="zone_id", how="left")
    chart(people_on_plan(store, zones, positions, PEOPLE), stretch=False)
    left, right = st.columns(2)
    with left:
        st.subheader("People per zone")
        table(zones.sort("people", descending=True), ZONE_COLUMNS, f"live-zones-{store.store_id}")
    with right:
        st.subheader("Open visits and their carts")
        table(visits, VISIT_COLUMNS, f"live-visits-{store.store_id}")


def render() -> None:
    st.title("Live")
    st.caption(
        "Who is in the store now and what their carts hold, from the camera tracks, visits and carts "
        f"on Kafka, refreshed every {REFRESH_S} s. A dot is a person; the time is the store's latest event."
    )
    plans = floor_plans()
    store_id = st.sidebar.selectbox(
        "Store", list(plans), format_func=lambda s: plans[s].name, key="live-store"
    )
    live = live_stores(get_settings())

    @st.fragment(run_every=REFRESH_S)
    def refresh() -> None:
        show_store(live, plans[store_id or next(iter(plans))])

    refresh()


if __name__ == "__main__":
    render()
