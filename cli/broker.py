"""``walkout broker`` and ``walkout topics``: the embedded broker of local runs and the contract topics."""

from __future__ import annotations

import typer
from rich.table import Table

from cli.options import console
from walkout.broker import EmbeddedBroker
from walkout.kafka import create_topics, list_topics
from walkout.settings import get_settings

broker_app = typer.Typer(help="The embedded Kafka-compatible broker for local runs.", no_args_is_help=True)
topics_app = typer.Typer(help="Kafka topics of the event contracts.", no_args_is_help=True)


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
