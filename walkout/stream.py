"""The consume loop of the services that read topics in a consumer group: the checkout and the lander.

The loop is the runtime's and the logic the service's, as quix-streams and bytewax split them:
:class:`Stream` joins the group, polls batches, checks that the broker still has the topics and says
when the topics stayed quiet or a stop was asked for; the service takes each batch, makes what it
made durable and commits after. :func:`failing_as` turns Kafka's failures into the service's one-line
error, saying what was kept and what to do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError, OffsetOutOfRangeError

from walkout.errors import WalkoutError
from walkout.kafka import (
    JOIN_TIMEOUT_S,
    BrokerDataLostError,
    BrokerWatch,
    KafkaSetupError,
    PublishError,
    poll_strictly,
)


@dataclass(frozen=True)
class Service:
    """Who reads, for its errors: ``name`` ("the lander"), its error type, what a failure leaves
    committed, and what to do after the broker lost the offsets or its data."""

    name: str
    error: type[WalkoutError]
    kept: str
    if_offsets_lost: str
    if_data_lost: str


@contextmanager
def failing_as(service: Service) -> Iterator[None]:
    """Kafka's failures inside become ``service.error`` in one line."""
    try:
        yield
    except OffsetOutOfRangeError as error:
        raise service.error(
            f"the broker no longer has the offsets {service.name} resumes from ({error}): it lost its data "
            f"or retention deleted it; {service.kept}. {service.if_offsets_lost}"
        ) from None
    except BrokerDataLostError as error:
        raise service.error(
            f"{error} (restarted without it?); {service.kept}. {service.if_data_lost}"
        ) from None
    except (KafkaError, KafkaSetupError, PublishError) as error:
        raise service.error(
            f"Kafka failed {service.name}: {error}; {service.kept}: restart it once the broker answers"
        ) from None


@dataclass(frozen=True)
class Batch:
    """What one turn of the loop read (possibly nothing); ``last``: the topics stayed quiet, this is
    the end of a replay."""

    records: list[Any]
    last: bool = False


class _Assignment(ConsumerRebalanceListener):  # type: ignore[misc]
    """Partitions moved between members: note what this one lost and when it got its share."""

    def __init__(self) -> None:
        self.on_assigned: Callable[[Iterable[TopicPartition]], None] | None = None
        self.assigned_at: float | None = None
        self.revoked: set[TopicPartition] = set()  # since the batch being polled began

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self.revoked.update(revoked)

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        if self.on_assigned is not None:
            self.on_assigned(assigned)
        self.assigned_at = time.monotonic()


class Stream:
    """A consumer's topics as batches of at most ``max_records``, each gathered for at most
    ``max_wait_s`` or until nothing more is waiting.

    Records of partitions revoked while a batch was filling are left out: their new owner reads them
    again from the last commit, and taking them here too could make outputs twice.
    """

    def __init__(
        self,
        consumer: KafkaConsumer,
        topics: Sequence[str],
        *,
        max_records: int,
        max_wait_s: float,
    ) -> None:
        self.consumer = consumer
        self.watch = BrokerWatch(consumer, topics)
        self._max_records = max_records
        self._max_wait_s = max_wait_s
        self._topics = list(topics)
        self._assignment = _Assignment()

    def batches(
        self,
        service: Service,
        stop: threading.Event | None = None,
        idle_exit_s: float | None = None,
        on_assigned: Callable[[Iterable[TopicPartition]], None] | None = None,
    ) -> Iterator[Batch]:
        """Batches until ``stop`` is set or, with ``idle_exit_s``, nothing arrived for that long since
        the group let this member in (the final batch, empty, says ``last``). A group that lets nobody
        in for :data:`JOIN_TIMEOUT_S` is ``service.error`` when an idle exit is expected.
        ``on_assigned`` is called with the partitions the group hands over (e.g. to seek them to a
        snapshot's positions)."""
        self._assignment.on_assigned = on_assigned
        self.consumer.subscribe(topics=self._topics, listener=self._assignment)
        started = last_record = time.monotonic()
        while stop is None or not stop.is_set():
            records = self._poll()
            self.watch.check()
            now = time.monotonic()
            if records:
                last_record = now
            assigned_at = self._assignment.assigned_at
            if idle_exit_s is not None and assigned_at is None and now - started > JOIN_TIMEOUT_S:
                raise service.error(
                    f"the consumer group was given no partitions in {JOIN_TIMEOUT_S:.0f} s (is the broker "
                    "answering group requests?); nothing was read or committed"
                )
            idle = (
                idle_exit_s is not None
                and assigned_at is not None
                and now - max(last_record, assigned_at) >= idle_exit_s
            )
            yield Batch(records, last=idle)
            if idle:
                return

    def _poll(self) -> list[Any]:
        batch: list[Any] = []
        revoked = self._assignment.revoked
        revoked.clear()
        deadline = time.monotonic() + self._max_wait_s
        while len(batch) < self._max_records:
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                break
            polled = poll_strictly(self.consumer, remaining_ms, max_records=self._max_records - len(batch))
            if revoked:
                batch = [r for r in batch if TopicPartition(r.topic, r.partition) not in revoked]
                revoked.clear()
            if not polled:
                break
            for records in polled.values():
                batch.extend(records)
        return batch
