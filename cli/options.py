"""What the commands share: the console, the options several of them take, and the checks and stop flag
of the long-running ones."""

from __future__ import annotations

import errno
import json
import re
import signal
import socket
import threading
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from walkout.errors import WalkoutError
from walkout.vocabulary import CameraSource

console = Console()


class ServeError(WalkoutError):
    """A server cannot start on the address it was given (taken, unknown, or not ours to use)."""


def stop_on_signals() -> threading.Event:
    """A stop flag that SIGTERM and Ctrl-C set, so a long-running loop finishes its batch and commits."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def calendar_date(text: str) -> date:
    """A YYYY-MM-DD option: an impossible day (2026-02-30) is named as such, not as a format mismatch."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise typer.BadParameter(f"{text} is not a date: use YYYY-MM-DD")
    year, month, day = map(int, text.split("-"))
    try:
        return date(year, month, day)
    except ValueError as error:
        raise typer.BadParameter(f"{text} is not a date: {error}") from None


def date_option(*names: str, help: str) -> Any:
    return typer.Option(*names, parser=calendar_date, metavar="YYYY-MM-DD", help=help)


def port_option(help: str) -> Any:
    return typer.Option(min=1, max=65535, help=help)


def require_free_port(host: str, port: int) -> None:
    """Fail in one line before a server starts on an address it cannot have (the servers say so late,
    in a traceback or a log of their own). The probe binds as they do, with address reuse on."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        reason = (
            "already in use: stop what listens there or pick another --port"
            if error.errno == errno.EADDRINUSE
            else error.strerror or str(error)
        )
        raise ServeError(f"cannot listen on {host}:{port}: {reason}") from None


StartOption = Annotated[date | None, date_option(help="First day (default: so the run ends yesterday).")]
StoresOption = Annotated[int, typer.Option(help="How many stores of the catalog (first ones by id).")]
DaysOption = Annotated[int, typer.Option(help="How many consecutive days per store.")]
SeedOption = Annotated[int, typer.Option(min=0, help="Random seed: the same seed gives the same events.")]
CamerasOption = Annotated[
    CameraSource,
    typer.Option(help="Camera tracks: the stand-in tracker, or rendered frames through the real pipeline."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def print_measures(measures: Mapping[str, object], title: str, as_json: bool) -> None:
    """A scoring command's figures: one JSON document, or a table of measure and value."""
    if as_json:
        print(json.dumps(dict(measures)))
        return
    table = Table("measure", "value", title=title)
    for name, value in measures.items():
        table.add_row(name.replace("_", " "), f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(table)
