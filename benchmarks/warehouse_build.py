"""Warehouse build time: a full build (Dagster job: lake survey, catalog, dbt build, publish) of 1, 10
and 30 store-days, and an incremental build of one lake date on top of the 30.

The store-days are simulated once, run through the checkout's fusion offline (no Kafka, as the
service would in event-time order) and landed as Parquet; they are cached in the work directory, so
a second run measures the builds only. Each full build starts from an empty warehouse; the one-date
build runs on the 30 store-days' warehouse. Each figure is the fastest of REPEATS runs, with dbt's
own share (from its run_results.json): the rest is Python, Dagster and dbt start-up, the lake survey
and publishing.

Run from the repository root:  .venv/bin/python benchmarks/warehouse_build.py [work dir]
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from orchestration.build import WarehouseBuild, build_warehouse
from realtime.checkout.replay import replay_checkout
from realtime.lander import land_offline
from twin.run import SimulationPlan, simulate_store_days
from walkout.catalog import load_catalog
from walkout.contracts import TOPICS
from walkout.data_dir import DataDir
from walkout.lake import dates_present, parquet_files, partition_dir
from walkout.settings import Settings

COMMAND = ".venv/bin/python benchmarks/warehouse_build.py"
START = date(2026, 11, 2)
STORES = ("S001", "S002", "S003")
DAYS = 10
SIZES = {1: (("S001",), 1), 10: (("S001", "S002"), 5), 30: (STORES, DAYS)}
REPEATS = 2


def cached_store_days(cache: Path) -> dict[tuple[str, date], Path]:
    """A landed lake per store-day under ``cache``, simulated and checked out on first use."""
    lakes = {
        (store, day): cache / f"{store}-{day}"
        for store in STORES
        for day in (date.fromordinal(START.toordinal() + offset) for offset in range(DAYS))
    }
    missing = tuple(sorted({store for (store, _), lake in lakes.items() if not lake.exists()}))
    if missing:
        catalog = load_catalog()
        for store_day in simulate_store_days(catalog, SimulationPlan(missing, START, DAYS, seed=7)):
            name = f"{store_day.store_id}-{store_day.day}"
            if (cache / name).exists():  # simulated only for the stock it hands to the next day
                continue
            edge = [event for _, event in store_day.events]
            events = edge + replay_checkout(catalog, store_day.store_id, edge)
            landing = Settings(data_dir=cache / f".{name}")
            land_offline(landing, events)
            # whole store-days only, should this be stopped
            landing.paths.lake_dir.replace(cache / name)
            print(f"  simulated and landed {name}: {len(events):,} events", flush=True)
    return lakes


def assemble(lakes: list[Path], data_dir: Path) -> tuple[int, float]:
    """One data directory whose lake holds the given store-days; returns (rows, MB) of the lake."""
    lake_dir = DataDir(data_dir).lake_dir
    for lake in lakes:
        shutil.copytree(lake, lake_dir, dirs_exist_ok=True)
    files = list(lake_dir.rglob("*.parquet"))
    rows = sum(pl.scan_parquet(file).select(pl.len()).collect().item() for file in files)
    return rows, sum(file.stat().st_size for file in files) / 1e6


def quietly(build: Callable[..., WarehouseBuild], *args: Any, **kwargs: Any) -> WarehouseBuild:
    """Run a build without dbt's progress lines, which dagster-dbt echoes to stdout."""
    with contextlib.redirect_stdout(io.StringIO()):
        return build(*args, **kwargs)


def report(label: str, build: WarehouseBuild, settings: Settings, rows: int, megabytes: float) -> None:
    """The run's wall time, dbt's share of it (from its run_results.json) and the slowest model."""
    run_results = settings.paths.dbt_run_dir(build.run_id) / "run_results.json"
    results = json.loads(run_results.read_text())
    models = [r for r in results["results"] if r["unique_id"].startswith("model.")]
    slowest = max(models, key=lambda r: r["execution_time"])
    print(
        f"{label:<28} {build.seconds:6.1f} s (dbt {results['elapsed_time']:5.1f} s, models "
        f"{sum(r['execution_time'] for r in models):5.1f} s, slowest {slowest['unique_id'].split('.')[-1]} "
        f"{slowest['execution_time']:4.1f} s)   lake {rows:>10,} rows {megabytes:5.1f} MB"
    )


def fastest_full_build(settings: Settings) -> WarehouseBuild:
    """The fastest of REPEATS full builds, each from an empty warehouse (shared machines are noisy)."""
    builds = []
    for _ in range(REPEATS):
        settings.paths.warehouse_file.unlink(missing_ok=True)  # keep the runs' dbt artifacts for report()
        shutil.rmtree(settings.paths.dbt_state_dir, ignore_errors=True)
        builds.append(quietly(build_warehouse, settings))
    return min(builds, key=lambda build: build.seconds)


def main() -> None:
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="warehouse-bench-"))
    print(f"work directory {work} (store-days cached in {work / 'store-days'}); fastest of {REPEATS} runs")
    lakes = cached_store_days(work / "store-days")
    for size, (stores, days) in SIZES.items():
        chosen = [
            lakes[store, date.fromordinal(START.toordinal() + o)] for store in stores for o in range(days)
        ]
        data_dir = work / f"build-{size}"
        shutil.rmtree(data_dir, ignore_errors=True)
        rows, megabytes = assemble(chosen, data_dir)
        settings = Settings(data_dir=data_dir)
        report(f"full build, {size} store-days", fastest_full_build(settings), settings, rows, megabytes)
    last_day = dates_present(settings.paths.lake_dir)[-1]
    last_date = last_day.isoformat()
    files = [
        file
        for topic in TOPICS
        for file in parquet_files(partition_dir(settings.paths.lake_dir, topic, last_day))
    ]
    day_rows = sum(pl.scan_parquet(file).select(pl.len()).collect().item() for file in files)
    day_megabytes = sum(file.stat().st_size for file in files) / 1e6
    incremental = min(
        (quietly(build_warehouse, settings, partition=last_date) for _ in range(REPEATS)),
        key=lambda build: build.seconds,
    )
    report(f"one lake date ({last_date})", incremental, settings, day_rows, day_megabytes)
    print(f"reproduce: {COMMAND} {work}")


if __name__ == "__main__":
    main()
