"""The ``walkout`` command line: thin commands, each parsing arguments and calling one area function.

Areas are imported inside their commands, so ``walkout --help`` does not load numpy, polars or Dagster.
"""

from __future__ import annotations

import signal
import sys
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ingestion.simulator.speed import Speed
from walkout.broker import EmbeddedBroker
from walkout.errors import WalkoutError
from walkout.kafka import create_topics, list_topics
from walkout.settings import get_settings

console = Console()
app = typer.Typer(
    help="walkout: the data platform of unmanned just-walk-out stores.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
broker_app = typer.Typer(help="The embedded Kafka-compatible broker for local runs.", no_args_is_help=True)
topics_app = typer.Typer(help="Kafka topics of the event contracts.", no_args_is_help=True)
app.add_typer(broker_app, name="broker")
app.add_typer(topics_app, name="topics")


@app.command()
def config() -> None:
    """Print the effective settings (environment variables WALKOUT_*, then walkout.env, then defaults)."""
    table = Table("variable", "value", "meaning")
    for row in get_settings().as_rows():
        table.add_row(*row)
    console.print(table)


@broker_app.command("start")
def broker_start() -> None:
    """Start the embedded broker in the background (no-op if it already runs)."""
    state = EmbeddedBroker(get_settings()).start()
    console.print(f"broker running: pid {state.pid}, bootstrap {state.bootstrap}, log {state.log_file}")


@broker_app.command("stop")
def broker_stop() -> None:
    """Stop the embedded broker of this data directory (its in-memory topics are lost)."""
    state = EmbeddedBroker(get_settings()).stop()
    console.print("no broker was running" if state is None else f"broker stopped (pid {state.pid})")


@broker_app.command("status")
def broker_status() -> None:
    """Say whether the embedded broker runs; exit code 3 when it does not."""
    settings = get_settings()
    if settings.kafka_bootstrap is not None:
        console.print(f"using the external cluster {settings.kafka_bootstrap}; no embedded broker")
        return
    state = EmbeddedBroker(settings).status()
    if state is None:
        console.print("broker: not running")
        raise typer.Exit(3)
    console.print(f"broker: running, pid {state.pid}, bootstrap {state.bootstrap}")


@topics_app.command("create")
def topics_create() -> None:
    """Create every contract topic that does not exist yet (partitions keyed by store)."""
    created = create_topics(get_settings())
    console.print(f"created {len(created)} topics: {', '.join(created)}" if created else "all topics exist")


@topics_app.command("list")
def topics_list() -> None:
    """List topics and their partition counts."""
    table = Table("topic", "partitions")
    for name, partitions in sorted(list_topics(get_settings()).items()):
        table.add_row(name, str(partitions))
    console.print(table)


@app.command()
def simulate(
    stores: Annotated[int, typer.Option(help="How many stores of the catalog (first ones by id).")] = 1,
    days: Annotated[int, typer.Option(help="How many consecutive days per store.")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same events.")] = 7,
    start: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="First day (default: so the run ends yesterday)."),
    ] = None,
    speed: Annotated[
        Speed, typer.Option(help="realtime paces events by the clock; max sends at once.")
    ] = Speed.MAX,
    fault: Annotated[
        list[str] | None,
        typer.Option(help="Override a fault rate, e.g. --fault late_rate=0.05 (repeatable)."),
    ] = None,
) -> None:
    """Simulate store-days and publish their edge events to Kafka, with ground truth under the data dir."""
    from ingestion.simulator.report import summary_tables
    from ingestion.simulator.run import fault_rates, ground_truth_dir, plan_for, simulate_to_kafka
    from walkout.catalog import load_catalog

    settings = get_settings()
    faults = fault_rates(fault or [])
    plan = plan_for(load_catalog(), stores, days, seed, start.date() if start else None, faults)
    with Progress(console=console, transient=True) as progress:
        summary = simulate_to_kafka(settings, plan, speed, progress)
    for table in summary_tables(summary):
        console.print(table)
    console.print(f"ground truth: {ground_truth_dir(settings)}")


@app.command()
def demo() -> None:
    """Run the main job end to end on the embedded defaults and print what happened."""
    from walkout.demo import run_demo

    run_demo(get_settings(), console)


def main() -> None:
    """Entry point: a known problem becomes one line on stderr and exit code 1, not a traceback."""
    # SIGTERM unwinds like Ctrl-C, so a broker started for a command is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        app()
    except WalkoutError as error:
        print(f"walkout: error: {error}", file=sys.stderr)
        sys.exit(1)
