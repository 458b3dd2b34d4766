"""``walkout land``: the lander (topics to the Parquet lake), compaction, and backfilled history."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.options import DaysOption, SeedOption, StartOption, StoresOption, console, stop_on_signals
from walkout.settings import get_settings

land_app = typer.Typer(help="The lander: topics to the Parquet lake.", no_args_is_help=True)


@land_app.command("run")
def land_run(
    idle_exit: Annotated[
        float | None, typer.Option(min=0, help="Land what is there and exit after this many idle seconds.")
    ] = None,
) -> None:
    """Land every contract topic under <data dir>/lake until SIGTERM or Ctrl-C (fsync, then commit)."""
    from realtime.lander import run_lander

    settings = get_settings()
    console.print(f"landing into {settings.paths.lake_dir}; Ctrl-C or SIGTERM stops it cleanly")
    stats = run_lander(settings, stop=stop_on_signals(), idle_exit_s=idle_exit)
    console.print(
        f"read {stats.records_read} records; landed {dict(stats.rows_landed)}; "
        f"{stats.duplicates_skipped} duplicates skipped; {stats.dead_lettered} dead-lettered"
    )


@land_app.command("compact")
def land_compact() -> None:
    """Merge each lake partition's small files into one (safe beside a running lander)."""
    from realtime.lander import compact_lake

    console.print(f"compacted {compact_lake(get_settings())} partitions")


@land_app.command("backfill")
def land_backfill(
    stores: StoresOption = 1,
    days: DaysOption = 28,
    seed: SeedOption = 7,
    start: StartOption = None,
) -> None:
    """Land simulated history without Kafka: the twin's store-days replayed through checkout offline."""
    from twin.backfill import backfill
    from twin.run import plan_for
    from walkout.catalog import load_catalog

    settings = get_settings()
    plan = plan_for(load_catalog(), stores, days, seed, start, gate_key=settings.secret("gate_key"))
    with console.status(f"backfilling {stores} store(s) x {days} days from {plan.start}"):
        summary = backfill(settings, plan)
    console.print(
        f"{summary.store_days} store-days landed, {summary.skipped_store_days} already there; "
        f"rows {dict(summary.rows_landed)} in {summary.seconds:.0f} s"
    )
