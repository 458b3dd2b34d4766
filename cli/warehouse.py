"""``walkout warehouse`` and ``walkout ui``: the Dagster job that builds the warehouse, and its UI."""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from cli.options import console, date_option, port_option, require_free_port
from walkout.settings import get_settings

warehouse_app = typer.Typer(help="The DuckDB warehouse that dbt builds from the lake.", no_args_is_help=True)


@warehouse_app.command("build")
def warehouse_build(
    day: Annotated[
        date | None, date_option("--date", help="Rebuild only this lake date's daily models.")
    ] = None,
) -> None:
    """Materialize the warehouse job (lake, dbt models and checks, published copy) as the UI would."""
    from orchestration.build import build_warehouse

    with console.status("building the warehouse (Dagster job: dbt build and checks, publish)"):
        build = build_warehouse(get_settings(), day.isoformat() if day else None)
    table = Table("mart", "rows", title=f"published marts: {build.published_path}")
    for mart, rows in sorted(build.mart_rows.items()):
        table.add_row(mart, f"{rows:,}")
    console.print(table)
    first, last = build.lake_dates
    console.print(
        f"run {build.run_id}: lake dates {first}..{last}, {build.checks_passed} checks passed, "
        f"{build.seconds:.0f} s"
    )
    for warning in build.warnings:
        console.print(f"[yellow]warning:[/yellow] check {warning} did not pass")


@warehouse_app.command("sources")
def warehouse_sources() -> None:
    """Write dbt's lake source (columns, types, descriptions) from the contracts; commit the result."""
    from walkout.lake import write_dbt_sources

    console.print(f"wrote {write_dbt_sources()}")


def ui(port: Annotated[int, port_option("Port of the Dagster UI.")] = 3000) -> None:
    """Start the Dagster UI on this data directory's instance, until Ctrl-C."""
    import os
    import subprocess

    from orchestration.instance import UI_HOST, dagster_ui_command

    require_free_port(UI_HOST, port)
    command = dagster_ui_command(get_settings(), port)
    console.print(f"Dagster UI at {command.url} (Ctrl-C stops it)")
    try:
        sys.exit(subprocess.run(command.argv, env=os.environ | command.env, check=False).returncode)
    except KeyboardInterrupt:
        sys.exit(130)
