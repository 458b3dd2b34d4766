"""Event-time order across a store's edge streams: a bad clock is held apart or refused and moves no
watermark, memory stays bounded, heartbeats move quiet streams, a replay releases the same way however
fast it is read, and live, a silent stream follows the wall clock but nothing passes it."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime.checkout.ordering import (
    FUTURE_S,
    GRACE_S,
    HELD_APART,
    MAX_PARKED,
    MAX_PARKED_PER_DEVICE,
    NO_ROOM,
    SILENT_S,
    EventTimeBuffer,
)
from twin.run import StoreDay
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
T0 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC).timestamp()
DAY = 86_400.0
REPLAY = T0 + 30 * DAY  # the wall clock's epoch time while old data is replayed: never live
GATES, SHELVES, CAMERAS = EDGE_TOPICS
Message = tuple[Event, str]  # an event and the topic it came on (a heartbeat's is any edge topic)


def when(offset: float) -> datetime:
    return datetime.fromtimestamp(T0 + offset, UTC)


def scan(offset: float, store: str = STORE) -> Message:
    event = GateScan(
        event_id=make_event_id("scan", store, offset),
        store_id=store,
        ts=when(offset),
        gate_id=f"{store}-G1",
        direction=GateDirection.ENTRY,
        shopper_id="M000001",
        outcome=ScanOutcome.ACCEPTED,
    )
    return event, GATES


def pick(offset: float, shelf: str = "GD07-SH4", store: str = STORE) -> Message:
    event = ShelfEvent(
        event_id=make_event_id("pick", store, shelf, offset),
        store_id=store,
        ts=when(offset),
        shelf_id=f"{store}-{shelf}",
        plate_id=f"{store}-{shelf.replace('SH', 'S')}-P01",
        action=ShelfAction.PICK,
        weight_delta_g=-80.0,
        product_id="P0178",
        quantity=1,
        confidence=0.99,
    )
    return event, SHELVES


def track(offset: float, camera: str = "CAM1", store: str = STORE) -> Message:
    event = CameraTrack(
        event_id=make_event_id("track", store, camera, offset),
        store_id=store,
        ts=when(offset),
        camera_id=f"{store}-{camera}",
        track_id="T1",
        x_m=3.0,
        y_m=2.0,
    )
    return event, CAMERAS


def heartbeat(offset: float, topic: str, store: str = STORE) -> Message:
    device = gateway_id(store)
    event = EdgeHeartbeat(
        event_id=make_event_id("heartbeat", device, topic, offset),
        store_id=store,
        ts=when(offset),
        device_id=device,
    )
    return event, topic


def busy(start: float, end: float, store: str = STORE) -> list[Message]:
    """Every stream of a store busy from ``start`` to ``end`` (offsets from T0), two devices each but
    the gate (a scan every 10 s, a pick every 5 s on two shelves, two cameras at 1 Hz)."""
    messages = [scan(t, store) for t in _every(start, end, 10.0)]
    messages += [
        pick(t, ("GD07-SH4", "GD01-SH4")[n % 2], store) for n, t in enumerate(_every(start, end, 5.0))
    ]
    messages += [track(t, camera, store) for t in _every(start, end, 1.0) for camera in ("CAM1", "CAM2")]
    return sorted(messages, key=lambda message: message[0].ts)


def _every(start: float, end: float, step: float) -> list[float]:
    return [start + n * step for n in range(math.ceil((end - start) / step))]


def add(
    buffer: EventTimeBuffer, messages: Iterable[Message], wall: float = 0.0, now: float = REPLAY
) -> list[str | None]:
    return [buffer.add(event, topic, wall, now) for event, topic in messages]


def replayed(buffer: EventTimeBuffer, messages: list[Message]) -> tuple[list[Event], float]:
    """Add old data, release it: what came out and the store's watermark."""
    assert set(add(buffer, messages)) <= {None, HELD_APART}
    ready, marks = buffer.release(0.0, REPLAY)
    return ready, marks.get(STORE, -math.inf)


def live(
    buffer: EventTimeBuffer, messages: Iterable[Message], ahead_s: float = 0.0
) -> tuple[list[Event], float]:
    """Take each message as it happens (its edge clock ``ahead_s`` ahead of ours), releasing after
    each as the service does after a poll: what came out and the store's last watermark."""
    released: list[Event] = []
    mark = -math.inf
    for event, topic in messages:
        wall = event.ts.timestamp() - T0 - ahead_s
        assert buffer.add(event, topic, wall, T0 + wall) in (None, HELD_APART)
        ready, marks = buffer.release(wall, T0 + wall)
        released, mark = released + ready, marks[STORE]
    return released, mark


def in_order(events: Iterable[Event]) -> list[Event]:
    return sorted(events, key=lambda event: (event.ts, event.event_id))


def test_a_day_frame_mid_stream_is_held_apart_and_moves_no_watermark() -> None:
    buffer = EventTimeBuffer(EDGE_TOPICS)
    morning = busy(0, 600)
    released, mark = replayed(buffer, morning)
    frame, topic = track(600 + DAY, "CAM2")

    assert buffer.add(frame, topic, 0.0, REPLAY) == HELD_APART
    assert buffer.release(0.0, REPLAY) == ([], {STORE: mark})
    assert mark == T0 + 590 - GRACE_S, "the last scan"

    later, later_mark = replayed(buffer, busy(600, 1200))
    assert later_mark == T0 + 1190 - GRACE_S, "the camera's stream goes on"
    assert frame not in later
    assert released + later == in_order(released + later)
    assert buffer.release_all()[-1] == frame


def test_a_day_frame_as_a_stores_very_first_message_is_held_apart_and_moves_no_watermark() -> None:
    buffer = EventTimeBuffer(EDGE_TOPICS)
    frame, topic = track(DAY, "CAM2")

    assert buffer.add(frame, topic, 0.0, REPLAY) == HELD_APART
    assert buffer.release(0.0, REPLAY) == ([], {STORE: -math.inf})

    released, mark = replayed(buffer, busy(0, 600))
    assert mark == T0 + 590 - GRACE_S
    assert frame not in released
    assert len(buffer) == len(busy(0, 600)) - len(released) + 1


def test_one_devices_first_messages_wait_for_a_second_device() -> None:
    buffer = EventTimeBuffer(EDGE_TOPICS)

    assert add(buffer, [scan(0), scan(10)]) == [HELD_APART, HELD_APART]
    assert buffer.release(0.0, REPLAY) == ([], {STORE: -math.inf})
    released, mark = replayed(buffer, [track(5), pick(6), track(15), pick(15)])
    assert released == [scan(0)[0], track(5)[0], pick(6)[0]]
    assert mark == T0 + 10 - GRACE_S


def test_an_event_dated_an_hour_after_the_wall_clock_is_refused() -> None:
    buffer = EventTimeBuffer(EDGE_TOPICS)
    live(buffer, busy(0, 60))
    ahead, topic = track(60 + 3600)

    refusal = buffer.add(ahead, topic, 60.0, T0 + 60)

    assert refusal not in (None, HELD_APART)
    assert "after the wall clock" in str(refusal)
    assert buffer.add(*track(60 + FUTURE_S - 1), 60.0, T0 + 60) is None, "a clock a little ahead is tolerated"
    assert ahead not in buffer.release_all()


@pytest.mark.slow
def test_a_flood_of_future_frames_parks_a_bounded_share_per_device_and_store() -> None:
    buffer = EventTimeBuffer(EDGE_TOPICS)
    _, mark = replayed(buffer, busy(0, 600))
    held = len(buffer)

    answers = add(buffer, [track(600 + DAY + n, "CAM2") for n in range(5000)])

    assert answers.count(HELD_APART) == MAX_PARKED_PER_DEVICE
    refusals = [answer for answer in answers if answer not in (None, HELD_APART)]
    assert len(refusals) == 5000 - MAX_PARKED_PER_DEVICE
    assert all(f"{MAX_PARKED_PER_DEVICE} events of S002-CAM2 held apart" in str(r) for r in refusals)
    for camera in ("CAM3", "CAM4", "CAM5"):  # more faulty devices: the store's parking stays bounded
        add(buffer, [track(600 + DAY + n, camera) for n in range(MAX_PARKED_PER_DEVICE)])
    assert len(buffer) == held + MAX_PARKED
    assert buffer.release(0.0, REPLAY) == ([], {STORE: mark})


def test_heartbeats_move_a_quiet_streams_watermark() -> None:
    buffer = EventTimeBuffer(EDGE_TOPICS)
    no_scans = [message for message in busy(0, 600) if message[1] != GATES]
    _, stalled = replayed(buffer, [scan(0), *no_scans])
    assert stalled == T0 - GRACE_S, "nothing said the gates were quiet"

    released, mark = replayed(buffer, [heartbeat(t, GATES) for t in range(10, 600, 10)])

    assert mark == T0 + 590 - GRACE_S
    assert released
    assert not any(isinstance(event, EdgeHeartbeat) for event in released)


def test_a_heartbeat_is_held_apart_or_refused_like_an_event() -> None:
    buffer = EventTimeBuffer(EDGE_TOPICS)
    _, mark = replayed(buffer, busy(0, 600))

    assert add(buffer, [heartbeat(600 + DAY, GATES)]) == [HELD_APART]
    assert buffer.release(0.0, REPLAY) == ([], {STORE: mark})
    [refusal] = add(buffer, [heartbeat(600 + 3600, SHELVES)], wall=600.0, now=T0 + 600)
    assert "after the wall clock" in str(refusal)


def test_a_new_stores_heartbeats_that_outrun_its_first_events_are_let_go_not_dead_lettered() -> None:
    """A replay can read a store's small topics hours ahead of its cameras: before the store starts,
    only its gateway speaks on them. What finds no room to wait is let go (the next heartbeat vouches
    as much), not sent to the dead letters by the thousand (a device's event with no room still is
    refused: see the flood of future frames)."""
    buffer = EventTimeBuffer(EDGE_TOPICS)
    beats = [
        heartbeat(t, topic) for t in range(0, 20 * MAX_PARKED_PER_DEVICE, 10) for topic in (GATES, SHELVES)
    ]

    answers = add(buffer, beats)

    assert answers[:MAX_PARKED_PER_DEVICE] == [HELD_APART] * MAX_PARKED_PER_DEVICE
    assert set(answers[MAX_PARKED_PER_DEVICE:]) == {NO_ROOM}
    released, mark = replayed(buffer, busy(0, 600))
    assert mark > T0, "the store starts once its devices speak"
    assert released


def test_live_a_silent_stream_follows_the_wall_clock_after_a_while_but_nothing_passes_it() -> None:
    buffer = EventTimeBuffer(EDGE_TOPICS)
    live(buffer, busy(0, 100))
    quiet_since = max(event.ts.timestamp() for event, topic in busy(0, 100) if topic != CAMERAS) - T0
    # the cameras go on, 30 s ahead of our clock; gates and shelves fall silent
    for tenth in range(1000, 2000):
        wall = tenth / 10
        assert buffer.add(*track(wall + 30, "CAM1"), wall, T0 + wall) is None
        _, marks = buffer.release(wall, T0 + wall)

        assert marks[STORE] <= T0 + wall - GRACE_S
        if wall < quiet_since + SILENT_S:
            assert marks[STORE] <= T0 + quiet_since - GRACE_S, "a quiet stream holds the store a while"
        else:
            assert marks[STORE] == T0 + wall - SILENT_S - GRACE_S


def test_live_streams_with_clocks_ahead_never_take_the_store_past_the_wall_clock() -> None:
    buffer = EventTimeBuffer(EDGE_TOPICS)

    _, mark = live(buffer, busy(0, 100), ahead_s=45.0)

    assert mark == T0 + 99 - 45 - GRACE_S


@pytest.mark.parametrize("is_live", [False, True], ids=["replay", "live"])
def test_every_stream_back_after_hours_without_heartbeats_is_taken_once_two_devices_agree(
    is_live: bool,
) -> None:
    buffer = EventTimeBuffer(EDGE_TOPICS)
    back = 5 * 3600.0  # the store was shut, its gateway off: no heartbeats

    def take(messages: list[Message]) -> tuple[list[Event], float]:
        return live(buffer, messages) if is_live else replayed(buffer, messages)

    released, before = take(busy(0, 600))
    first, second = scan(back), track(back + 1)
    assert take([first]) == ([], before), "one device's word is not enough"
    shopping = [track(back + t / 2, camera) for t in range(3, 480) for camera in ("CAM1", "CAM2")]
    shopping += [pick(back + 30), scan(back + 100), pick(back + 200), scan(back + 230)]
    for message in [second, *sorted(shopping, key=lambda message: message[0].ts)]:  # one gate, one shelf
        ready, mark = take([message])
        released += ready

    assert mark > T0 + back + 100, "the store is decided again"
    assert {first[0], second[0], pick(back + 30)[0]} <= set(released)
    assert released == in_order(released)


def test_release_all_gives_everything_held_or_parked_once_in_order() -> None:
    buffer = EventTimeBuffer(EDGE_TOPICS)
    messages = busy(0, 300, "S001") + busy(0, 300) + busy(300, 400, "S001")
    add(buffer, messages)
    released, _ = buffer.release(0.0, REPLAY)
    parked = [track(400 + DAY, "CAM2"), heartbeat(400 + DAY, GATES), track(400 + DAY, "CAM1", "S001")]
    assert add(buffer, parked) == [HELD_APART] * 3

    rest = buffer.release_all()

    assert released
    assert rest
    everything = in_order(event for event, _ in messages + parked if not isinstance(event, EdgeHeartbeat))
    for store in ("S001", STORE):
        assert [e for e in released + rest if e.store_id == store] == [
            e for e in everything if e.store_id == store
        ]
    assert buffer.release_all() == []
    assert len(buffer) == 0
    assert buffer.release(0.0, REPLAY)[0] == []


@st.composite
def interleaved_streams(draw: st.DrawFn) -> list[Message]:
    """Three streams of one store, each in event-time order (with the gateway's heartbeats now and
    then, and now and then a silence of up to an hour), read at their own pace: any interleaving."""
    streams: list[list[Message]] = []
    for topic in EDGE_TOPICS:
        offset = draw(st.floats(0.0, 120.0))
        stream: list[Message] = []
        for _ in range(draw(st.integers(1, 40))):
            offset += draw(st.floats(0.001, 90.0) if draw(st.integers(0, 9)) else st.floats(0.001, 3600.0))
            kind = draw(st.sampled_from(["event", "other device", "heartbeat"]))
            if kind == "heartbeat":
                stream.append(heartbeat(offset, topic))
            elif topic == GATES:
                stream.append(scan(offset))
            elif topic == SHELVES:
                stream.append(pick(offset, "GD01-SH4" if kind == "other device" else "GD07-SH4"))
            else:
                stream.append(track(offset, "CAM2" if kind == "other device" else "CAM1"))
        streams.append(stream)
    order = draw(st.permutations([n for n, stream in enumerate(streams) for _ in stream]))
    return [streams[n].pop(0) for n in order]


Released = list[tuple[list[str], dict[str, float]]]


def replay_paced(
    messages: list[Message], releases: list[bool], walls: list[float]
) -> tuple[Released, list[str]]:
    """Add old data, releasing after the messages ``releases`` marks at wall clock times ``walls``;
    then end the replay. Every release's event ids and watermarks, and what the end released."""
    buffer = EventTimeBuffer(EDGE_TOPICS)
    batches: Released = []
    for (event, topic), release, wall in zip(messages, releases, walls, strict=True):
        assert buffer.add(event, topic, wall, REPLAY + wall) in (None, HELD_APART)
        if release:
            ready, marks = buffer.release(wall, REPLAY + wall)
            batches.append(([event.event_id for event in ready], marks))
    return batches, [event.event_id for event in buffer.release_all()]


@settings(max_examples=300, deadline=None)
@given(st.data())
@pytest.mark.slow
def test_a_replay_releases_the_same_however_fast_it_is_read(data: st.DataObject) -> None:
    messages = data.draw(interleaved_streams())
    count = len(messages)
    releases = data.draw(st.lists(st.booleans(), min_size=count, max_size=count))
    pauses = data.draw(
        st.lists(st.sampled_from([0.0, 0.01, 1.0, 15.0, 45.0, 600.0]), min_size=count, max_size=count)
    )
    walls = [sum(pauses[: n + 1]) for n in range(count)]

    assert replay_paced(messages, releases, walls) == replay_paced(messages, releases, [0.0] * count)


@settings(max_examples=300, deadline=None)
@given(st.data())
@pytest.mark.slow
def test_a_replay_releases_every_event_once_in_event_time_order_whenever_it_is_asked(
    data: st.DataObject,
) -> None:
    messages = data.draw(interleaved_streams())
    releases = data.draw(st.lists(st.booleans(), min_size=len(messages), max_size=len(messages)))

    batches, rest = replay_paced(messages, releases, [0.0] * len(messages))

    events = [event for event, _ in messages if not isinstance(event, EdgeHeartbeat)]
    assert [event_id for ids, _ in batches for event_id in ids] + rest == [
        event.event_id for event in in_order(events)
    ]
    marks = [marks.get(STORE, -math.inf) for _, marks in batches]
    assert marks == sorted(marks)


def _first_frame(store_day: StoreDay) -> CameraTrack:
    return next(event for _, event in store_day.events if isinstance(event, CameraTrack))


def test_a_stores_first_events_wait_until_two_devices_agree(simulated_day: list[StoreDay]) -> None:
    buffer = EventTimeBuffer(EDGE_TOPICS)
    frame = _first_frame(simulated_day[0])
    now = time.time()
    assert buffer.add(frame, frame.TOPIC, 0.0, now) == HELD_APART
    buffer.release(1.0, now)
    assert not buffer.started(frame.store_id)
    other = next(e for _, e in simulated_day[0].events if not isinstance(e, CameraTrack))
    assert buffer.add(other, other.TOPIC, 1.0, now) == HELD_APART
    buffer.release(2.0, now)
    assert buffer.started(frame.store_id)
    assert buffer.parked_count(frame.store_id) == 0


@pytest.mark.slow
def test_a_camera_flooding_frames_dated_a_day_ahead_cannot_keep_its_store_from_starting(
    simulated_day: list[StoreDay],
) -> None:
    """Before, 2,000 such frames filled the store's parking: every later event of the store that had to
    wait (all of them, before it started) was refused, and the store never started."""
    store_day = simulated_day[0]
    frame = _first_frame(store_day)
    flood = [
        frame.model_copy(
            update={"event_id": f"flood{n:06d}", "ts": frame.ts + timedelta(days=1, seconds=n / 4)}
        )
        for n in range(MAX_PARKED_PER_DEVICE + 500)
    ]
    buffer = EventTimeBuffer(EDGE_TOPICS)
    now = time.time()
    flooded = [buffer.add(event, event.TOPIC, 0.0, now) for event in flood]
    assert flooded.count(HELD_APART) == MAX_PARKED_PER_DEVICE
    assert all(frame.camera_id in str(refusal) for refusal in flooded[MAX_PARKED_PER_DEVICE:])

    first: list[Event] = [event for _, event in store_day.events[:3000]]
    taken = {event.event_id: buffer.add(event, event.TOPIC, 1.0, now) for event in first}
    buffer.release(2.0, now)

    others = [
        event
        for event in first
        if not (isinstance(event, CameraTrack) and event.camera_id == frame.camera_id)
    ]
    assert others
    assert all(taken[event.event_id] in (None, HELD_APART) for event in others)
    assert buffer.started(frame.store_id)
    assert buffer.parked_count(frame.store_id) == MAX_PARKED_PER_DEVICE  # the flood, still held apart
    later = [event for _, event in store_day.events[3000:4000]]
    assert all(buffer.add(event, event.TOPIC, 3.0, now) in (None, HELD_APART) for event in later)
