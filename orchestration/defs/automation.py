"""When the warehouse builds: a job over every asset, a sensor for new lake files and a nightly schedule.

Every run writes the one DuckDB file, so runs carry the ``walkout/writer`` tag, which the instance
(``dagster.yaml``, see :mod:`orchestration.instance`) lets run one at a time.

The lake is partitioned by UTC date, the stores live by their local day: the nightly schedule runs at
night in the stores' timezone and rebuilds, as one run, the UTC lake dates that the local day just
ended spans (two for Seoul: 15:00 UTC the day before to 15:00 UTC).
"""

import json
from collections.abc import Collection, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration.defs.lake import LAKE_DATES
from orchestration.defs.warehouse import built_lake_versions
from orchestration.instance import WRITER_TAG
from orchestration.resources import WarehouseResource
from walkout.catalog import Catalog, load_catalog
from walkout.lake import folder_versions

NIGHTLY_LOCAL_TIME = time(3, 30)
"""When the nightly build starts, store-local: the day has ended (late files landed), the stores that
close are closed and none has opened yet (the earliest opens at 06:00)."""


def partition_range_tags(first: str, last: str) -> dict[str, str]:
    """Tags of one run over the lake dates ``first``..``last`` (how Dagster runs a range of partitions)."""
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}


warehouse_job = dg.define_asset_job(
    "warehouse",
    selection=dg.AssetSelection.all(),
    tags=WRITER_TAG,
    description="Survey the lake, export the catalog, dbt build, publish the marts.",
)


@dg.sensor(job=warehouse_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def lake_files_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource
) -> Iterator[dg.RunRequest]:
    """One run over the lake dates whose files changed since the last look; at first, since the lake the
    published marts were built from (every date if they never were)."""
    seen: dict[str, int] = (
        json.loads(context.cursor) if context.cursor else built_lake_versions(context.instance)
    )
    current = folder_versions(warehouse.paths.lake_dir)
    changed = sorted(
        day
        for day, version in current.items()
        if version != seen.get(day) and LAKE_DATES.has_partition_key(day)
    )
    if changed:
        yield dg.RunRequest(
            run_key=f"{changed[0]}..{changed[-1]}@{max(current[day] for day in changed)}",
            tags=partition_range_tags(changed[0], changed[-1]),
        )
    context.update_cursor(json.dumps(current))


def store_timezones(catalog: Catalog) -> list[str]:
    """The timezones of the catalog's stores."""
    return sorted({store.timezone for store in catalog.stores.values()})


def last_to_end_its_day(timezones: Collection[str]) -> str:
    """The timezone whose day ends last (the furthest west): at its night every store's day is over."""
    now = datetime.now(UTC)
    return min(sorted(timezones), key=lambda name: now.astimezone(ZoneInfo(name)).utcoffset() or timedelta())


def lake_dates_of_local_day(day: date, timezones: Collection[str]) -> tuple[date, date]:
    """The first and last UTC lake date that the local ``day`` spans, in any of ``timezones``."""

    def utc_midnight(local: date, name: str) -> datetime:
        return datetime.combine(local, time(), ZoneInfo(name)).astimezone(UTC)

    first = min(utc_midnight(day, name) for name in timezones)
    end = max(utc_midnight(day + timedelta(days=1), name) for name in timezones)
    return first.date(), (end - timedelta(microseconds=1)).date()


def nightly_schedule(timezones: Collection[str]) -> dg.ScheduleDefinition:
    """At :data:`NIGHTLY_LOCAL_TIME` in the timezone that ends its day last, one run over the lake dates
    of the local day just ended (in every store's timezone)."""
    timezone = last_to_end_its_day(timezones)

    @dg.schedule(
        name="nightly_warehouse",
        job=warehouse_job,
        cron_schedule=f"{NIGHTLY_LOCAL_TIME.minute} {NIGHTLY_LOCAL_TIME.hour} * * *",
        execution_timezone=timezone,
        description=f"Rebuild the stores' day just ended, at {NIGHTLY_LOCAL_TIME:%H:%M} {timezone}.",
    )
    def nightly_warehouse(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        local_day = context.scheduled_execution_time.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)
        first, last = lake_dates_of_local_day(local_day, timezones)
        return dg.RunRequest(
            run_key=f"local day {local_day}",
            tags=partition_range_tags(first.isoformat(), last.isoformat()),
        )

    return nightly_warehouse


nightly_warehouse = nightly_schedule(store_timezones(load_catalog()))


defs = dg.Definitions(
    jobs=[warehouse_job],
    sensors=[lake_files_sensor],
    schedules=[nightly_warehouse],
)
