"""``walkout ads``: the ad-screen HTTP API and the keys its callers use."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.options import console, port_option, require_free_port
from walkout.settings import get_settings

ads_app = typer.Typer(help="The ad-screen HTTP API.", no_args_is_help=True)


@ads_app.command("serve")
def ads_serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, port_option("Port to listen on.")] = 8000,
) -> None:
    """Serve ads to the screens (and the member app) until Ctrl-C, following the live topics in Kafka."""
    require_free_port(host, port)
    from recsys.api.app import serve
    from recsys.api.keys import master_key

    settings = get_settings()
    master_key(settings)  # an unset key is refused in one line before anything is announced or started
    console.print(f"ad API at http://{host}:{port} (docs at /docs); Ctrl-C stops it")
    serve(settings, host, port)


@ads_app.command("keys")
def ads_keys() -> None:
    """Print each ad screen's key and the member app's key (derived from WALKOUT_AD_API_KEY)."""
    from recsys.api.keys import master_key, member_app_key, screen_key, screens_of
    from walkout.catalog import load_catalog

    settings = get_settings()
    master = master_key(settings)
    demo = settings.ad_api_key is None  # the key resolved, so the demo keys were asked for
    title = f"{'PUBLIC DEMO ' if demo else ''}ad API keys (Authorization: Bearer <key>)"
    table = Table("caller", "store", "zone", "key", title=title)
    for screen_id, screen in sorted(screens_of(load_catalog()).items()):
        table.add_row(screen_id, screen.store.store_id, screen.screen.zone_id, screen_key(master, screen_id))
    table.add_row("member app", "", "", member_app_key(master))
    console.print(table)
    if demo:
        console.print("[yellow]demo keys:[/yellow] anyone can derive them: set WALKOUT_AD_API_KEY in a store")
