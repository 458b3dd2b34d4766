"""Build the warehouse from the command line: the UI's ``warehouse`` job, run in this process.

:func:`build_warehouse` runs the job of :func:`~orchestration.definitions.build_definitions` on the
data directory's Dagster instance (``<data_dir>/dagster``), so a CLI build shows in the UI's run
history like any other.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from orchestration.defs.automation import partition_range_tags, warehouse_job
from orchestration.defs.lake import LAKE_DATES
from orchestration.instance import dagster_home
from walkout.errors import WalkoutError
from walkout.lake import dates_present
from walkout.settings import Settings

QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
"""The run's console log without Dagster's step-by-step debug events (the UI keeps them all)."""


class WarehouseError(WalkoutError):
    """The warehouse could not be built: no lake yet, a bad partition, or a failed check or step."""


@dataclass(frozen=True)
class WarehouseBuild:
    """What a build did: its run, the lake dates it covered and the published marts."""

    run_id: str
    lake_dates: tuple[date, date]
    published_path: Path
    mart_rows: dict[str, int]
    checks_passed: int
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _lake_dates(settings: Settings, partition: str | None) -> tuple[date, date]:
    """The first and last lake date to build; checked before the job starts, which takes a while."""
    if partition is not None and not LAKE_DATES.has_partition_key(partition):
        raise WarehouseError(f"{partition!r} is not a lake date (YYYY-MM-DD, from 2015-01-01 to today)")
    lake_dir = settings.paths.lake_dir
    days = [day for day in dates_present(lake_dir) if LAKE_DATES.has_partition_key(day.isoformat())]
    if not days:
        raise WarehouseError(
            f"the lake at {lake_dir.resolve()} has no files; land events first (walkout land run)"
        )
    if partition is None:
        return days[0], days[-1]
    day = date.fromisoformat(partition)
    if day not in days:
        raise WarehouseError(f"the lake has no data for {day}; its {len(days)} dates: {_date_runs(days)}")
    return day, day


def _date_runs(days: list[date]) -> str:
    """Sorted dates as runs of consecutive days: ``2026-12-01..2026-12-05, 2026-12-07``."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and day - runs[-1][1] == timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return ", ".join(str(first) if first == last else f"{first}..{last}" for first, last in runs)


def _failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """The failed error-severity checks (with their failing rows), else the failed steps, of a run."""
    failures = []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
            continue
        rows = evaluation.metadata.get("dagster_dbt/failed_row_count")
        failures.append(
            f"check {evaluation.asset_key.to_user_string()}:{evaluation.check_name} failed"
            + (f" on {rows.value} rows" if rows is not None else "")
        )
    if failures:  # a failed dbt test also fails its step; the test says more
        return failures
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            message = " ".join(event.step_failure_data.error.message.split())
            failures.append(f"step {event.step_key} failed: {message[:500]}")
    return failures


def build_warehouse(settings: Settings, partition: str | None = None) -> WarehouseBuild:
    """Run the ``warehouse`` job over every lake date, or rebuild the daily models of one (``partition``).

    Raises :class:`WarehouseError` naming the failed checks and steps when the run fails; the
    published marts then stay as they were.
    """
    started = time.monotonic()
    first, last = _lake_dates(settings, partition)
    # Imported once the request is known to be good: the definitions load every area, for seconds.
    from orchestration.definitions import build_definitions
    from orchestration.defs.warehouse import published_warehouse

    job = build_definitions(settings).resolve_job_def(warehouse_job.name)
    with (
        dg.DagsterInstance.from_config(str(dagster_home(settings))) as instance,
        open(os.devnull, "w") as nowhere,
        # dagster-dbt echoes dbt's whole log to stdout; it is kept as dbt.log in the run's dbt directory
        contextlib.redirect_stdout(nowhere),
    ):
        result = job.execute_in_process(
            run_config=QUIET_CONSOLE,
            instance=instance,
            partition_key=partition,
            tags=None if partition else partition_range_tags(first.isoformat(), last.isoformat()),
            raise_on_error=False,
        )
    if not result.success:
        raise WarehouseError(
            f"warehouse build failed (run {result.run_id}): "
            + "; ".join(_failures(result) or ["see the run in walkout ui"])
        )
    (published,) = result.asset_materializations_for_node(published_warehouse.op.name)
    evaluations = result.get_asset_check_evaluations()
    return WarehouseBuild(
        run_id=result.run_id,
        lake_dates=(first, last),
        published_path=Path(str(published.metadata["path"].value)),
        mart_rows=dict(published.metadata["rows"].value),  # type: ignore[arg-type]
        checks_passed=sum(e.passed for e in evaluations),
        warnings=[f"{'/'.join(e.asset_key.path)}:{e.check_name}" for e in evaluations if not e.passed],
        seconds=time.monotonic() - started,
    )
