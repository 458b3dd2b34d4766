"""Fixtures of the dashboard tests: data directories in every state a marketer may meet (the demo
warehouse of the warehouse tests, no warehouse, marts without rows, no marts, and the demo warehouse
with the outputs of later issues), and the app under Streamlit's AppTest."""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest
from websockets.sync.client import ClientConnection, connect

from dashboards.navigation import PAGES
from forecasting.artifacts import (
    DEMAND_FORECASTS,
    REORDER_SUGGESTIONS,
    publish_table,
)
from forecasting.policy import policy_of
from forecasting.reorder import read_positions, suggest_orders
from orchestration.build import WarehouseBuild
from walkout.settings import Settings, get_settings
from walkout.versions import new_version

if TYPE_CHECKING:  # session fixtures of tests/conftest.py
    from tests.conftest import SmallLake

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
APP_TIMEOUT_S = 180
CHROMIUM_START_S = 60
SERVER_START_S = 120
PAGE_DRAWN_S = 180
RUNNING = '[data-testid="stStatusWidget"]'
PAGE_HEIGHT_JS = "Math.max(document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight ?? 0, 600)"
OpenPage = Callable[[Settings, str], AppTest]
StartDashboard = Callable[..., str]
T = TypeVar("T")


@pytest.fixture(scope="session")
def demo_data(small_lake: SmallLake, warehouse: WarehouseBuild) -> Settings:
    """The data directory of one simulated store-day, with its warehouse built and published."""
    return small_lake.settings


@pytest.fixture
def no_warehouse(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def _publish(settings: Settings, source: Path, sql: str) -> Settings:
    """A published warehouse made by ``sql`` from the one at ``source`` (``demo``), read-only as published."""
    path = settings.paths.published_warehouse_file
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute(f"attach '{source}' as demo (read_only)")
        con.execute(sql)
        con.execute("detach demo")
    path.chmod(0o444)
    return settings


def _tables(source: Path) -> list[str]:
    with duckdb.connect(str(source), read_only=True) as con:
        return [name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()]


@pytest.fixture(scope="session")
def empty_marts(tmp_path_factory: pytest.TempPathFactory, demo_data: Settings) -> Settings:
    """Every mart published, none with a row (a warehouse built before any event landed)."""
    source = demo_data.paths.published_warehouse_file
    copies = "".join(
        f"create table marts.{name} as select * from demo.marts.{name} limit 0;" for name in _tables(source)
    )
    return _publish(
        Settings(data_dir=tmp_path_factory.mktemp("empty-marts")), source, f"create schema marts;{copies}"
    )


@pytest.fixture(scope="session")
def with_adjustment(tmp_path_factory: pytest.TempPathFactory, demo_data: Settings) -> Settings:
    """The demo warehouse as if an operator had taken ₩1,000 off its largest receipt on review."""
    taken_off = -1_000
    source = demo_data.paths.published_warehouse_file
    copies = "".join(
        f"create table marts.{name} as select * from demo.marts.{name};" for name in _tables(source)
    )
    largest = "select visit_id from marts.fct_visits order by receipt_total_krw desc, visit_id limit 1"
    adjust = (
        f"update marts.fct_visits set adjustments_krw = {taken_off}, "
        f"net_total_krw = receipt_total_krw + {taken_off} where visit_id = ({largest})"
    )
    settings = Settings(data_dir=tmp_path_factory.mktemp("with-adjustment"))
    return _publish(settings, source, f"create schema marts;{copies}{adjust}")


@pytest.fixture(scope="session")
def no_marts(tmp_path_factory: pytest.TempPathFactory, demo_data: Settings) -> Settings:
    """A published file without any mart (every page must say which table it misses)."""
    return _publish(
        Settings(data_dir=tmp_path_factory.mktemp("no-marts")),
        demo_data.paths.published_warehouse_file,
        "create schema marts",
    )


@pytest.fixture(scope="session")
def with_later_outputs(tmp_path_factory: pytest.TempPathFactory, demo_data: Settings) -> Settings:
    """The demo warehouse plus what later issues add: forecasts and reorder suggestions published by the
    forecasting code (from made-up forecasts: one day of sales is too short for a backtest), ad performance
    rows and ad impressions by screen and segment (the demo day has no screens reporting yet)."""
    source = demo_data.paths.published_warehouse_file
    copies = "".join(
        f"create table marts.{name} as select * from demo.marts.{name};" for name in _tables(source)
    )
    sql = f"""
        create schema marts; {copies}
        create or replace table marts.fct_ad_impressions as
        select store_id, 'S002-AD' || (1 + i % 3) as screen_id, 'S002-entrance' as zone_id,
            product_id, case when i % 2 = 0 then '19-29:female' end as segment, 'repurchase' as reason,
            i % 5 = 0 as is_clicked, i % 7 = 0 as is_scanned,
            sales_date as local_date, 8 + i % 12 as local_hour
        from (select *, row_number() over () as i from demo.marts.fct_sales_daily where units_sold > 2);
        insert into marts.ad_performance
        select store_id, product_id, sales_date, 40, 6, 2, 30, 9, 0.3, 200, 20, 0.1, 2.0
        from demo.marts.fct_sales_daily where units_sold > 4;
    """
    settings = _publish(Settings(data_dir=tmp_path_factory.mktemp("later-outputs")), source, sql)
    _publish_forecasts(settings)
    return settings


FORECASTS_SQL = """
    select store_id, product_id, max(sales_date) + h::int as date, 'AutoETS' as model,
        avg(units_sold) + 0.1 * h as forecast_units,
        greatest(avg(units_sold) - 1 - 0.2 * h, 0) as lo_80, avg(units_sold) + 1 + 0.2 * h as hi_80,
        greatest(avg(units_sold) - 2 - 0.3 * h, 0) as lo_95, avg(units_sold) + 2 + 0.3 * h as hi_95
    from marts.fct_sales_daily, range(1, 15) as horizon(h)
    group by store_id, product_id, h
"""


def _publish_forecasts(settings: Settings) -> None:
    """14 days of forecasts per store x product, and the reorder suggestions the forecasting code makes of
    them, published where the forecasting assets publish theirs."""
    published = settings.paths.published_warehouse_file
    with duckdb.connect(str(published), read_only=True) as con:
        forecasts = con.sql(FORECASTS_SQL).pl()
    errors = forecasts.select("store_id", "product_id").unique().with_columns(rmse=pl.lit(1.0))
    policy = policy_of(settings.paths).replenishment
    suggestions = suggest_orders(forecasts, errors, read_positions(published), policy)
    root, version = settings.paths.forecasts_dir, new_version("dashboard-tests")
    publish_table(root, DEMAND_FORECASTS, version, forecasts)
    publish_table(
        root, REORDER_SUGGESTIONS, version, suggestions.with_columns(forecast_version=pl.lit(version))
    )


@pytest.fixture
def open_page(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenPage]:
    """Run the app on a data directory and open one of its pages (by its file under dashboards/views/)."""

    def open_(settings: Settings, script: str) -> AppTest:
        monkeypatch.setenv("WALKOUT_DATA_DIR", str(settings.data_dir))
        get_settings.cache_clear()
        app = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT_S).run()
        if script != PAGES[0].script:
            app.switch_page(f"views/{script}").run()
        return app

    yield open_
    get_settings.cache_clear()


def chart_specs(app: AppTest) -> list[str]:
    """The Vega-Lite specs of the page's charts, as JSON text."""
    return [chart.proto.spec for chart in app.get("vega_lite_chart")]  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def screenshots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser test saves its screenshots: $WALKOUT_SCREENSHOTS_DIR (``make screenshots``) or a
    temporary folder."""
    chosen = os.environ.get("WALKOUT_SCREENSHOTS_DIR")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    if chosen:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
)


class Chromium:
    """Headless Chromium driven over the DevTools protocol: open a page, wait until Streamlit has drawn
    it (the app renders in the browser over a websocket), read its text, save a screenshot."""

    def __init__(self, socket: ClientConnection, width: int) -> None:
        self.socket = socket
        self.width = width
        self.calls = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.calls)
        self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=120))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def open(self, url: str, expected: list[str]) -> str:
        """Navigate and return the page's text once it shows every ``expected`` text (see :meth:`shows`)."""
        self.call("Page.navigate", url=url)
        return self.shows(expected, url)

    def shows(self, expected: list[str], where: str = "the page") -> str:
        """The page's text once it shows every ``expected`` text, the app has stopped running and the
        text stays the same for two polls in a row."""
        seen: list[str] = [""]

        def drawn() -> str | None:
            text = str(self.evaluate("document.body ? document.body.innerText : ''") or "")
            running = self.evaluate(f"!!document.querySelector('{RUNNING}')")
            settled = text == seen[-1] and all(part in text for part in expected) and not running
            seen.append(text)
            return text if settled else None

        try:
            return _wait_for(drawn, f"{where} showing {expected}", PAGE_DRAWN_S, poll_s=0.5)
        except TimeoutError as error:
            raise TimeoutError(f"{error}; the page ends with: {seen[-1][-3000:]}") from None

    def type_into(self, label: str, value: str) -> None:
        """Type ``value`` into the text input labelled ``label`` as a person would (React sees the input)."""
        typed = self.evaluate(
            f"""(() => {{
                const input = document.querySelector('input[aria-label={json.dumps(label)}]');
                if (!input) return false;
                const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
                setValue.call(input, {json.dumps(value)});
                input.dispatchEvent(new Event('input', {{bubbles: true}}));
                return true;
            }})()"""
        )
        assert typed, f"no text input labelled {label!r}"

    def click(self, text: str) -> None:
        """Click the button (or tab) that says ``text``."""
        clicked = self.evaluate(
            f"""(() => {{
                const button = [...document.querySelectorAll('button, [role="tab"]')]
                    .find(b => b.innerText.trim() === {json.dumps(text)});
                if (!button) return false;
                button.click();
                return true;
            }})()"""
        )
        assert clicked, f"no button {text!r}"

    def screenshot(self, path: Path) -> None:
        """The whole page, however long, as a PNG."""
        height = self.evaluate(PAGE_HEIGHT_JS)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=int(height) + 40,
            deviceScaleFactor=1,
            mobile=False,
        )
        time.sleep(1.0)  # let the charts re-layout to the new size
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))
        self.call("Emulation.clearDeviceMetricsOverride")


def _wait_for(check: Callable[[], T | None], what: str, timeout_s: float, poll_s: float = 0.2) -> T:
    """The first non-None answer of ``check``; TimeoutError naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = check()
        if answer is not None:
            return answer
        time.sleep(poll_s)
    raise TimeoutError(f"no {what} after {timeout_s:.0f} s")


def _devtools_port(profile: Path) -> int | None:
    active = profile / "DevToolsActivePort"
    text = active.read_text() if active.exists() else ""
    return int(text.split()[0]) if text.strip() else None


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    """Headless Chromium (Debian's ``chromium`` package, which ``make test`` installs)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip(
            "chromium is not installed and `make test` could not install it (apt-get install chromium)"
        )
    profile, width = tmp_path_factory.mktemp("chromium-profile"), 1400
    process = subprocess.Popen(
        [
            executable,
            *CHROMIUM_FLAGS,
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            f"--window-size={width},1000",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port = _wait_for(lambda: _devtools_port(profile), "chromium's DevTools port", CHROMIUM_START_S)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as answer:
            page = next(target for target in json.load(answer) if target["type"] == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=30) as socket:
            yield Chromium(socket, width)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _healthy(url: str) -> bool | None:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as answer:
            return True if answer.status == 200 else None
    except OSError:
        return None


@pytest.fixture
def start_dashboard() -> Iterator[StartDashboard]:
    """Start ``walkout dashboard`` (or another Streamlit app's command, e.g. ``review console``, with more
    environment) on a free port for a data directory; returns its address."""
    servers: list[subprocess.Popen[bytes]] = []

    def start(settings: Settings, command: tuple[str, ...] = ("dashboard",), **env: str) -> str:
        port = _free_port()
        walkout = Path(sys.executable).with_name("walkout")
        server = subprocess.Popen(
            [str(walkout), *command, "--port", str(port)],
            env=os.environ | {"WALKOUT_DATA_DIR": str(settings.data_dir), **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        servers.append(server)
        url = f"http://127.0.0.1:{port}"
        _wait_for(
            lambda: _healthy(url) if server.poll() is None else False, "dashboard server", SERVER_START_S
        )
        assert server.poll() is None, f"walkout {' '.join(command)} exited"
        return url

    yield start
    for server in servers:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
