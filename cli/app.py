"""The ``walkout`` command: the root group, its commands and groups, and :func:`main`, which turns every
failure into one line and an exit code.

Each command parses arguments and calls one area function. Areas are imported inside their commands,
so ``walkout --help`` does not load numpy, polars or Dagster.
"""

from __future__ import annotations

import signal
import sys
import threading
import traceback
from typing import Annotated, NoReturn

import typer
from rich.table import Table

from cli.ads import ads_app
from cli.broker import broker_app, topics_app
from cli.checkout import checkout_app
from cli.dashboard import dashboard
from cli.forecast import forecast_app
from cli.land import land_app
from cli.options import console
from cli.recsys import recsys_app
from cli.review import review_app
from cli.simulate import simulate
from cli.vision import vision_app
from cli.warehouse import ui, warehouse_app
from walkout.errors import WalkoutError
from walkout.settings import get_settings
from walkout.vocabulary import CameraSource

app = typer.Typer(
    help="walkout: the data platform of unmanned just-walk-out stores.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.command()
def config() -> None:
    """Print the effective settings (environment variables WALKOUT_*, then walkout.env, then defaults)."""
    table = Table("variable", "value", "meaning")
    for row in get_settings().as_rows():
        table.add_row(*row)
    console.print(table)


app.command()(simulate)
app.command()(ui)
app.command()(dashboard)


@app.command()
def demo(
    cameras: Annotated[
        CameraSource | None,
        typer.Option(help="Camera tracks of the streamed day (default: WALKOUT_DEMO_CAMERAS)."),
    ] = None,
) -> None:
    """Run the main job end to end on the embedded defaults and print what happened."""
    import os

    from cli.demo import run_demo

    os.environ["WALKOUT_DEMO_KEYS"] = "1"  # the demo asks for the public demo keys (a set key still wins)
    get_settings.cache_clear()
    settings = get_settings()
    if cameras is not None:
        settings = settings.model_copy(update={"demo_cameras": cameras})
    run_demo(settings, console)


app.add_typer(broker_app, name="broker")
app.add_typer(topics_app, name="topics")
app.add_typer(checkout_app, name="checkout")
app.add_typer(land_app, name="land")
app.add_typer(forecast_app, name="forecast")
app.add_typer(recsys_app, name="recsys")
app.add_typer(ads_app, name="ads")
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(vision_app, name="vision")
app.add_typer(review_app, name="review")


def _fail(message: str, exit_code: int = 1) -> NoReturn:
    print(f"walkout: error: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(exit_code)


def _shows_tracebacks() -> bool:
    try:
        return get_settings().log_level.upper() == "DEBUG"
    except WalkoutError:  # unreadable settings: the error at hand is still the one to report
        return False


_interrupted = threading.Event()


def _on_ctrl_c(signum: int, frame: object) -> None:
    _interrupted.set()
    raise KeyboardInterrupt


def main() -> None:
    """Entry point: every failure is one line on stderr and a non-zero exit, never a traceback
    (a bad command line exits 2, anything else 1; Ctrl-C exits 130)."""
    # SIGTERM unwinds like Ctrl-C, so a broker started for a command is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    # kafka-python's event loop can catch the KeyboardInterrupt into a request that then fails:
    # remember the Ctrl-C, so it still ends the command as one (130), not as that failure.
    _interrupted.clear()  # a Ctrl-C of an earlier call in this process (tests call main()) is not this one's
    signal.signal(signal.SIGINT, _on_ctrl_c)
    try:
        sys.exit(app(standalone_mode=False))  # typer's own exit code (Ctrl-C: 130), else 0
    except typer.TyperException as error:  # a bad command line
        if message := error.format_message():  # empty for a bare group: typer printed its help
            _fail(message, error.exit_code)
        sys.exit(error.exit_code)
    except Exception as error:
        if _interrupted.is_set():
            _fail("interrupted", 130)
        if isinstance(error, WalkoutError):
            _fail(str(error))
        if _shows_tracebacks():
            traceback.print_exc()
        detail = f": {error}" if str(error) else ""
        _fail(f"unexpected {type(error).__name__}{detail} (WALKOUT_LOG_LEVEL=DEBUG shows the traceback)")
