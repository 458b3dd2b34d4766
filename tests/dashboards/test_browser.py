"""The app as a marketer meets it: ``walkout dashboard`` serving the demo warehouse, every page opened in
headless Chromium, its key elements checked and a screenshot saved (``make screenshots`` keeps them in
``screenshots/``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dashboards.navigation import PAGES
from walkout.settings import Settings

if TYPE_CHECKING:
    from tests.dashboards.conftest import Chromium, StartDashboard

pytestmark = pytest.mark.slow

# What each page must show on the demo data once Streamlit has drawn it.
ON_DEMO_DATA = {
    "overview": [
        "Headline figures",
        "Visits",
        "Revenue",
        "₩",
        "By hour of day",
        "Per store",
        "Download as CSV",
    ],
    "zones": [
        "Zones on the floor plan",
        "Hour of day by zone",
        "Floor occupancy",
        "Colour zones by",
        "Aisle 1",
    ],
    "demographics": ["Age band and gender by category", "suppressed", "Share of the category's visitors"],
    "inventory": ["Stock and stock-out risk", "Out of stock", "Stock-outs", "Forecasts are not built yet"],
    "ads": ["No ad impressions"],
    "live": ["Kafka is not reachable", "walkout simulate --speed realtime"],
}
SHOWS_EXCEPTION = "!!document.querySelector('[data-testid=\"stException\"]')"


def test_every_page_has_expectations() -> None:
    assert set(ON_DEMO_DATA) == {page.url_path for page in PAGES}


def test_every_page_in_a_browser(
    demo_data: Settings, start_dashboard: StartDashboard, chromium: Chromium, screenshots_dir: Path
) -> None:
    url = start_dashboard(demo_data)
    for number, page in enumerate(PAGES, start=1):
        address = url if number == 1 else f"{url}/{page.url_path}"
        text = chromium.open(address, [page.title, *ON_DEMO_DATA[page.url_path]])
        assert not chromium.evaluate(SHOWS_EXCEPTION), text[:3000]
        assert all(other.title in text for other in PAGES)  # the navigation lists every page
        chromium.screenshot(screenshots_dir / f"{number}-{page.url_path}.png")
        assert (screenshots_dir / f"{number}-{page.url_path}.png").stat().st_size > 10_000


def test_an_empty_data_directory_in_a_browser(
    no_warehouse: Settings, start_dashboard: StartDashboard, chromium: Chromium, screenshots_dir: Path
) -> None:
    url = start_dashboard(no_warehouse)
    text = chromium.open(url, ["Overview", "The warehouse has not been built yet", "walkout warehouse build"])
    assert not chromium.evaluate(SHOWS_EXCEPTION), text[:3000]
    chromium.screenshot(screenshots_dir / "0-no-warehouse.png")
