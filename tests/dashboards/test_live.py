"""The Live page's feed: the bounded window of who is in each store now, and the Kafka consumer that
fills it (on the session's broker) while the page refreshes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dashboards.live import PRESENCE_S, LiveWindow, live_stores
from walkout.contracts import CameraTrack, Cart, Event, ReceiptLine, Visit, VisitStatus, make_event_id
from walkout.kafka import make_producer, publish
from walkout.settings import Settings

if TYPE_CHECKING:
    from tests.dashboards.conftest import OpenPage

START = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)


def track(store: str, track_id: str, seconds: float, zone: str | None = None, x: float = 1.0) -> CameraTrack:
    at = START + timedelta(seconds=seconds)
    return CameraTrack(
        event_id=make_event_id("test-track", store, track_id, seconds),
        store_id=store,
        ts=at,
        camera_id=f"{store}-CAM1",
        track_id=track_id,
        x_m=x,
        y_m=2.0,
        zone_id=zone,
    )


def visit(store: str, visit_id: str, seconds: float, closed_at: float | None = None, group: int = 1) -> Visit:
    entered = START + timedelta(seconds=seconds)
    exited = None if closed_at is None else START + timedelta(seconds=closed_at)
    return Visit(
        event_id=make_event_id("test-visit", store, visit_id, closed_at),
        store_id=store,
        ts=exited or entered,
        visit_id=visit_id,
        shopper_id="M000001",
        status=VisitStatus.CLOSED if exited else VisitStatus.OPENED,
        group_size=group,
        entered_at=entered,
        exited_at=exited,
    )


def cart(store: str, visit_id: str, seconds: float, revision: int, **quantities: int) -> Cart:
    """A visit's cart at a revision: product id → quantity, each at 1,000 KRW."""
    lines = tuple(
        ReceiptLine(product_id=p, quantity=q, unit_price_krw=1000, amount_krw=1000 * q, confidence=0.99)
        for p, q in quantities.items()
    )
    return Cart(
        event_id=make_event_id("test-cart", store, visit_id, revision),
        store_id=store,
        ts=START + timedelta(seconds=seconds),
        visit_id=visit_id,
        shopper_id="M000001",
        revision=revision,
        lines=lines,
        total_krw=sum(line.amount_krw for line in lines),
    )


def fill(window: LiveWindow, *events: Event) -> None:
    """What the feed does with each event it reads, in order."""
    for event in events:
        window.apply(event)


def test_a_person_counts_while_their_track_is_recent() -> None:
    window = LiveWindow()
    fill(window, track("S001", "t1", 0, "S001-snacks"), track("S001", "t2", 1, "S001-dairy"))
    fill(window, track("S001", "t2", PRESENCE_S + 0.5, "S001-beverages"))
    now = window.now("S001")
    assert now.as_of == START + timedelta(seconds=PRESENCE_S + 0.5)
    assert [(person.track_id, person.zone_id) for person in now.people] == [("t2", "S001-beverages")]


def test_a_late_sample_does_not_move_a_person_back() -> None:
    window = LiveWindow()
    fill(window, track("S001", "t1", 3, "S001-dairy", x=3.0), track("S001", "t1", 2, "S001-snacks", x=2.0))
    (person,) = window.now("S001").people
    assert (person.zone_id, person.x_m) == ("S001-dairy", 3.0)


def test_stores_are_kept_apart() -> None:
    window = LiveWindow()
    fill(window, track("S001", "t1", 0), track("S002", "t9", 100))
    assert [p.track_id for p in window.now("S001").people] == ["t1"]
    assert window.stores() == ["S001", "S002"]
    assert window.now("S003").as_of is None


def test_open_visits_close_and_stay_bounded() -> None:
    window = LiveWindow(max_open_visits=2)
    fill(window, visit("S001", "v1", 0), visit("S001", "v2", 10, group=3), visit("S001", "v3", 20))
    assert [v.visit_id for v in window.now("S001").open_visits] == ["v2", "v3"]  # the oldest made room
    fill(window, visit("S001", "v2", 10, closed_at=60))
    (open_visit,) = window.now("S001").open_visits
    assert open_visit.visit_id == "v3"


def test_an_open_visit_shows_its_newest_cart_until_it_leaves() -> None:
    """Carts and visits come on two topics in no set order: a cart may arrive before its visit."""
    window = LiveWindow()
    fill(window, cart("S001", "v1", 20, 2, P0001=2, P0002=1), visit("S001", "v1", 0))
    fill(window, cart("S001", "v1", 15, 1, P0001=1), visit("S001", "v1", 0))  # late: an older cart, a repeat
    (shown,) = window.now("S001").open_visits
    assert (shown.cart, shown.cart_total_krw, shown.cart_revision) == ((("P0001", 2), ("P0002", 1)), 3000, 2)
    fill(window, cart("S001", "v1", 30, 3))  # everything put back
    assert window.now("S001").open_visits[0].cart == ()
    fill(window, visit("S001", "v1", 0, closed_at=60), cart("S001", "v1", 59, 4, P0001=1))
    fill(window, visit("S001", "v1", 0))  # its opening again, after it closed
    assert window.now("S001").open_visits == ()


def test_a_visit_whose_exit_was_missed_is_dropped_after_hours() -> None:
    window = LiveWindow()
    fill(window, visit("S001", "v1", 0), track("S001", "t1", 5 * 3600))
    assert window.now("S001").open_visits == ()


@pytest.mark.slow
def test_the_feed_says_why_kafka_is_not_reachable(tmp_path: Path) -> None:
    feed = live_stores(Settings(data_dir=tmp_path, kafka_bootstrap="127.0.0.1:9")).feed
    try:
        deadline = time.monotonic() + 60
        while feed.health().cut_off is None and time.monotonic() < deadline:
            time.sleep(0.2)
        health = feed.health()
        assert not health.connected
        assert "127.0.0.1:9" in (health.cut_off or "")
    finally:
        feed.stop()


@pytest.mark.kafka
def test_the_live_page_shows_people_and_open_visits_from_kafka(
    kafka_settings: Settings, open_page: OpenPage
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    store = "S003"  # the newest events of this store on the session's broker are these
    offset = (now - START).total_seconds()
    events = [
        track(store, "live-a", offset, "S003-snacks"),
        track(store, "live-b", offset, "S003-snacks", x=2.0),
        track(store, "live-c", offset, "S003-entrance"),
        visit(store, "live-v1", offset - 60, group=2),
        cart(store, "live-v1", offset - 10, 1, P0001=2),
    ]
    producer = make_producer(kafka_settings)
    for event in events:
        publish(producer, event)
    producer.flush()
    producer.close()
    live = live_stores(kafka_settings)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            now = live.window.now(store)
            if len(now.people) == 3 and any(visit.cart_revision for visit in now.open_visits):
                break
            time.sleep(0.5)
        app = open_page(kafka_settings, "live.py")
        app.selectbox(key="live-store").set_value(store).run()
        metrics = {metric.label: metric.value for metric in app.metric}
        assert metrics["People on the floor"] == "3"
        assert metrics["Open visits"] == "1"
        zones = app.dataframe[0].value
        assert zones.set_index("Zone")["People now"].to_dict()["Snacks"] == 2
        (shown,) = app.dataframe[1].value.to_dict("records")
        assert shown["In the cart"] == "Coca-Cola 500ml PET (2)"
        assert shown["Cart total (KRW)"] == 2000
        assert not app.exception
    finally:
        live.feed.stop()
