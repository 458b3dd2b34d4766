"""Start a Streamlit app (the marketers' ``dashboards/app.py``, or the review console): ``streamlit run``,
headless, without usage statistics and without looking up the machine's external address (nothing leaves
the machine).

The server process imports the heavy libraries before the first session runs: sessions run in threads,
and two of them importing pandas at the same time can see it half-initialized.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import NoReturn

APP = Path(__file__).with_name("app.py")
PRELOADED = ("pandas", "pyarrow", "polars", "duckdb", "altair", "walkout.catalog", "dashboards.page")
WILDCARD_ADDRESSES = frozenset({"0.0.0.0", "::", ""})


def streamlit_command(port: int, address: str, app: Path = APP) -> list[str]:
    """The command line that serves ``app`` (the marketers' unless told) on ``address:port``."""
    shown_address = "localhost" if address in WILDCARD_ADDRESSES else address
    options = {
        "server.port": str(port),
        "server.address": address,
        "server.headless": "true",
        "server.fileWatcherType": "none",
        "browser.gatherUsageStats": "false",
        "browser.serverAddress": shown_address,
    }
    flags = [part for name, value in options.items() for part in (f"--{name}", value)]
    return [sys.executable, "-m", "dashboards.server", "run", str(app), *flags]


def url(port: int, address: str) -> str:
    return f"http://{'localhost' if address in WILDCARD_ADDRESSES else address}:{port}"


def run_dashboard(port: int, address: str, app: Path = APP) -> NoReturn:
    """Replace this process with the Streamlit server of ``app`` (Ctrl-C or SIGTERM stops it)."""
    command = streamlit_command(port, address, app)
    sys.stdout.flush()  # what was printed must not be lost with this process image
    sys.stderr.flush()
    os.execv(command[0], command)


def _serve_preloaded() -> None:
    """``streamlit`` with its command line arguments, once the libraries the pages use are imported."""
    for module in PRELOADED:
        importlib.import_module(module)
    from streamlit.web.cli import main

    main(prog_name="streamlit")


if __name__ == "__main__":
    _serve_preloaded()
