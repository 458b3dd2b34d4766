"""The lander: contract topics to Parquet under ``lake/<topic>/date=YYYY-MM-DD/``, each event once.

The lake's layout, columns, partition lock and reads are :mod:`walkout.lake`'s; the lander writes.

Kafka delivers at least once, so the lander makes the lake idempotent itself:

* every batch is admitted like the checkout admits it (contract; for edge topics the device's
  signature and the catalog, see :mod:`walkout.edge`; invalid messages go to ``deadletter``), the
  gateways' heartbeats are left out, grouped by topic and UTC date of ``ts``, stripped of
  ``event_id`` values the topic already holds on that date or the days beside it (copies of one
  event may carry different dates), and written as one new file per partition (temp name, fsync,
  rename, fsync the directory); only then are the dead letters acknowledged by Kafka and the offsets
  committed. A crash before the commit re-reads the batch and lands nothing twice. The landed ids
  are read from the partition's files when first needed and again after every partition
  assignment, and records of partitions revoked mid-batch are left to their new owner, so several
  landers in one group stay exact.
* one file per batch per partition piles up, so crowded partitions are compacted into one file when
  the lander is idle (every minute when it never is). The compacted file names the files it replaces
  in its Parquet metadata and appears with a single rename; a crash before the replaced files are
  deleted is finished on the next start or compaction, so readers globbing ``**/*.parquet`` see each
  event once.

A broker that lost its data (topics recreated, offsets out of range), a send Kafka did not take, or a
lake that cannot be written (a full or read-only disk) stops the lander with a one-line
:class:`LanderError`; what was landed is complete, and nothing was committed past it.

Landing writes share a partition directory's lock; compaction takes it alone, so a
``compact_lake`` command may run beside a lander. Readers that do not lock (dbt over a glob) may,
for the instant between a compaction's rename and its deletions, see a row twice or miss a deleted
file: they deduplicate by ``event_id`` anyway.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import polars as pl
from kafka import KafkaConsumer

from walkout.catalog import load_catalog
from walkout.contracts import (
    TOPICS,
    ContractError,
    DeadLetter,
    EdgeHeartbeat,
    Event,
    dead_letter,
    parse_event,
)
from walkout.edge import EdgeAdmission
from walkout.errors import WalkoutError
from walkout.files import fsync, write_atomically
from walkout.kafka import STRICT_OFFSETS, Outbox, leave_group, make_consumer, make_producer
from walkout.lake import (
    LAKE_SCHEMAS,
    LakeError,
    date_folders,
    new_file_name,
    parquet_files,
    partition_dir,
    partition_lock,
    read_event_ids,
    read_parts,
    schema_of,
)
from walkout.settings import Settings
from walkout.stream import Service, Stream, failing_as

log = logging.getLogger(__name__)

REPLACES_KEY = "walkout.replaces"  # Parquet metadata of a compacted file: JSON list of the files it replaces
BATCH_MAX_RECORDS = 5000
BATCH_MAX_WAIT_S = 1.0
BUSY_COMPACTION_INTERVAL_S = 60.0  # a lander that is never idle still compacts this often
REMEMBERED_PARTITIONS = 64


class LanderError(WalkoutError):
    """The lander cannot run as configured (lake not writable, unknown or missing topics)."""


class KafkaRecord(Protocol):
    """What the lander needs of a consumed Kafka record."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes | None]] | None: ...


@dataclass
class LanderStats:
    """What one run of the lander did."""

    records_read: int = 0
    rows_landed: Counter[str] = field(default_factory=Counter)
    duplicates_skipped: int = 0
    heartbeats: int = 0
    dead_lettered: int = 0
    files_written: int = 0
    compactions: int = 0


# --- durable files -------------------------------------------------------


def _make_directory_durably(directory: Path) -> None:
    """Create ``directory`` and its missing parents so that their entries survive a power cut."""
    missing = [path for path in (directory, *directory.parents) if not path.exists()]
    directory.mkdir(parents=True, exist_ok=True)
    for created in reversed(missing):
        fsync(created.parent)


def _write_durably(
    frame: pl.DataFrame, directory: Path, name: str, metadata: dict[str, str] | None = None
) -> None:
    """Readers see the whole file or none of it, and it is on disk before the caller goes on."""
    write_atomically(directory / name, lambda partial: frame.write_parquet(partial, metadata=metadata))


class _LandedIds:
    """``event_id`` values already in the lake per partition, read from its files when first touched.

    Only the most recently touched partitions are remembered; a forgotten one is read again.
    """

    def __init__(self, max_partitions: int = REMEMBERED_PARTITIONS) -> None:
        self._ids: OrderedDict[Path, set[str]] = OrderedDict()
        self._max_partitions = max_partitions

    def of(self, directory: Path) -> set[str]:
        ids = self._ids.get(directory)
        if ids is None:
            ids = self._ids[directory] = read_event_ids(directory) if directory.is_dir() else set()
            if len(self._ids) > self._max_partitions:
                self._ids.popitem(last=False)
        self._ids.move_to_end(directory)
        return ids

    def forget(self) -> None:
        self._ids.clear()


# --- compaction ------------------------------------------------------------------------------


def _finish_compactions(directory: Path) -> None:
    """Delete what a crashed write or compaction left behind; the caller holds the exclusive lock."""
    leftovers = list(directory.glob(".*.tmp"))
    for compacted in parquet_files(directory, "compacted"):
        if compacted.exists():  # an older compacted file may itself be replaced by a newer one
            replaced = json.loads(pl.read_parquet_metadata(compacted).get(REPLACES_KEY, "[]"))
            leftovers += [directory / name for name in replaced if (directory / name).exists()]
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    if leftovers:
        fsync(directory)
        log.info(
            "finished an interrupted write or compaction in %s (%d files removed)", directory, len(leftovers)
        )


def compact_partition(directory: Path, min_files: int = 2) -> bool:
    """Merge one topic-date's files into one, deduplicated by ``event_id`` and sorted by ``ts``.

    Finishes any interrupted compaction first; merges only when at least ``min_files`` files are
    there. Returns whether it merged.
    """
    with partition_lock(directory, exclusive=True):
        _finish_compactions(directory)
        parts = parquet_files(directory)
        if len(parts) < max(min_files, 2):
            return False
        merged = (
            read_parts(parts, directory.parent.name)
            .unique("event_id", keep="first", maintain_order=True)
            .sort("ts", "event_id")
        )
        replaces = json.dumps([part.name for part in parts])
        _write_durably(merged, directory, new_file_name("compacted"), {REPLACES_KEY: replaces})
        for part in parts:
            part.unlink()
        fsync(directory)
    log.info("compacted %d files of %s into one (%d rows)", len(parts), directory, merged.height)
    return True


def compact_lake(settings: Settings, min_files: int = 2) -> int:
    """Compact every partition of the lake with at least ``min_files`` files; returns how many merged."""
    return sum(compact_partition(directory, min_files) for directory in date_folders(settings.paths.lake_dir))


def _finish_lake_compactions(lake: Path) -> None:
    for directory in date_folders(lake):
        with partition_lock(directory, exclusive=True):
            _finish_compactions(directory)


# --- landing ---------------------------------------------------------------------------------


def _lake_row(event: Event, record: KafkaRecord, landed_at: datetime) -> dict[str, Any]:
    return {
        **event.model_dump(),
        "landed_at": landed_at,
        "kafka_partition": record.partition,
        "kafka_offset": record.offset,
    }


class Lander:
    """Writes batches of Kafka records to the lake; commit the offsets only after :meth:`land` returned.

    Without an ``outbox`` (a backfill of events walkout replayed itself) nothing is dead-lettered and
    nothing needs admitting: an invalid event is an error.
    """

    def __init__(
        self,
        settings: Settings,
        outbox: Outbox | None,
        stats: LanderStats | None = None,
        admission: EdgeAdmission | None = None,
    ) -> None:
        self.stats = stats if stats is not None else LanderStats()
        self._lake = settings.paths.lake_dir
        self._max_event_bytes = settings.max_event_bytes
        self._outbox = outbox
        self._admission = admission
        self._landed = _LandedIds()
        self._written: set[Path] = set()  # partitions written since the last compaction check

    def land(self, records: Iterable[KafkaRecord]) -> None:
        """Land a batch durably: events to their topic-date partitions, invalid messages to ``deadletter``."""
        landed_at = datetime.now(UTC)
        partitions: dict[tuple[str, date], dict[str, dict[str, Any]]] = {}
        dates: dict[tuple[str, str], date] = {}  # the batch's (topic, event id) → the date it lands on
        for record in records:
            self.stats.records_read += 1
            event = self._admit_or_dead_letter(record)
            if event is None:
                continue
            if isinstance(event, EdgeHeartbeat):
                self.stats.heartbeats += 1
                continue
            day = dates.setdefault((record.topic, event.event_id), event.ts.date())
            rows = partitions.setdefault((record.topic, day), {})
            if event.event_id in rows:
                self.stats.duplicates_skipped += 1
            else:
                rows[event.event_id] = _lake_row(event, record, landed_at)
        for (topic, day), rows in partitions.items():
            self._land_partition(topic, day, rows)
        if self._outbox is not None:
            self._outbox.confirm()

    def _admit_or_dead_letter(self, record: KafkaRecord) -> Event | None:
        try:
            if self._admission is not None:
                return self._admission.admit(record.value, record.topic, record.headers)
            return parse_event(record.value, record.topic, self._max_event_bytes)
        except ContractError as error:
            where = f"{record.topic}[{record.partition}]@{record.offset}"
            if record.topic == DeadLetter.TOPIC:
                log.error("skipping an invalid dead letter %s: %s", where, error)
                return None
            if self._outbox is None:
                raise LanderError(f"cannot land {where}: {error}") from None
            self._outbox.send(
                dead_letter(
                    record.value,
                    record.topic,
                    error,
                    "lander",
                    error.store_id or "unknown",
                    record.partition,
                    record.offset,
                )
            )
            self.stats.dead_lettered += 1
            log.warning("dead-lettered %s: %s", where, error)
            return None

    def _land_partition(self, topic: str, day: date, rows: dict[str, dict[str, Any]]) -> None:
        directory = partition_dir(self._lake, topic, day)
        landed = self._landed.of(directory)
        beside = [self._landed.of(partition_dir(self._lake, topic, day + timedelta(days=d))) for d in (-1, 1)]
        new = [row for event_id, row in rows.items() if not any(event_id in ids for ids in (landed, *beside))]
        self.stats.duplicates_skipped += len(rows) - len(new)
        if not new:
            return
        try:
            _make_directory_durably(directory)
            with partition_lock(directory, exclusive=False):
                _write_durably(
                    pl.DataFrame(new, schema=LAKE_SCHEMAS[topic]), directory, new_file_name("part")
                )
        except (OSError, pl.exceptions.PolarsError) as error:
            raise LanderError(
                f"cannot write the lake at {directory}: {_why(error)}; nothing was committed past what "
                "was landed: free space or fix permissions, then restart the lander"
            ) from None
        landed.update(row["event_id"] for row in new)
        self.stats.files_written += 1
        self.stats.rows_landed[topic] += len(new)
        self._written.add(directory)

    def compact_crowded_partitions(self, above_files: int) -> None:
        """Compact the partitions written since the last call that hold more than ``above_files`` files."""
        written, self._written = self._written, set()
        self.stats.compactions += sum(
            compact_partition(directory, above_files + 1) for directory in sorted(written)
        )

    def forget_landed_ids(self) -> None:
        """Re-read landed ids from disk: another lander may have written the partitions meanwhile."""
        self._landed.forget()


def _why(error: Exception) -> str:
    return (error.strerror if isinstance(error, OSError) else None) or str(error).splitlines()[0]


@dataclass(frozen=True)
class _ReplayedRecord:
    """An event that did not come through Kafka, numbered like a partition's records."""

    topic: str
    partition: int
    offset: int
    value: bytes
    headers: None = None


def land_offline(settings: Settings, events: Iterable[Event]) -> LanderStats:
    """Land events replayed without Kafka (a backfill) as the lander lands a batch: durable files per
    topic and date, each ``event_id`` once, also across repeated backfills. Their Kafka partition is -1."""
    lander = Lander(settings, outbox=None)
    lander.land(
        _ReplayedRecord(event.TOPIC, -1, offset, event.to_bytes()) for offset, event in enumerate(events)
    )
    return lander.stats


def _prepare_lake(settings: Settings, topics: Sequence[str]) -> None:
    """Fail early on what the lander cannot work with; finish compactions a crash interrupted."""
    for topic in topics:
        try:
            schema_of(topic)
        except LakeError as error:
            raise LanderError(str(error)) from None
    lake = settings.paths.lake_dir
    try:
        _make_directory_durably(lake)
        with tempfile.NamedTemporaryFile(dir=lake, prefix=".probe-"):
            pass
    except OSError as error:
        raise LanderError(
            f"cannot write the lake at {lake}: {error.strerror or error}; "
            "point WALKOUT_DATA_DIR at a writable directory"
        ) from None
    _finish_lake_compactions(lake)


def _require_topics(consumer: KafkaConsumer, topics: Sequence[str]) -> None:
    missing = sorted(set(topics) - set(consumer.topics()))
    if missing:
        raise LanderError(f"topics missing on the broker: {', '.join(missing)}; run `walkout topics create`")


LANDER = Service(
    "the lander",
    LanderError,
    kept="nothing was committed past what was landed",
    if_offsets_lost="Reset the group's offsets deliberately",
    if_data_lost="Restart the lander to land the new broker's topics from their beginning",
)


def run_lander(
    settings: Settings,
    stop: threading.Event | None = None,
    idle_exit_s: float | None = None,
    *,
    group: str = "lander",
    topics: Sequence[str] = TOPICS,
    compact_above_files: int = 8,
) -> LanderStats:
    """Land ``topics`` until ``stop`` is set or, with ``idle_exit_s``, nothing arrived for that long.

    Idle time counts from the group's partition assignment at the earliest, so a short ``idle_exit_s``
    still lands what is there. Partitions written with more than ``compact_above_files`` files are
    compacted when idle (and every minute when busy). On the way out the current batch is landed and
    committed. Raises :class:`LanderError` (one line) when Kafka or the lake fails it.
    """
    _prepare_lake(settings, topics)
    admission = EdgeAdmission(load_catalog(), settings.secret("edge_key"), settings.max_event_bytes)
    stats = LanderStats()
    outbox = Outbox(make_producer(settings))
    consumer = make_consumer(settings, group, (), **STRICT_OFFSETS)  # subscribed by the stream
    try:
        with failing_as(LANDER):
            _require_topics(consumer, topics)
            stream = Stream(consumer, topics, max_records=BATCH_MAX_RECORDS, max_wait_s=BATCH_MAX_WAIT_S)
            lander = Lander(settings, outbox, stats, admission)
            compacted_at = time.monotonic()
            # a new assignment: another lander may have written the partitions meanwhile
            for batch in stream.batches(LANDER, stop, idle_exit_s, lambda _: lander.forget_landed_ids()):
                if batch.records:
                    lander.land(batch.records)
                    consumer.commit()
                if not batch.records or time.monotonic() - compacted_at >= BUSY_COMPACTION_INTERVAL_S:
                    lander.compact_crowded_partitions(compact_above_files)
                    compacted_at = time.monotonic()
    finally:
        leave_group(consumer)
        outbox.close()  # all that counts was confirmed; a dying run abandons the rest
    log.info("lander stopped: %s", stats)
    return stats
