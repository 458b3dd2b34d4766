"""The lander through Kafka: paths and schema, duplicates, dead letters, crashes, compaction, shutdown.

Each test has its own lake, consumer group and store id on the session's broker. The lander reads
every earlier message of its topics too, so assertions look at the test's own store. The edge
topics are left out: other tests fill them with a simulated day that would only slow these down.
"""

from __future__ import annotations

import base64
import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from kafka import TopicPartition

from realtime.lander import (
    Lander,
    LanderError,
    LanderStats,
    compact_lake,
    compact_partition,
    land_offline,
    run_lander,
)
from walkout.catalog import load_catalog
from walkout.contracts import (
    AdImpression,
    DeadLetter,
    DwellSegment,
    EdgeHeartbeat,
    Event,
    Purchase,
    ReceiptLine,
    ShelfAction,
    ShelfEvent,
    Visit,
    VisitStatus,
    make_event_id,
)
from walkout.edge import EdgeSigner
from walkout.kafka import Outbox, bootstrap_servers, make_consumer, make_producer, publish
from walkout.lake import LAKE_SCHEMAS, added_later, read_lake
from walkout.settings import DEMO_KEYS, Settings

TEST_TOPICS = (Visit.TOPIC, DwellSegment.TOPIC, Purchase.TOPIC, AdImpression.TOPIC, DeadLetter.TOPIC)
DAY_1 = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
DAY_2 = datetime(2026, 11, 19, 23, 59, 59, 999000, tzinfo=UTC)  # the last millisecond of its UTC day
IDLE_EXIT_S = 0.5


@pytest.fixture
def settings(kafka_settings: Settings, tmp_path: Path) -> Settings:
    """A fresh lake per test, on the session's broker."""
    return Settings(data_dir=tmp_path, kafka_bootstrap=bootstrap_servers(kafka_settings))


@pytest.fixture
def store() -> str:
    return f"T{uuid.uuid4().hex[:8]}"


@pytest.fixture
def group() -> str:
    return f"test-lander-{uuid.uuid4().hex[:8]}"


def visit(store: str, n: int, ts: datetime = DAY_1) -> Visit:
    return Visit(
        event_id=make_event_id("visit", store, n),
        store_id=store,
        ts=ts,
        visit_id=f"V{n}",
        shopper_id=f"M{n:06d}",
        status=VisitStatus.CLOSED,
        group_size=1,
        track_ids=(f"K{n}", f"K{n}b"),
        entered_at=ts - timedelta(minutes=4),
        exited_at=ts,
    )


def purchase(store: str, n: int, ts: datetime = DAY_1) -> Purchase:
    lines = (
        ReceiptLine(product_id="P0001", quantity=2, unit_price_krw=1500, amount_krw=3000, confidence=0.97),
        ReceiptLine(product_id="P0042", quantity=1, unit_price_krw=4200, amount_krw=4200, confidence=0.61),
    )
    return Purchase(
        event_id=make_event_id("purchase", store, n),
        store_id=store,
        ts=ts,
        visit_id=f"V{n}",
        shopper_id=f"M{n:06d}",
        lines=lines,
        total_krw=7200,
        confidence=0.61,
        needs_review=True,
        review_reasons=("low_confidence_line",),
    )


def dwell(store: str, n: int, ts: datetime = DAY_2) -> DwellSegment:
    return DwellSegment(
        event_id=make_event_id("dwell", store, n),
        store_id=store,
        ts=ts,
        visit_id=f"V{n}",
        shopper_id=f"M{n:06d}",
        zone_id="Z03",
        entered_at=ts - timedelta(seconds=40),
        exited_at=ts,
        dwell_s=40.0,
        stopped=True,
    )


def impression(store: str, n: int, ts: datetime = DAY_2) -> AdImpression:
    return AdImpression(
        event_id=make_event_id("impression", store, n),
        store_id=store,
        ts=ts,
        screen_id="SCR1",
        zone_id="Z01",
        product_id="P0001",
        creative_id="C1",
        reason="popular",
    )


def send(settings: Settings, events: Iterable[Event], raw: Iterable[tuple[str, bytes]] = ()) -> list[Any]:
    """Publish events to their topics and raw bytes to the given topics; the record metadata, once acked."""
    producer = make_producer(settings)
    futures = [publish(producer, event) for event in events]
    futures += [producer.send(topic, key=b"raw", value=value) for topic, value in raw]
    producer.flush()
    producer.close()
    return [future.get(timeout=10) for future in futures]


def land(settings: Settings, group: str) -> LanderStats:
    return run_lander(settings, idle_exit_s=IDLE_EXIT_S, group=group, topics=TEST_TOPICS)


def rows_of(settings: Settings, topic: str, store: str) -> pl.DataFrame:
    return read_lake(settings, topic).filter(pl.col("store_id") == store)


def committed_offset(settings: Settings, group: str, metadata: Any) -> int | None:
    """The group's committed offset of the partition a record went to (no group join needed)."""
    consumer = make_consumer(settings, group, ())
    try:
        committed: int | None = consumer.committed(TopicPartition(metadata.topic, metadata.partition))
        return committed
    finally:
        consumer.close(autocommit=False)


def wait_until(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.kafka
def test_events_land_by_topic_and_date_with_the_contract_schema(
    settings: Settings, store: str, group: str
) -> None:
    events: list[Event] = [visit(store, 1, DAY_1), visit(store, 2, DAY_2), purchase(store, 1)]
    events += [dwell(store, 1), impression(store, 1)]
    send(settings, events)

    stats = land(settings, group)

    lake = settings.paths.lake_dir
    expected_dirs = {
        lake / "visits" / "date=2026-11-18",
        lake / "visits" / "date=2026-11-19",
        lake / "purchases" / "date=2026-11-18",
        lake / "dwell_paths" / "date=2026-11-19",
        lake / "ad.impressions" / "date=2026-11-19",
    }
    assert expected_dirs <= {path.parent for path in lake.glob("*/date=*/*.parquet")}
    for path in lake.glob("*/date=*/*.parquet"):
        assert pl.read_parquet_schema(path) == LAKE_SCHEMAS[path.parent.parent.name], path
    assert stats.rows_landed[Visit.TOPIC] >= 2
    assert stats.files_written >= len(expected_dirs)

    (landed,) = rows_of(settings, Purchase.TOPIC, store).to_dicts()
    contract_fields = {name: landed[name] for name in Purchase.model_fields}
    assert Purchase.model_validate(contract_fields, strict=False) == purchase(store, 1)  # lines round-trip
    assert landed["kafka_offset"] >= 0
    assert landed["landed_at"] > DAY_2
    only_nulls = rows_of(settings, AdImpression.TOPIC, store)
    assert only_nulls["segment"].to_list() == [None]  # still a string column, as the schema says
    visits = rows_of(settings, Visit.TOPIC, store).sort("ts")
    assert visits["track_ids"].to_list() == [["K1", "K1b"], ["K2", "K2b"]]
    assert visits["status"].to_list() == ["closed", "closed"]


@pytest.mark.kafka
def test_duplicates_in_a_batch_land_once_and_the_idle_exit_commits(
    settings: Settings, store: str, group: str
) -> None:
    visits = [visit(store, n) for n in range(30)]
    *_, last = send(settings, visits + visits[:10] + [dwell(store, 1), dwell(store, 1)])

    stats = land(settings, group)

    assert stats.duplicates_skipped >= 11
    landed = rows_of(settings, Visit.TOPIC, store)
    assert landed.height == landed["event_id"].n_unique() == 30
    assert rows_of(settings, DwellSegment.TOPIC, store).height == 1
    assert committed_offset(settings, group, last) == last.offset + 1


@pytest.mark.kafka
def test_invalid_messages_are_dead_lettered_with_their_bytes(
    settings: Settings, store: str, group: str
) -> None:
    malformed = b'{"event_type": "visit", "store_id": "' + store.encode() + b'", "ts": '
    wrong_topic = purchase(store, 7).to_bytes()
    bad_dead_letter = b'{"event_type": "deadletter", "store_id": "' + store.encode() + b'"}'
    send(
        settings,
        [visit(store, 1)],
        raw=[(Visit.TOPIC, malformed), (Visit.TOPIC, wrong_topic), (DeadLetter.TOPIC, bad_dead_letter)],
    )

    stats = land(settings, group)

    assert stats.dead_lettered >= 2
    letters = read_lake(settings, DeadLetter.TOPIC).with_columns(
        original=pl.col("original_b64").map_elements(base64.b64decode, return_dtype=pl.Binary)
    )
    mine = letters.filter(pl.col("original").bin.contains(store.encode()))
    assert sorted(mine["original"].to_list()) == sorted([malformed, wrong_topic])  # not the bad letter
    assert set(mine["source_topic"]) == {Visit.TOPIC}
    assert set(mine["rejected_by"]) == {"lander"}
    assert set(mine["error_field"]) == {"(payload)", "event_type"}
    assert rows_of(settings, Visit.TOPIC, store)["visit_id"].to_list() == ["V1"]
    assert rows_of(settings, Purchase.TOPIC, store).is_empty()


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    value: bytes | None
    headers: None = None


@pytest.mark.kafka
def test_a_crash_between_write_and_commit_lands_nothing_twice(
    settings: Settings, store: str, group: str
) -> None:
    events: list[Event] = [visit(store, n, DAY_1 if n % 2 else DAY_2) for n in range(40)]
    events += [purchase(store, n) for n in range(10)]
    sent = send(settings, events)
    records = [
        Record(metadata.topic, metadata.partition, metadata.offset, event.to_bytes())
        for event, metadata in zip(events, sent, strict=True)
    ]
    producer = make_producer(settings)
    Lander(settings, Outbox(producer)).land(
        records[:25] + records[-3:]
    )  # written, then a crash before the commit
    producer.close()

    stats = land(settings, group)

    assert stats.duplicates_skipped >= 28
    for topic, count in ((Visit.TOPIC, 40), (Purchase.TOPIC, 10)):
        rows = rows_of(settings, topic, store)
        assert rows.height == rows["event_id"].n_unique() == count


LANDER_PROCESS = """
import sys
from realtime.lander import run_lander
from walkout.settings import Settings
run_lander(Settings(data_dir=sys.argv[1], kafka_bootstrap=sys.argv[2]), group=sys.argv[3], topics=["visits"])
"""


@pytest.mark.kafka
@pytest.mark.slow
def test_a_lander_killed_at_a_random_moment_lands_each_event_once(
    settings: Settings, store: str, group: str
) -> None:
    command = [
        sys.executable,
        "-c",
        LANDER_PROCESS,
        str(settings.data_dir),
        str(settings.kafka_bootstrap),
        group,
    ]
    process = subprocess.Popen(command)
    sent = [visit(store, n) for n in range(600)]

    def stream() -> None:
        producer = make_producer(settings)
        for start in range(10, len(sent), 20):  # new visits, and some sent again
            for event in sent[start : start + 20] + sent[start - 10 : start - 5]:
                publish(producer, event)
            producer.flush()
            time.sleep(0.03)
        producer.close()

    try:
        send(settings, sent[:10])
        wait_until(lambda: any(settings.paths.lake_dir.glob("visits/*/*.parquet")))
        with ThreadPoolExecutor(1) as pool:
            streaming = pool.submit(stream)
            time.sleep(random.uniform(0.0, 1.5))
            process.send_signal(signal.SIGKILL)
            streaming.result()
    finally:
        process.kill()
        process.wait()

    stats = land(settings, group)

    assert stats.records_read > 0
    visits = rows_of(settings, Visit.TOPIC, store)
    assert visits.height == visits["event_id"].n_unique() == len(sent)
    assert not list(settings.paths.lake_dir.glob("**/.*.tmp"))


@pytest.mark.kafka
def test_compaction_merges_files_and_finishes_a_half_done_one(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, kafka_bootstrap=bootstrap_servers(kafka_settings))
    producer = make_producer(settings)
    lander = Lander(settings, Outbox(producer))
    for batch in range(3):  # one file per batch; later visits carry earlier timestamps
        ts = DAY_1 - timedelta(minutes=batch)
        lander.land(
            Record("visits", 0, batch * 10 + n, visit("S1", batch * 10 + n, ts).to_bytes()) for n in range(10)
        )
    producer.close()
    partition = settings.paths.lake_dir / "visits" / "date=2026-11-18"
    parts = sorted(partition.glob("*.parquet"))
    assert len(parts) == 3
    shutil.copy(parts[0], partition / "part-copied-by-hand.parquet")  # duplicates no index knows of
    aside = tmp_path / "aside"
    shutil.copytree(partition, aside)

    assert compact_partition(partition)

    (compacted,) = partition.glob("*.parquet")
    merged = pl.read_parquet(compacted)
    assert merged.height == merged["event_id"].n_unique() == 30
    assert merged["ts"].is_sorted()
    assert merged.schema == LAKE_SCHEMAS["visits"]
    assert not compact_partition(partition)  # one file: nothing to merge

    for part in aside.iterdir():  # a crash after the rename, before the parts were deleted
        shutil.copy(part, partition / part.name)
    (partition / ".part-crashed.parquet.tmp").write_bytes(b"half a file")
    assert read_lake(settings, "visits").height == 30 + 40

    assert compact_lake(settings) == 0  # finished the interrupted compaction: nothing left to merge

    assert [path.name for path in partition.iterdir()] == [compacted.name]
    assert read_lake(settings, "visits").height == 30


def test_files_landed_before_an_optional_field_was_added_read_and_compact_with_nulls(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path)
    land_offline(settings, [visit("S001", 1)])
    partition = settings.paths.lake_dir / "visits" / "date=2026-11-18"
    (landed,) = partition.glob("*.parquet")
    older = pl.read_parquet(landed).drop("demographic_source", "demographic_confidence")
    assert {"demographic_source", "demographic_confidence"} <= added_later("visits")
    older.with_columns(event_id=pl.lit("visit-landed-under-the-old-contract")).write_parquet(
        partition / "part-older.parquet"
    )

    both = read_lake(settings, "visits")
    assert both.schema == LAKE_SCHEMAS["visits"]
    assert both.sort("event_id")["demographic_source"].to_list() == ["unknown", None]
    assert compact_partition(partition)
    assert read_lake(settings, "visits").height == 2


def test_a_backfill_lands_like_the_lander_and_again_adds_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    events = [visit("S001", 1), purchase("S001", 1), visit("S001", 1), dwell("S001", 2)]
    first = land_offline(settings, events)
    assert (first.duplicates_skipped, dict(first.rows_landed)) == (
        1,
        {Visit.TOPIC: 1, Purchase.TOPIC: 1, DwellSegment.TOPIC: 1},
    )
    again = land_offline(settings, events)
    assert (again.files_written, again.duplicates_skipped) == (0, 4)
    landed = read_lake(settings, Visit.TOPIC)
    assert landed["event_id"].to_list() == [visit("S001", 1).event_id]
    assert landed["kafka_partition"].to_list() == [-1]


@pytest.mark.kafka
def test_the_stop_event_ends_the_loop_with_everything_committed(
    settings: Settings, store: str, group: str
) -> None:
    stop = threading.Event()
    partition = settings.paths.lake_dir / "visits" / "date=2026-11-18"
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(
            run_lander, settings, stop, group=group, topics=TEST_TOPICS, compact_above_files=1
        )
        try:
            first = [visit(store, n) for n in range(20)]
            send(settings, first)
            wait_until(lambda: rows_of(settings, Visit.TOPIC, store).height == 20)
            *_, last = send(settings, [*first, visit(store, 20)])  # duplicates in a later batch of the run
            wait_until(lambda: rows_of(settings, Visit.TOPIC, store).height == 21)
            wait_until(lambda: len(list(partition.glob("*.parquet"))) == 1)  # compacted while idle
        finally:
            stop.set()
        stats = running.result(timeout=15)

    assert stats.duplicates_skipped >= 20
    assert stats.compactions >= 1
    assert committed_offset(settings, group, last) == last.offset + 1


def test_an_unwritable_lake_or_unknown_topic_is_a_lander_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(LanderError, match="WALKOUT_DATA_DIR"):
        run_lander(Settings(data_dir=tmp_path / "file", kafka_bootstrap="127.0.0.1:1"), idle_exit_s=0)
    with pytest.raises(LanderError, match="not a contract topic"):
        run_lander(Settings(data_dir=tmp_path, kafka_bootstrap="127.0.0.1:1"), topics=["orders"])


def shelf_pick(n: int) -> ShelfEvent:
    """A pick of one unit from a real plate of S002, dated on DAY_1 and unique to this test run."""
    catalog = load_catalog()
    plate = catalog.store("S002").plate("S002-GD07-S3-P05")
    return ShelfEvent(
        event_id=make_event_id("lander-test-pick", uuid.uuid4().hex, n),
        store_id="S002",
        ts=DAY_1 + timedelta(seconds=n),
        shelf_id=f"{plate.gondola_id}-SH{plate.shelf}",
        plate_id=plate.plate_id,
        action=ShelfAction.PICK,
        weight_delta_g=-float(catalog.product(plate.product_id).unit_weight_g),
        product_id=plate.product_id,
        quantity=1,
        confidence=0.97,
    )


@pytest.mark.kafka
def test_edge_messages_land_only_signed_by_the_stores_devices_and_heartbeats_not_at_all(
    settings: Settings, group: str
) -> None:
    signer = EdgeSigner(DEMO_KEYS["edge_key"])
    genuine, unsigned = shelf_pick(1), shelf_pick(2)
    nowhere = shelf_pick(3).model_copy(update={"plate_id": "S002-GD99-S1-P01", "shelf_id": "S002-GD99-SH1"})
    beat = EdgeHeartbeat(
        event_id=make_event_id("lander-test-beat", uuid.uuid4().hex),
        store_id="S002",
        ts=DAY_1,
        device_id="S002-EDGE",
    )
    producer = make_producer(settings)
    futures = [
        publish(producer, genuine, signer=signer),
        publish(producer, unsigned),
        publish(producer, nowhere, signer=signer),
        publish(producer, beat, topic=ShelfEvent.TOPIC, signer=signer),
    ]
    producer.flush()
    producer.close()
    offsets = [future.get(timeout=10).offset for future in futures]

    stats = run_lander(
        settings, idle_exit_s=IDLE_EXIT_S, group=group, topics=[ShelfEvent.TOPIC, DeadLetter.TOPIC]
    )

    landed = set(read_lake(settings, ShelfEvent.TOPIC)["event_id"])
    assert genuine.event_id in landed
    assert not {unsigned.event_id, nowhere.event_id, beat.event_id} & landed
    assert stats.heartbeats >= 1
    letters = read_lake(settings, DeadLetter.TOPIC).filter(
        (pl.col("source_topic") == ShelfEvent.TOPIC) & pl.col("source_offset").is_in(offsets)
    )
    reasons = dict(zip(letters["source_offset"], letters["reason"], strict=True))
    assert "unsigned" in reasons[offsets[1]]
    assert "no plate 'S002-GD99-S1-P01' in store S002" in reasons[offsets[2]]
    assert set(reasons) == {offsets[1], offsets[2]}


def test_an_event_lands_once_whatever_date_its_copies_carry(tmp_path: Path) -> None:
    """Copies of one event id dated on neighbouring days (a clock that jumped) land once: in one batch
    and across batches, either way round."""
    settings = Settings(data_dir=tmp_path)
    first, moved = visit("S1", 1, DAY_1), visit("S1", 1, DAY_1 + timedelta(days=1))
    other, other_moved = visit("S1", 2, DAY_1 + timedelta(days=1)), visit("S1", 2, DAY_1)
    land_offline(settings, [first, moved])
    land_offline(settings, [other])
    land_offline(settings, [other_moved, moved])
    rows = read_lake(settings, Visit.TOPIC)
    assert sorted(rows["event_id"]) == sorted([first.event_id, other.event_id])
    assert rows.filter(pl.col("event_id") == first.event_id)["ts"].to_list() == [DAY_1]


@pytest.mark.kafka
def test_a_full_lake_disk_stops_the_lander_in_one_line_and_it_resumes_exactly(
    settings: Settings, store: str, group: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = [visit(store, n) for n in range(20)]
    send(settings, events)

    def disk_full(*_: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patched:
        patched.setattr("realtime.lander._write_durably", disk_full)
        with pytest.raises(LanderError) as stopped:
            land(settings, group)
    message = str(stopped.value)
    assert "\n" not in message
    assert "No space left on device" in message
    assert "nothing was committed past what was landed" in message
    assert rows_of(settings, Visit.TOPIC, store).is_empty()

    land(settings, group)  # space freed: the same group lands everything, once
    landed = rows_of(settings, Visit.TOPIC, store)
    assert landed.height == landed["event_id"].n_unique() == 20
