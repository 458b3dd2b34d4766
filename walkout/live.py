"""A live feed: a background thread that follows Kafka topics into memory, for the readers that show what
is happening now (the dashboards' Live page, the ad API's live context).

It reads without a consumer group, from the earliest retained event, and commits nothing: what it builds
lives in memory only, so every process catches up on what the topics hold, with no group to join or to
disturb. Each record is read against its contract (or admitted by a stricter ``admit``), then handed to
``apply``, in order within a partition. A record it cannot read or apply is logged with its place and
why, counted in :attr:`FeedHealth.skipped`, and skipped. When Kafka fails, moves (the embedded broker
restarted on another port) or cannot be reached for :data:`STALE_S`, or the loop itself fails, the feed
says why in its health and reconnects.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord

from walkout.contracts import Event, parse_event
from walkout.edge import Headers
from walkout.kafka import KafkaSetupError, leave_group, make_consumer
from walkout.settings import Settings

log = logging.getLogger(__name__)

POLL_MS = 200
STALE_S = 30.0
"""A feed whose poll loop has not come round (it is stuck), or that has had no connection to a broker,
for this long is not following Kafka (the loop comes round every :data:`POLL_MS`)."""
RETRY_S = 5.0
BOOTSTRAP_TIMEOUT_MS = 5_000
"""How long to try a cluster before saying it cannot be reached."""
STOP_S = 30.0

Admit = Callable[[bytes | None, str, Headers | None], Event]
"""Reads a record's value from its topic into the event it carries, or raises saying why it may not."""


@dataclass(frozen=True)
class FeedHealth:
    """Whether a feed follows Kafka now, and if not, why."""

    running: bool
    bootstrap: str | None
    """The cluster it reads; None until it has connected, and while it is cut off."""
    cut_off: str | None
    """Why it cannot read Kafka (the last failure); None while it can, or has not tried yet."""
    silent_s: float
    """Since its poll loop last came round (or it connected)."""
    stale_s: float
    skipped: int
    """Records it could not read or apply."""
    last_received_at: float | None
    """``time.monotonic()`` when the last record came in."""

    @property
    def connected(self) -> bool:
        return self.running and self.bootstrap is not None

    @property
    def problem(self) -> str | None:
        """Why the feed is not following Kafka now; None when it is."""
        if not self.running:
            return "the live feed is not running"
        if self.cut_off is not None:
            return f"the live feed cannot read Kafka: {self.cut_off}"
        if self.bootstrap is None:
            return "the live feed has not connected to Kafka yet"
        if self.silent_s > self.stale_s:
            return f"the live feed is stuck: its poll loop has not come round for {self.silent_s:.0f} s"
        return None


def _broker_connections(consumer: KafkaConsumer) -> float:
    """Open connections to brokers, from the consumer's own metrics (1 when it does not say)."""
    return float(consumer.metrics().get("consumer-metrics", {}).get("connection-count", 1.0))


class LiveFeed:
    """Hands every event of ``topics`` to ``apply`` from a daemon thread, from :meth:`start` until
    :meth:`stop`; it outlives any record and any Kafka failure (see the module)."""

    def __init__(
        self,
        settings: Settings,
        name: str,
        topics: Sequence[str],
        apply: Callable[[Event], None],
        *,
        admit: Admit | None = None,
        stale_s: float = STALE_S,
    ) -> None:
        self.settings = settings
        self.name = name
        self.topics = tuple(topics)
        self.stale_s = stale_s
        self._apply = apply
        self._admit = admit or self._parse
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        # Written by the feed's thread only, read by health().
        self._bootstrap: str | None = None
        self._cut_off: str | None = None
        self._skipped = 0
        self._last_received_at: float | None = None
        self._polled_at = time.monotonic()

    def start(self) -> LiveFeed:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop following and wait until the consumer is closed."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_S)

    def health(self) -> FeedHealth:
        return FeedHealth(
            running=self._thread.is_alive(),
            bootstrap=self._bootstrap,
            cut_off=self._cut_off,
            silent_s=time.monotonic() - self._polled_at,
            stale_s=self.stale_s,
            skipped=self._skipped,
            last_received_at=self._last_received_at,
        )

    def _parse(self, raw: bytes | None, topic: str, _: Headers | None) -> Event:
        return parse_event(raw, topic, self.settings.max_event_bytes)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._follow()
            except Exception as error:  # Kafka gone or moved, or a bug: say so in its health, then reconnect
                cut_off = str(error) or type(error).__name__
                if cut_off != self._cut_off:  # once, not every retry
                    log.error(
                        "%s cannot read Kafka: %s; reconnecting every %.0f s", self.name, cut_off, RETRY_S
                    )
                self._bootstrap, self._cut_off = None, cut_off
                self._stopping.wait(RETRY_S)

    def _follow(self) -> None:
        """Read until stopped, or until no broker has been connected for :attr:`stale_s`."""
        consumer = make_consumer(  # no group: it reads every partition and commits nothing
            self.settings, self.name, self.topics, group_id=None, bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS
        )
        self._polled_at = connected_at = time.monotonic()
        self._bootstrap, self._cut_off = str(consumer.config["bootstrap_servers"]), None
        try:
            while not self._stopping.is_set():
                for records in consumer.poll(timeout_ms=POLL_MS).values():
                    self._last_received_at = time.monotonic()
                    for record in records:
                        self._take(record)
                self._polled_at = time.monotonic()
                if _broker_connections(consumer) > 0:
                    connected_at = self._polled_at
                elif self._polled_at - connected_at > self.stale_s:
                    raise KafkaSetupError(f"no connection to a broker for {self.stale_s:.0f} s")
        finally:
            leave_group(consumer)

    def _take(self, record: ConsumerRecord) -> None:
        try:
            self._apply(self._admit(record.value, record.topic, record.headers))
        except Exception as error:  # whatever one record holds, the feed goes on with the next
            self._skipped += 1
            log.warning(
                "%s skips %s[%s]@%s: %s: %s",
                self.name,
                record.topic,
                record.partition,
                record.offset,
                type(error).__name__,
                error,
            )
