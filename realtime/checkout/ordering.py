"""Event-time order across the three edge topics, per store.

Kafka keeps one store's events in order within a topic, not across ``gate.scans``, ``shelf.events``
and ``camera.tracks``, and the edge sends some events late. The buffer holds each store's events
until every stream of that store that is still delivering has moved ``grace_s`` past them, then
releases them sorted by (ts, event_id). A stream that has delivered nothing for ``idle_s`` of wall
time (it is caught up, or the store is quiet) no longer holds the others back.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from walkout.contracts import Event


@dataclass
class StreamClock:
    newest_ts: float
    last_arrival: float


@dataclass
class EventTimeBuffer:
    topics: tuple[str, ...]
    grace_s: float = 30.0
    idle_s: float = 30.0
    held: dict[str, list[tuple[float, str, Event]]] = field(default_factory=dict)
    streams: dict[tuple[str, str], StreamClock] = field(default_factory=dict)
    first_arrival: dict[str, float] = field(default_factory=dict)

    def add(self, event: Event, wall: float) -> None:
        ts = event.ts.timestamp()
        heapq.heappush(self.held.setdefault(event.store_id, []), (ts, event.event_id, event))
        self.first_arrival.setdefault(event.store_id, wall)
        clock = self.streams.get((event.store_id, event.TOPIC))
        if clock is None:
            self.streams[(event.store_id, event.TOPIC)] = StreamClock(ts, wall)
        else:
            clock.newest_ts = max(clock.newest_ts, ts)
            clock.last_arrival = wall

    def resume(self, wall: float) -> None:
        """After a restart every stream gets a fresh chance to speak before it counts as idle."""
        for clock in self.streams.values():
            clock.last_arrival = wall
        for store_id in self.first_arrival:
            self.first_arrival[store_id] = wall

    def watermark(self, store_id: str, wall: float) -> float:
        """Events of the store at or before this instant can be decided."""
        clocks = [clock for (store, _), clock in self.streams.items() if store == store_id]
        silent = len(clocks) < len(self.topics)  # a stream that has not spoken yet may still be far behind
        if silent and wall - self.first_arrival.get(store_id, wall) < self.idle_s:
            return float("-inf")
        active = [clock.newest_ts for clock in clocks if wall - clock.last_arrival < self.idle_s]
        newest = min(active) if active else max((clock.newest_ts for clock in clocks), default=float("-inf"))
        return newest - self.grace_s

    def release(self, wall: float) -> list[Event]:
        """Events every store can process now, each store's in event-time order."""
        ready: list[Event] = []
        for store_id, heap in self.held.items():
            until = self.watermark(store_id, wall)
            while heap and heap[0][0] <= until:
                ready.append(heapq.heappop(heap)[2])
        return ready

    def release_all(self) -> list[Event]:
        """Everything held, in event-time order per store (end of a replay, or a clean stop)."""
        ready: list[Event] = []
        for heap in self.held.values():
            while heap:
                ready.append(heapq.heappop(heap)[2])
        return ready

    def __len__(self) -> int:
        return sum(len(heap) for heap in self.held.values())
