"""The store gateway: device events forwarded in send order, heartbeats on quiet topics only, fast
while a decision waits, slow otherwise, never dated after the instant they leave; and the twin's
clock that lets them leave on time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion.gateway import DECISION_WINDOW_S, HEARTBEAT_S, KEEPALIVE_S, StoreGateway
from twin.run import StoreDay, pacer
from walkout.contracts import (
    EDGE_TOPICS,
    CameraTrack,
    EdgeHeartbeat,
    Event,
    GateDirection,
    GateScan,
    ScanOutcome,
    ShelfAction,
    ShelfEvent,
    make_event_id,
)
from walkout.edge import gateway_id

STORE = "S002"
OPENING = datetime(2026, 11, 20, 21, 0, tzinfo=UTC).timestamp()
GATES, SHELVES, CAMERAS = EDGE_TOPICS


def scan(at: float) -> GateScan:
    return GateScan(
        event_id=make_event_id("scan", at),
        store_id=STORE,
        ts=datetime.fromtimestamp(at, UTC),
        gate_id="S002-G1",
        direction=GateDirection.ENTRY,
        shopper_id="M000001",
        outcome=ScanOutcome.ACCEPTED,
    )


def pick(at: float) -> ShelfEvent:
    return ShelfEvent(
        event_id=make_event_id("pick", at),
        store_id=STORE,
        ts=datetime.fromtimestamp(at, UTC),
        shelf_id="S002-GD07-SH4",
        plate_id="S002-GD07-S4-P04",
        action=ShelfAction.PICK,
        weight_delta_g=-82.0,
        product_id="P0178",
        quantity=1,
        confidence=0.99,
    )


def track(at: float) -> CameraTrack:
    return CameraTrack(
        event_id=make_event_id("track", at),
        store_id=STORE,
        ts=datetime.fromtimestamp(at, UTC),
        camera_id="S002-CAM1",
        track_id="T1",
        x_m=3.0,
        y_m=2.0,
    )


@dataclass
class Wire:
    """What a gateway sent: (the instant it was forwarding at, the message, its topic)."""

    gateway: StoreGateway = field(init=False)
    sent: list[tuple[float, Event, str]] = field(default_factory=list)
    at: float = -1.0

    def __post_init__(self) -> None:
        self.gateway = StoreGateway(STORE, lambda event, topic: self.sent.append((self.at, event, topic)))

    def forward(self, events: list[tuple[float, Event]]) -> None:
        for at, event in events:
            self.at = at
            self.gateway.forward(at, event)

    def tick(self, at: float) -> None:
        """The gateway's own clock, between device messages."""
        self.at = at
        self.gateway.advance(at)

    def heartbeats(self, topic: str | None = None) -> list[tuple[float, EdgeHeartbeat, str]]:
        return [
            (at, event, on)
            for at, event, on in self.sent
            if isinstance(event, EdgeHeartbeat) and topic in (None, on)
        ]

    def beats_after(self, start: float, topic: str) -> list[float]:
        """When a topic's heartbeats after ``start`` were dated, in seconds after it."""
        dated = [round(event.ts.timestamp() - start, 3) for _, event, _ in self.heartbeats(topic)]
        return [after for after in dated if after > 0]


def test_device_events_go_out_in_send_order_on_their_topics() -> None:
    wire = Wire()
    events: list[tuple[float, Event]] = [(OPENING, scan(OPENING)), (OPENING + 0.5, track(OPENING + 0.4))]
    events += [(OPENING + 30.0, pick(OPENING + 29.0)), (OPENING + 31.0, scan(OPENING + 31.0))]
    wire.forward(events)

    assert [(at, event, topic) for at, event, topic in wire.sent if not isinstance(event, EdgeHeartbeat)] == [
        (at, event, event.TOPIC) for at, event in events
    ]


def test_a_busy_topic_gets_no_heartbeat_and_the_quiet_ones_do() -> None:
    wire = Wire()
    wire.forward([(OPENING + t / 5, track(OPENING + t / 5)) for t in range(5 * 120)])  # 5 Hz for 2 minutes

    assert {topic for _, _, topic in wire.heartbeats()} == {GATES, SHELVES}
    assert wire.heartbeats(CAMERAS) == []
    assert all(
        event.device_id == gateway_id(STORE) and event.store_id == STORE for _, event, _ in wire.heartbeats()
    )


def test_a_topic_stays_quiet_of_heartbeats_while_it_carries_something_every_beat() -> None:
    wire = Wire()
    wire.forward([(OPENING + t * 0.9, pick(OPENING + t * 0.9)) for t in range(100)])

    assert wire.heartbeats(SHELVES) == []
    assert wire.heartbeats(GATES) != []


def test_quiet_topics_beat_every_second_while_a_scan_is_decided_then_every_ten() -> None:
    wire = Wire()
    wire.forward([(OPENING, scan(OPENING)), (OPENING + 60.0, track(OPENING + 60.0))])
    fast = [float(n) for n in range(1, int(DECISION_WINDOW_S / HEARTBEAT_S) + 1)]
    slow = [DECISION_WINDOW_S + n * KEEPALIVE_S for n in range(1, 5)]

    for topic in EDGE_TOPICS:
        assert wire.beats_after(OPENING, topic) == fast + slow, topic


def test_a_shelf_event_opens_a_decision_window_too_and_a_track_does_not() -> None:
    shelf, tracked = Wire(), Wire()
    shelf.forward(
        [
            (OPENING, track(OPENING)),
            (OPENING + 100.0, pick(OPENING + 100.0)),
            (OPENING + 125.0, track(OPENING + 125.0)),
        ]
    )
    tracked.forward(
        [
            (OPENING, track(OPENING)),
            (OPENING + 100.0, track(OPENING + 100.0)),
            (OPENING + 125.0, track(OPENING + 125.0)),
        ]
    )

    assert shelf.beats_after(OPENING + 100.0, SHELVES) == [float(n) for n in range(1, 13)] + [22.0]
    assert tracked.beats_after(OPENING + 100.0, SHELVES) == [10.0, 20.0]
    assert shelf.gateway.heartbeats == len(shelf.heartbeats())


def test_a_quiet_night_costs_a_heartbeat_per_topic_every_ten_seconds() -> None:
    """Eight hours, a shopper every 40 minutes (a scan in, a minute of tracks, a pick, a scan out)."""
    wire = Wire()
    night = 8 * 3600.0
    shoppers = 12
    for n in range(shoppers):
        entered = OPENING + n * 2400.0
        visit: list[tuple[float, Event]] = [(entered, scan(entered))]
        visit += [(entered + t / 2, track(entered + t / 2)) for t in range(1, 120)]
        visit += [(entered + 30.0, pick(entered + 30.0)), (entered + 60.0, scan(entered + 60.0))]
        wire.forward(sorted(visit, key=lambda item: item[0]))
    wire.forward([(OPENING + night, track(OPENING + night))])
    keepalives = len(EDGE_TOPICS) * night / KEEPALIVE_S
    fast = len(EDGE_TOPICS) * shoppers * 3 * DECISION_WINDOW_S / HEARTBEAT_S  # after the scans and the pick

    assert keepalives * 0.9 <= len(wire.heartbeats()) <= keepalives + fast
    for topic in EDGE_TOPICS:
        heard = sorted(event.ts.timestamp() for _, event, on in wire.sent if on == topic)
        assert max(b - a for a, b in pairwise(heard)) <= KEEPALIVE_S + 0.001, topic


def test_a_gateway_ticked_by_its_clock_sends_each_heartbeat_as_it_falls_due() -> None:
    wire = Wire()
    wire.forward([(OPENING, scan(OPENING))])
    for tenth in range(1, 6000):
        wire.tick(OPENING + tenth / 10)

    assert len(wire.heartbeats()) == len(EDGE_TOPICS) * (12 + (600 - 12) // 10)
    assert all(0 <= sent_at - beat.ts.timestamp() < 0.1 for sent_at, beat, _ in wire.heartbeats())


def test_heartbeat_ids_are_unique_per_topic_and_instant(simulated_day: list[StoreDay]) -> None:
    (store_day,) = simulated_day
    wire = Wire()
    wire.forward(store_day.events)
    ids = Counter(event.event_id for _, event, _ in wire.heartbeats())
    by_instant = Counter((topic, event.ts) for _, event, topic in wire.heartbeats())

    assert ids.most_common(1)[0][1] == 1
    assert len(ids) == len(by_instant) == wire.gateway.heartbeats
    assert len(wire.heartbeats()) < len(store_day.events)  # a store-day: fewer extra messages than its own


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 10**6),
    st.lists(st.tuples(st.floats(0.0, 40.0), st.sampled_from([scan, pick, track])), min_size=1, max_size=60),
)
def test_a_heartbeat_is_never_dated_after_the_instant_it_leaves(
    start_ms: int, steps: list[tuple[float, Callable[[float], Event]]]
) -> None:
    """ "Every event of this topic up to ts has been sent" is said only once ts has passed."""
    wire = Wire()
    at = OPENING + start_ms / 1000
    for gap, make in steps:
        at += gap
        wire.forward([(at, make(at))])

    for sent_at, beat, _ in wire.heartbeats():
        assert beat.ts.timestamp() <= sent_at + 1e-6  # to the microsecond: the wire carries milliseconds


class FakeClock:
    """Wall time that passes only when slept, so a test sees when each message would leave."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_gateway_says_when_its_next_heartbeat_falls_due() -> None:
    wire = Wire()
    assert wire.gateway.next_beat() == float("inf")  # nothing sent yet: nothing to vouch for
    wire.forward([(OPENING, scan(OPENING))])
    assert wire.gateway.next_beat() == OPENING + HEARTBEAT_S  # a decision waits: beat fast
    wire.tick(OPENING + DECISION_WINDOW_S + 0.5)
    assert wire.gateway.next_beat() == OPENING + DECISION_WINDOW_S + KEEPALIVE_S  # decided: keep alive


def test_the_twins_clock_sends_each_heartbeat_at_its_instant_not_with_the_next_shopper() -> None:
    clock = FakeClock()
    sent: list[tuple[float, Event, str]] = []
    gateway = StoreGateway(STORE, lambda event, topic: sent.append((clock.now, event, topic)))
    wait_until = pacer(gateway, OPENING, speed=10.0, clock=clock, sleep=clock.sleep)
    night = [(OPENING, scan(OPENING)), (OPENING + 2400.0, scan(OPENING + 2400.0))]  # 40 minutes apart
    for at, event in night:
        wait_until(at)
        gateway.forward(at, event)
    beats = [(wall, event, topic) for wall, event, topic in sent if isinstance(event, EdgeHeartbeat)]

    assert {topic for _, _, topic in beats} == set(EDGE_TOPICS)
    for wall, event, _ in beats:  # each left when the simulated clock (10x the wall's) reached it
        assert abs(OPENING + wall * 10.0 - event.ts.timestamp()) < 1e-3
    window = [event.ts.timestamp() - OPENING for _, event, topic in beats if topic == GATES]
    assert window[: int(DECISION_WINDOW_S)] == [HEARTBEAT_S * (n + 1) for n in range(int(DECISION_WINDOW_S))]
    assert type(sent[-1][1]) is GateScan  # the next shopper's scan came last
