"""Event-time order across the three edge topics, per store, and how far each store can be decided.

Kafka keeps one store's events in order within a topic, not across ``gate.scans``, ``shelf.events``
and ``camera.tracks``, and the network delays some messages. Each (store, topic) is a *stream*; its
progress is the newest event time it delivered, or that the store gateway vouched for with a
heartbeat (see :mod:`ingestion.gateway`). A store can be decided up to its *watermark*: the progress
of its slowest stream, less :data:`GRACE_S` for messages the network held up. The buffer holds
each store's events until the watermark passes them, then releases them sorted by (ts, event_id).

What the watermark never trusts:

* **one event's clock.** An event dated more than :data:`FUTURE_S` after the wall clock is refused (edge
  admission refuses it already, see :mod:`walkout.edge`).
  One dated more than :data:`AHEAD_S` after its own stream (a stream's events come in order, and
  heartbeats leave no gaps) is *held apart* (parked): it moves no progress until its stream (or
  another stream of its store) gets near it, or a parked event of another device dated near it
  corroborates it (a store back after hours without heartbeats). A stream's first event is held to
  the store's other streams, loosely (:data:`FIRST_AHEAD_S`: partitions are read at their own pace);
  a store's very first events wait until two devices agree. At most :data:`MAX_PARKED_PER_DEVICE`
  are parked per device and :data:`MAX_PARKED` per store; more are refused. A bad camera clock cannot
  release a day of held events early, nor fill its store's parking so that the other devices' events
  are refused (a camera that sent thousands of frames dated ahead before its store's first events
  once kept that store from ever starting), and memory stays bounded whatever the timestamps.
* **a late event.** One dated more than :data:`LATE_S` behind its own stream (:meth:`EventTimeBuffer.lag_s`)
  comes after the ids of its time were forgotten and its instant was decided: it cannot be told from a
  repeat or a conflicting duplicate, so the service refuses it.
* **the wall clock, in a replay.** Old data is decided from the data alone (heartbeats included; a
  store waits for every stream to speak): the same input gives the same decisions however fast the
  machine is.

Live (a store whose newest event is within :data:`LIVE_WINDOW_S` of the wall clock), nothing moves a
store past the wall clock, and a stream silent for :data:`SILENT_S` (its gateway or partition
stalled) stops holding the store back beyond the wall clock less that bound: a visit is decided
seconds after it left even if the heartbeats stop.
"""

from __future__ import annotations

import bisect
import heapq
import math
from dataclasses import dataclass, field

from walkout.contracts import EdgeHeartbeat, Event
from walkout.edge import CLOCK_AHEAD_S, device_of

GRACE_S = 2.0  # messages the network delays longer arrive after their instant was decided
FUTURE_S = CLOCK_AHEAD_S  # an edge clock may run this far ahead of ours
AHEAD_S = 600.0  # an event this far ahead of its stream is parked
LATE_S = 3600.0  # an event this far behind its stream is too late: the ids of its time are forgotten
FIRST_AHEAD_S = 3600.0  # a stream's first event this far ahead of the store's other streams too
HELD_APART = "held apart"  # what :meth:`EventTimeBuffer.add` says of an event it parked
NO_ROOM = "no room"  # ... of a heartbeat it could not park: it carries no data, so it is let go
MAX_PARKED_PER_DEVICE = 2_000  # as many as one poll brings (a store's first events all wait for agreement)
MAX_PARKED = 3 * MAX_PARKED_PER_DEVICE  # per store: room for its first events beside two faulty devices
LIVE_WINDOW_S = 120.0  # a store whose newest event is this recent (by the wall clock) is live
SILENT_S = 10.0  # live: a stream that delivered nothing this long (heartbeats neither) has stalled
FIRST_WAIT_S = 30.0  # a stream that has not spoken yet may be far behind: wait this long for it

Held = tuple[float, str, Event]  # epoch s, event id, event: in event-time order


@dataclass
class Stream:
    """How far one topic of a store has got (epoch seconds) and when it last delivered (monotonic)."""

    progress: float
    heard_at: float


@dataclass
class EventTimeBuffer:
    topics: tuple[str, ...]
    held: dict[str, list[Held]] = field(default_factory=dict)
    parked: dict[str, list[tuple[float, str, str, Event]]] = field(default_factory=dict)  # + its topic
    streams: dict[tuple[str, str], Stream] = field(default_factory=dict)
    first_heard: dict[str, float] = field(default_factory=dict)

    def add(self, event: Event, topic: str, wall: float, epoch_now: float) -> str | None:
        """Take an event (or heartbeat) of a topic: None when taken, :data:`HELD_APART` when parked,
        else why it was refused."""
        ts = event.ts.timestamp()
        if ts > epoch_now + FUTURE_S:
            return f"dated {ts - epoch_now:.0f} s after the wall clock (an edge clock running ahead?)"
        self.first_heard.setdefault(event.store_id, wall)
        if not self._within_reach(event.store_id, topic, ts):
            return self._park(event, topic, ts)
        self._accept(event, topic, ts, wall)
        return None

    def started(self, store_id: str) -> bool:
        """Whether the store's first events were taken (two of its devices agreed on the time)."""
        return any(store == store_id for store, _ in self.streams)

    def parked_count(self, store_id: str) -> int:
        return len(self.parked.get(store_id, []))

    def lag_s(self, event: Event, topic: str) -> float:
        """How far (seconds) an event is dated behind the progress of its stream; 0 for a stream not
        heard yet."""
        stream = self.streams.get((event.store_id, topic))
        return 0.0 if stream is None else max(0.0, stream.progress - event.ts.timestamp())

    def _within_reach(self, store: str, topic: str, ts: float) -> bool:
        """Whether an event of this stream dated ``ts`` may move its progress: near its stream, or near
        the store's furthest other stream (a store back after hours: once two devices agreed on it,
        each stream's next event follows them); a stream's first event more loosely; a new store's
        not at all (it waits for agreement)."""
        stream = self.streams.get((store, topic))
        if stream is not None and ts <= stream.progress + AHEAD_S:
            return True
        others = [
            other.progress
            for (other_store, other_topic), other in self.streams.items()
            if other_store == store and other_topic != topic
        ]
        return bool(others) and ts <= max(others) + (AHEAD_S if stream is not None else FIRST_AHEAD_S)

    def _accept(self, event: Event, topic: str, ts: float, wall: float) -> None:
        stream = self.streams.get((event.store_id, topic))
        if stream is None:
            self.streams[(event.store_id, topic)] = Stream(ts, wall)
        else:
            stream.progress = max(stream.progress, ts)
            stream.heard_at = wall
        if not isinstance(event, EdgeHeartbeat):
            heapq.heappush(self.held.setdefault(event.store_id, []), (ts, event.event_id, event))

    def _park(self, event: Event, topic: str, ts: float) -> str:
        refusal = self._no_room(event)
        if refusal is None:
            self.parked.setdefault(event.store_id, []).append((ts, event.event_id, topic, event))
            return HELD_APART
        # a gateway's heartbeats can outrun a new store's first events by hours (a replay reading its
        # small topics first): the next heartbeat vouches for as much, so one let go loses nothing
        return NO_ROOM if isinstance(event, EdgeHeartbeat) else refusal

    def _no_room(self, event: Event) -> str | None:
        """Why the event cannot be parked, or None."""
        parked = self.parked.get(event.store_id, [])
        if len(parked) >= MAX_PARKED:
            return f"dated ahead of the rest of its stream, with {MAX_PARKED} events of its store held apart"
        if len(parked) >= MAX_PARKED_PER_DEVICE:  # only then may one device have filled its share
            device = device_of(event)
            if sum(device_of(item[3]) == device for item in parked) >= MAX_PARKED_PER_DEVICE:
                return (
                    f"dated ahead of the rest of its stream, with {MAX_PARKED_PER_DEVICE} events of "
                    f"{device} held apart"
                )
        return None

    def _unpark(self, store: str, wall: float) -> None:
        """Parked events their stream has caught up with, or that a parked event of another device
        dated near them corroborates, join the store's events."""
        parked = sorted(self.parked.get(store, []), key=lambda item: item[:2])
        if not parked:
            return
        times: dict[str, list[float]] = {}  # each device's parked instants, in order
        for ts, _, _, event in parked:
            times.setdefault(device_of(event), []).append(ts)
        kept = []
        for ts, event_id, topic, event in parked:
            device = device_of(event)
            corroborated = any(
                _any_within(instants, ts, AHEAD_S) for other, instants in times.items() if other != device
            )
            if corroborated or self._within_reach(store, topic, ts):
                self._accept(event, topic, ts, wall)
            else:
                kept.append((ts, event_id, topic, event))
        self.parked[store] = kept

    def resume(self, wall: float) -> None:
        """After a restart every stream gets a fresh chance to speak before it counts as silent."""
        for stream in self.streams.values():
            stream.heard_at = wall
        for store_id in self.first_heard:
            self.first_heard[store_id] = wall

    def watermark(self, store_id: str, wall: float, epoch_now: float) -> float:
        """Events of the store at or before this instant can be decided."""
        streams = [stream for (store, _), stream in self.streams.items() if store == store_id]
        if not streams:
            return -math.inf
        marks = [stream.progress for stream in streams]
        live = epoch_now - max(marks) <= LIVE_WINDOW_S
        if len(streams) < len(self.topics) and not (
            live and wall - self.first_heard[store_id] >= FIRST_WAIT_S
        ):
            return -math.inf  # a stream that has not spoken yet may still be far behind (live: wait a while)
        if live:
            marks = [
                min(stream.progress, epoch_now)
                if wall - stream.heard_at < SILENT_S
                else max(min(stream.progress, epoch_now), epoch_now - SILENT_S)
                for stream in streams
            ]
        return min(marks) - GRACE_S

    def release(self, wall: float, epoch_now: float) -> tuple[list[Event], dict[str, float]]:
        """Events every store can process now, each store's in event-time order, and each store's
        watermark (what has been decided up to)."""
        ready: list[Event] = []
        marks: dict[str, float] = {}
        for store_id in sorted(set(self.held) | set(self.parked)):
            self._unpark(store_id, wall)
            marks[store_id] = until = self.watermark(store_id, wall, epoch_now)
            heap = self.held.get(store_id, [])
            while heap and heap[0][0] <= until:
                ready.append(heapq.heappop(heap)[2])
        return ready, marks

    def release_all(self) -> list[Event]:
        """Every event held or parked, in event-time order per store (end of a replay, or a clean stop);
        a parked heartbeat has nothing left to vouch for."""
        ready: list[Event] = []
        for store_id in sorted(set(self.held) | set(self.parked)):
            heap = self.held.get(store_id, []) + [
                (ts, event_id, event)
                for ts, event_id, _, event in self.parked.pop(store_id, [])
                if not isinstance(event, EdgeHeartbeat)
            ]
            ready += [event for _, _, event in sorted(heap, key=_in_order)]
            self.held[store_id] = []
        return ready

    def __len__(self) -> int:
        return sum(len(heap) for heap in self.held.values()) + sum(len(p) for p in self.parked.values())


def _any_within(instants: list[float], at: float, span: float) -> bool:
    """Whether any of the sorted ``instants`` lies within ``span`` of ``at``."""
    index = bisect.bisect_left(instants, at - span)
    return index < len(instants) and instants[index] <= at + span


def _in_order(held: Held) -> tuple[float, str]:
    return held[0], held[1]
