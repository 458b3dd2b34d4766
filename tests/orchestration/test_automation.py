"""The sensor asks for one run over the lake dates whose files changed; the nightly schedule, at night
in the stores' timezone, rebuilds the UTC lake dates of the local day just ended."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.definitions import build_definitions
from orchestration.defs.automation import lake_files_sensor, nightly_schedule, nightly_warehouse
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


def run_range(schedule: dg.ScheduleDefinition, at: datetime) -> tuple[str, str]:
    """The (first, last) lake date of the one run ``schedule`` asks for at ``at``."""
    context = dg.build_schedule_context(scheduled_execution_time=at)
    (request,) = schedule.evaluate_tick(context).run_requests or []
    assert request.partition_key_range is not None
    return request.partition_key_range.start, request.partition_key_range.end


def test_schedule_runs_at_night_in_the_stores_timezone() -> None:
    assert nightly_warehouse.execution_timezone == "Asia/Seoul"  # every store of the catalog
    assert nightly_warehouse.cron_schedule == "30 3 * * *"


def test_schedule_rebuilds_the_lake_dates_of_the_local_day_just_ended() -> None:
    # 03:30 in Seoul on 19 November: the stores' 18th ran from 15:00 UTC on the 17th to 15:00 on the 18th
    at = datetime(2026, 11, 19, 3, 30, tzinfo=ZoneInfo("Asia/Seoul"))
    assert run_range(nightly_warehouse, at) == ("2026-11-17", "2026-11-18")
    assert run_range(nightly_warehouse, at.astimezone(UTC)) == ("2026-11-17", "2026-11-18")


def test_stores_in_several_timezones_are_rebuilt_when_the_last_day_has_ended() -> None:
    schedule = nightly_schedule(["Asia/Seoul", "Europe/Berlin"])
    assert schedule.execution_timezone == "Europe/Berlin"  # Berlin's day ends after Seoul's
    # 03:30 in Berlin on 19 November: Seoul's 18th began at 15:00 UTC on the 17th, Berlin's ended at 23:00 UTC
    at = datetime(2026, 11, 19, 3, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert run_range(schedule, at) == ("2026-11-17", "2026-11-18")
    los_angeles = nightly_schedule(["Asia/Seoul", "America/Los_Angeles"])
    assert los_angeles.execution_timezone == "America/Los_Angeles"
    at = datetime(2026, 11, 19, 3, 30, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert run_range(los_angeles, at) == ("2026-11-17", "2026-11-19")  # LA's 18th ends 08:00 UTC on the 19th
