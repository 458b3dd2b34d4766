"""The checkout's event-time buffer against faulty clocks: what it parks, and what it never lets them do."""

from __future__ import annotations

import time
from datetime import timedelta

from ingestion.simulator.run import StoreDay
from realtime.checkout.ordering import HELD_APART, MAX_PARKED_PER_DEVICE, EventTimeBuffer
from walkout.contracts import EDGE_TOPICS, CameraTrack, Event


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
