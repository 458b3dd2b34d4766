"""The live feed: a thread that applies the live topics to a :class:`LiveContext`.

Every API instance reads all of them (its own group, from the earliest retained event, no commits: the
state lives in memory only).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord

from recsys.api.context import LiveContext
from walkout.contracts import CameraTrack, ShelfEvent, Visit
from walkout.edge import EdgeAdmission
from walkout.kafka import KafkaSetupError, make_consumer
from walkout.settings import Settings

log = logging.getLogger(__name__)

LIVE_TOPICS = (CameraTrack.TOPIC, Visit.TOPIC, ShelfEvent.TOPIC)
POLL_MS = 200
STALE_S = 30.0
"""The feed is not ready when its poll loop has not come round, or it has had no connection to Kafka,
for this long (the loop comes round every :data:`POLL_MS`)."""
RETRY_S = 5.0
BOOTSTRAP_TIMEOUT_MS = 5_000


def _broker_connections(consumer: KafkaConsumer) -> float:
    """Open connections to brokers, from the consumer's own metrics (1 when it does not say)."""
    return float(consumer.metrics().get("consumer-metrics", {}).get("connection-count", 1.0))


class LiveFeed(threading.Thread):
    """Applies the live topics to a :class:`LiveContext` until stopped.

    It outlives any message (one it cannot read or apply is logged and counted in :attr:`skipped`) and
    any Kafka failure (it reconnects); :meth:`problem` says why it is not following Kafka.
    """

    def __init__(self, settings: Settings, context: LiveContext, stale_s: float = STALE_S) -> None:
        super().__init__(name="ad-api-live-feed", daemon=True)
        self.settings = settings
        self.context = context
        self.stale_s = stale_s
        self.stopping = threading.Event()
        # camera and shelf events must come from the store's own devices, as at the checkout
        self._admission = EdgeAdmission(
            context.catalog, settings.secret("edge_key"), settings.max_event_bytes
        )
        self.skipped = 0
        self._trouble: str | None = "the live feed has not connected to Kafka yet"
        self._polled_at = self._connected_at = time.monotonic()

    def problem(self) -> str | None:
        """Why the live context is not following Kafka now; None when it is."""
        if not self.is_alive():
            return "the live feed is not running"
        if self._trouble is not None:
            return self._trouble
        silent = time.monotonic() - self._polled_at
        if silent > self.stale_s:
            return f"the live feed is stuck: its poll loop has not come round for {silent:.0f} s"
        return None

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self._follow()
            except Exception as error:  # Kafka gone or moved, or a bug: say so in /healthz, then reconnect
                trouble = f"the live feed cannot read Kafka: {error}"
                if trouble != self._trouble:  # once, not every retry
                    log.error("%s; reconnecting every %.0f s", trouble, RETRY_S)
                self._trouble = trouble
                self.stopping.wait(RETRY_S)

    def _follow(self) -> None:
        """Read until stopped, or until Kafka has been out of reach for :attr:`stale_s`."""
        group = f"ad-api.{socket.gethostname()}.{os.getpid()}.{id(self)}"
        consumer = make_consumer(self.settings, group, LIVE_TOPICS, bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS)
        self._polled_at = self._connected_at = time.monotonic()
        self._trouble = None
        try:
            while not self.stopping.is_set():
                for records in consumer.poll(timeout_ms=POLL_MS).values():
                    for record in records:
                        self._apply(record)
                self._polled_at = time.monotonic()
                if _broker_connections(consumer) > 0:
                    self._connected_at = self._polled_at
                elif self._polled_at - self._connected_at > self.stale_s:
                    raise KafkaSetupError(f"no connection to a broker for {self.stale_s:.0f} s")
        finally:
            consumer.close()

    def _apply(self, record: ConsumerRecord) -> None:
        try:
            self.context.apply(self._admission.admit(record.value, record.topic, record.headers))
        except Exception as error:  # whatever one message holds, the screens keep their live context
            self.skipped += 1
            log.warning(
                "live feed skips %s[%s]@%s: %s: %s",
                record.topic,
                record.partition,
                record.offset,
                type(error).__name__,
                error,
            )

    def stop(self) -> None:
        self.stopping.set()
