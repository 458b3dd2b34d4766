"""The sensor asks for one run over the lake dates whose files changed; the schedule rebuilds yesterday."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.definitions import build_definitions
from orchestration.defs.automation import lake_files_sensor, nightly_warehouse
from walkout.settings import Settings


def add_file(data_dir: Path, topic: str, day: str, name: str, mtime_ns: int) -> None:
    folder = data_dir / "lake" / topic / f"date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"")
    os.utime(folder, ns=(mtime_ns, mtime_ns))


def evaluate(data_dir: Path, cursor: str | None) -> tuple[list[tuple[str, str]], str | None]:
    """The (first, last) lake dates of each run the sensor asks for, and its new cursor."""
    defs = build_definitions(Settings(data_dir=data_dir))
    context = dg.build_sensor_context(cursor=cursor, definitions=defs, resources=defs.resources)
    result = lake_files_sensor.evaluate_tick(context)
    ranges = [request.partition_key_range for request in result.run_requests or []]
    return [(keys.start, keys.end) for keys in ranges if keys is not None], result.cursor


def test_sensor_asks_for_one_run_over_the_changed_lake_dates(tmp_path: Path) -> None:
    add_file(tmp_path, "visits", "2026-11-18", "part-1.parquet", 1_000)
    add_file(tmp_path, "purchases", "2026-11-19", "part-1.parquet", 1_000)
    requested, cursor = evaluate(tmp_path, None)
    assert requested == [("2026-11-18", "2026-11-19")]

    assert evaluate(tmp_path, cursor)[0] == []  # nothing new

    add_file(tmp_path, "purchases", "2026-11-19", "part-2.parquet", 2_000)
    assert evaluate(tmp_path, cursor)[0] == [("2026-11-19", "2026-11-19")]


def test_sensor_ignores_folders_that_are_no_lake_date(tmp_path: Path) -> None:
    add_file(tmp_path, "visits", "not-a-date", "part-1.parquet", 1_000)
    assert evaluate(tmp_path, None)[0] == []


def test_schedule_rebuilds_yesterday(tmp_path: Path) -> None:
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 19, 0, 30, tzinfo=UTC),
        repository_def=build_definitions(Settings(data_dir=tmp_path)).get_repository_def(),
    )
    (request,) = nightly_warehouse.evaluate_tick(context).run_requests or []
    assert request.partition_key == "2026-11-18"
