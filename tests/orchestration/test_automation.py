"""The sensor asks for one run over the lake dates whose files changed (at first, since the lake the
published marts were built from); the nightly schedule, at night in the stores' timezone, rebuilds the
UTC lake dates of the local day just ended."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from orchestration.build import WarehouseBuild
from orchestration.definitions import build_definitions
from orchestration.defs.automation import (
    lake_files_sensor,
    nightly_schedule,
    nightly_warehouse,
    partition_range_tags,
)
from orchestration.defs.warehouse import PUBLISHED_KEY
from orchestration.instance import dagster_home
from walkout.data_dir import DataDir
from walkout.settings import Settings

if TYPE_CHECKING:  # fixtures come from conftest.py, which is not importable as a module
    from tests.conftest import SmallLake

DAYS = ["2026-11-17", "2026-11-18", "2026-11-19"]


def add_file(data_dir: Path, topic: str, day: str, name: str, mtime_ns: int) -> None:
    folder = DataDir(data_dir).lake_dir / topic / f"date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"")
    os.utime(folder, ns=(mtime_ns, mtime_ns))


def evaluate(
    data_dir: Path, cursor: str | None, instance: dg.DagsterInstance | None = None
) -> tuple[list[tuple[str, str]], str | None]:
    """The (first, last) lake dates of each run the sensor asks for, and its new cursor."""
    defs = build_definitions(Settings(data_dir=data_dir))
    context = dg.build_sensor_context(
        cursor=cursor,
        definitions=defs,
        resources=defs.resources,
        instance=instance or dg.DagsterInstance.ephemeral(),
    )
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


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """The data directory's instance, the one ``walkout warehouse build``, the demo and ``walkout ui`` use."""
    with dg.DagsterInstance.from_config(str(dagster_home(Settings(data_dir=tmp_path)))) as instance:
        yield instance


def publish(data_dir: Path, instance: dg.DagsterInstance, first: str, last: str) -> None:
    """Run the ``warehouse`` job's last step, publishing, as a build of lake dates ``first``..``last``."""
    warehouse = DataDir(data_dir).warehouse_file
    if not warehouse.exists():
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(warehouse)) as con:
            con.execute("create schema marts; create table marts.fct_visits as select 1 as visit_id")
    job = build_definitions(Settings(data_dir=data_dir)).resolve_job_def("warehouse")
    tags = partition_range_tags(first, last)
    assert job.execute_in_process(instance=instance, asset_selection=[PUBLISHED_KEY], tags=tags).success


def test_a_new_sensor_asks_only_for_what_changed_since_the_last_build(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    for day in DAYS:
        add_file(tmp_path, "visits", day, "part-1.parquet", 1_000)
    add_file(tmp_path, "visits", "not-a-date", "part-1.parquet", 1_000)
    assert evaluate(tmp_path, None, instance)[0] == [(DAYS[0], DAYS[-1])]  # never built: every date

    publish(tmp_path, instance, DAYS[0], DAYS[-1])
    assert evaluate(tmp_path, None, instance)[0] == []  # the UI opened after a build

    add_file(tmp_path, "purchases", DAYS[1], "part-1.parquet", 2_000)
    assert evaluate(tmp_path, None, instance)[0] == [(DAYS[1], DAYS[1])]


def test_a_build_of_some_dates_keeps_what_the_others_were_built_from(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    for day in DAYS:
        add_file(tmp_path, "visits", day, "part-1.parquet", 1_000)
    publish(tmp_path, instance, DAYS[0], DAYS[-1])
    add_file(tmp_path, "visits", DAYS[0], "part-2.parquet", 2_000)
    add_file(tmp_path, "visits", DAYS[2], "part-2.parquet", 2_000)
    publish(tmp_path, instance, DAYS[2], DAYS[2])
    assert evaluate(tmp_path, None, instance)[0] == [(DAYS[0], DAYS[0])]


def test_files_landed_while_a_build_ran_are_asked_for_again(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    for day in DAYS:
        add_file(tmp_path, "visits", day, "part-1.parquet", 1_000)
    later = time.time_ns() + 3_600 * 10**9  # a folder changed after the run started
    add_file(tmp_path, "visits", DAYS[1], "part-2.parquet", later)
    publish(tmp_path, instance, DAYS[0], DAYS[-1])
    assert evaluate(tmp_path, None, instance)[0] == [(DAYS[1], DAYS[1])]


@pytest.mark.slow
def test_after_a_cli_build_the_uis_sensor_asks_for_nothing(
    small_lake: SmallLake, warehouse: WarehouseBuild
) -> None:
    with dg.DagsterInstance.from_config(str(dagster_home(small_lake.settings))) as instance:
        assert evaluate(small_lake.settings.data_dir, None, instance)[0] == []


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
