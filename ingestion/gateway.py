"""The store gateway: forwards its devices' messages to Kafka, each signed with its device's key, and
says how far each quiet edge topic has got.

Consumers put one store's events in event-time order across ``gate.scans``, ``shelf.events`` and
``camera.tracks``, so they can only decide up to the instant every one of those streams has passed.
At night nobody scans or picks for many minutes: without word from the gateway, a receipt would wait
for the next shopper. So a topic that has carried nothing for a beat gets an
:class:`~walkout.contracts.EdgeHeartbeat`, in the same partition as the store's events (Kafka keeps
them in order there): "every event of this topic up to now has been sent". The beat is short
(:data:`HEARTBEAT_S`) while a decision may be waiting on it, for :data:`DECISION_WINDOW_S` after a
gate scan or a shelf event, and long (:data:`KEEPALIVE_S`) otherwise, which keeps the extra messages
to about two thirds of the store's own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

from walkout.contracts import EDGE_TOPICS, EdgeHeartbeat, Event, GateScan, ShelfEvent, make_event_id
from walkout.edge import gateway_id

HEARTBEAT_S = 1.0
"""How long a receipt may wait for word from a quiet stream."""
DECISION_WINDOW_S = 12.0
"""A scan or shelf event is decided once every stream is this far past it (the checkout's look-ahead
and grace): quiet topics beat fast until then."""
KEEPALIVE_S = 10.0
"""Otherwise a quiet topic beats this often: a gateway silent for longer is taken for dead."""

Send = Callable[[Event, str], None]  # an event and the topic it goes to


class StoreGateway:
    """One store's gateway: ``forward`` each device message at the instant it leaves the store (in
    send order); quiet topics get their heartbeats in between, when the next message comes or, live,
    when its clock reaches :meth:`next_beat` and it calls :meth:`advance`."""

    def __init__(self, store_id: str, send: Send) -> None:
        self.store_id = store_id
        self.device_id = gateway_id(store_id)
        self._send = send
        self._last_sent: dict[str, float] = {}
        self._deciding_until = -float("inf")
        self.heartbeats = 0

    def forward(self, at: float, event: Event) -> None:
        """Send a device's event that leaves the store at ``at`` (epoch seconds)."""
        self.advance(at)
        self._send(event, event.TOPIC)
        self._last_sent[event.TOPIC] = max(self._last_sent.get(event.TOPIC, at), at)
        if isinstance(event, GateScan | ShelfEvent):
            self._deciding_until = max(self._deciding_until, at + DECISION_WINDOW_S)

    def advance(self, at: float) -> None:
        """Heartbeats for every topic that has been quiet for a beat before ``at``."""
        for topic in EDGE_TOPICS:
            last = self._last_sent.setdefault(topic, at)
            while (beat := last + self._beat(last)) <= at:
                last = beat
                self._send(self._heartbeat(last, topic), topic)
                self.heartbeats += 1
            self._last_sent[topic] = last

    def next_beat(self) -> float:
        """When the next heartbeat falls due if no device sends before it (infinity before the first
        message). A gateway is driven by a clock: it calls :meth:`advance` then, so a quiet topic's beat
        leaves at its instant, not in a burst with the next shopper's first event."""
        return min((last + self._beat(last) for last in self._last_sent.values()), default=math.inf)

    def _beat(self, last: float) -> float:
        return HEARTBEAT_S if last < self._deciding_until else KEEPALIVE_S

    def _heartbeat(self, at: float, topic: str) -> EdgeHeartbeat:
        ms = math.floor(at * 1000)  # the wire's milliseconds, never after the instant it vouches for
        return EdgeHeartbeat(
            event_id=make_event_id("heartbeat", self.device_id, topic, ms),
            store_id=self.store_id,
            ts=datetime.fromtimestamp(ms / 1000, UTC),
            device_id=self.device_id,
        )
