"""``walkout dashboard``: the marketers' Streamlit app."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.options import console, port_option, require_free_port


def dashboard(
    port: Annotated[int, port_option("Port of the marketers' app.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")] = (
        "127.0.0.1"
    ),
) -> None:
    """Start the marketers' dashboards (Streamlit, read-only) until Ctrl-C."""
    require_free_port(address, port)
    from dashboards.server import run_dashboard, url

    console.print(f"dashboards at {url(port, address)} (Ctrl-C stops them)")
    run_dashboard(port, address)
