"""``walkout simulate``: the digital twin's store-days, published to the edge topics."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import Progress

from cli.options import CamerasOption, DaysOption, SeedOption, StartOption, StoresOption, console
from twin.speed import Speed
from walkout.settings import get_settings
from walkout.vocabulary import CameraSource


def simulate(
    stores: StoresOption = 1,
    days: DaysOption = 1,
    seed: SeedOption = 7,
    start: StartOption = None,
    speed: Annotated[
        Speed, typer.Option(help="realtime paces events by the clock; max sends at once.")
    ] = Speed.MAX,
    fault: Annotated[
        list[str] | None,
        typer.Option(help="Override a fault rate, e.g. --fault late_rate=0.05 (repeatable)."),
    ] = None,
    cameras: CamerasOption = CameraSource.STAND_IN,
) -> None:
    """Simulate store-days and publish their edge events to Kafka, with ground truth under the data dir."""
    from twin.report import summary_tables
    from twin.run import fault_rates, plan_for, simulate_to_kafka
    from walkout.catalog import load_catalog

    settings = get_settings()
    faults = fault_rates(fault or [])
    plan = plan_for(
        load_catalog(), stores, days, seed, start, faults, cameras, gate_key=settings.secret("gate_key")
    )
    with Progress(console=console, transient=True) as progress:
        summary = simulate_to_kafka(settings, plan, speed, progress)
    for table in summary_tables(summary):
        console.print(table)
    console.print(f"ground truth: {settings.paths.ground_truth_dir}")
