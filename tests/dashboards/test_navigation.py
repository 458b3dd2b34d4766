"""How the app is put together: every page registered once, the server started without telemetry, and
numbers and names in the words a marketer reads."""

from __future__ import annotations

import importlib

import pytest
from typer.testing import CliRunner

from cli.app import app
from dashboards.format import change, count, krw, plain, segment_name, share, zone_name
from dashboards.navigation import PAGES, VIEWS_DIR, PageSpec
from dashboards.server import streamlit_command, url


def test_every_view_is_a_registered_page_and_every_page_has_a_view() -> None:
    views = {path.name for path in VIEWS_DIR.glob("*.py") if path.name != "__init__.py"}
    assert sorted(page.script for page in PAGES) == sorted(views)
    assert len({page.url_path for page in PAGES}) == len(PAGES)


@pytest.mark.parametrize("page", PAGES, ids=[page.url_path for page in PAGES])
def test_a_view_renders_only_when_streamlit_runs_it(page: PageSpec) -> None:
    module = importlib.import_module(f"dashboards.views.{page.url_path}")  # importing draws nothing
    assert callable(module.render)


def test_the_server_runs_headless_without_usage_statistics() -> None:
    command = " ".join(streamlit_command(8600, "127.0.0.1"))
    assert "run " in command
    assert "dashboards/app.py" in command
    for flag in (
        "--server.headless true",
        "--browser.gatherUsageStats false",
        "--server.port 8600",
        "--server.address 127.0.0.1",
        "--browser.serverAddress 127.0.0.1",  # no lookup of the machine's external address
    ):
        assert flag in command
    assert "--browser.serverAddress localhost" in " ".join(streamlit_command(8600, "0.0.0.0"))
    assert url(8600, "0.0.0.0") == "http://localhost:8600"


def test_walkout_dashboard_has_help() -> None:
    result = CliRunner().invoke(app, ["dashboard", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output


def test_numbers_and_names_in_plain_words() -> None:
    assert krw(1906300) == "₩1,906,300"
    assert krw(8111.6) == "₩8,112"
    assert krw(None) == "n/a"
    assert count(272.0) == "272"
    assert share(0.8640) == "86.4%"
    assert change(110, 100) == "+10.0%"
    assert change(90, 100) == "-10.0%"
    assert change(5, 0) is None
    assert change(5, None) is None
    assert plain("fresh_food") == "Fresh food"
    assert zone_name("S002-instant_noodles") == "Instant noodles"
    assert zone_name("S002-aisle-1") == "Aisle 1"
    assert zone_name("S001-alcohol_tobacco") == "Alcohol & tobacco"
    assert segment_name("19-29:female") == "Female 19-29"
    assert segment_name("60plus:male") == "Male 60+"
