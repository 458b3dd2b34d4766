"""When the warehouse builds: a job over every asset, a sensor for new lake files and a nightly schedule.

Every run writes the one DuckDB file, so runs carry the ``walkout/writer`` tag, which the instance
(``dagster.yaml``, see :mod:`orchestration.instance`) lets run one at a time.
"""

import json
from collections.abc import Iterator
from datetime import timedelta

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration.defs.lake import LAKE_DATES
from orchestration.instance import WRITER_TAG
from orchestration.resources import WarehouseResource
from walkout.lake import folder_versions


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
    """One run over the lake dates whose files changed since the last look (all of them at first)."""
    seen: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
    current = folder_versions(warehouse.lake_dir)
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


@dg.schedule(job=warehouse_job, cron_schedule="30 0 * * *", execution_timezone="UTC")
def nightly_warehouse(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Rebuild yesterday's lake date once it is complete (late files included)."""
    yesterday = (context.scheduled_execution_time.date() - timedelta(days=1)).isoformat()
    return dg.RunRequest(run_key=yesterday, partition_key=yesterday)


defs = dg.Definitions(
    jobs=[warehouse_job],
    sensors=[lake_files_sensor],
    schedules=[nightly_warehouse],
)
