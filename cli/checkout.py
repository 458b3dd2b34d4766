"""``walkout checkout``: the realtime checkout service, and its score against the twin's ground truth."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.options import (
    CamerasOption,
    DaysOption,
    JsonOption,
    SeedOption,
    StartOption,
    StoresOption,
    console,
    print_measures,
    stop_on_signals,
)
from walkout.settings import get_settings
from walkout.vocabulary import CameraSource

checkout_app = typer.Typer(
    help="The realtime checkout service: visits, carts and receipts.", no_args_is_help=True
)


@checkout_app.command("run")
def checkout_run(
    instance: Annotated[str, typer.Option(help="Name of this instance (its state snapshot).")] = "0",
    idle_exit: Annotated[
        float | None,
        typer.Option(min=0, help="Replay mode: decide everything and exit after this many idle seconds."),
    ] = None,
) -> None:
    """Consume the edge topics and publish visits, dwell paths and receipts until SIGTERM or Ctrl-C."""
    from realtime.checkout.service import run_checkout

    console.print("checkout service running; Ctrl-C or SIGTERM stops it cleanly")
    stats = run_checkout(get_settings(), stop=stop_on_signals(), idle_exit_s=idle_exit, instance=instance)
    console.print(
        f"read {stats.records} records ({stats.duplicates} duplicates); published {dict(stats.published)}"
    )


@checkout_app.command("evaluate")
def checkout_evaluate(
    stores: StoresOption = 1,
    days: DaysOption = 1,
    seed: SeedOption = 7,
    start: StartOption = None,
    cameras: CamerasOption = CameraSource.STAND_IN,
    as_json: JsonOption = False,
) -> None:
    """Simulate through the real broker and the real service, then score receipts against ground truth."""
    from twin.checkout_evaluate import evaluate_checkout
    from twin.run import plan_for
    from walkout.catalog import load_catalog

    settings = get_settings()
    plan = plan_for(
        load_catalog(), stores, days, seed, start, cameras=cameras, gate_key=settings.secret("gate_key")
    )
    score = evaluate_checkout(plan, settings.kafka_bootstrap)
    title = f"checkout vs ground truth: {stores} stores x {days} days, seed {seed}"
    print_measures(score.as_dict(), title, as_json)
