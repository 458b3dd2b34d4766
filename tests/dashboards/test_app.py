"""Every page of the marketers' app under Streamlit's AppTest: on the demo warehouse, with no warehouse,
with empty marts, without marts, and with the outputs of the forecasting and recsys issues."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pytest

from dashboards.floor import PLAN_WIDTH_PX, floor_plans
from dashboards.format import zone_name
from dashboards.live import live_stores
from dashboards.navigation import PAGES, PageSpec
from walkout.contracts import Purchase, Visit
from walkout.settings import Settings

if TYPE_CHECKING:  # fixtures come from conftest.py files, which are not imported as modules here
    from streamlit.testing.v1 import AppTest

    from tests.conftest import SmallLake
    from tests.dashboards.conftest import OpenPage

pytestmark = pytest.mark.slow

STATES = ["demo_data", "no_warehouse", "empty_marts", "no_marts", "with_later_outputs"]
WAREHOUSE_PAGES = [page for page in PAGES if page.script != "live.py"]


def texts(app: AppTest) -> str:
    """Everything the page says in titles, headers, captions, messages and markdown."""
    parts = [*app.title, *app.subheader, *app.caption, *app.info, *app.warning, *app.markdown, *app.metric]
    return "\n".join(str(getattr(part, "value", "")) + str(getattr(part, "label", "")) for part in parts)


def as_text(spec: object) -> str:
    return json.dumps(spec, ensure_ascii=False)


def specs(app: AppTest) -> list[dict[str, object]]:
    return [json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart")]  # type: ignore[attr-defined]


def assert_sound(app: AppTest, page: PageSpec) -> None:
    """No exception or error on the page, its title shown, and a CSV download under every table."""
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    assert [title.value for title in app.title] == [page.title]
    assert len(app.download_button) == len(app.dataframe)
    assert all(button.proto.label == "Download as CSV" for button in app.download_button)


@pytest.mark.parametrize("page", PAGES, ids=[page.url_path for page in PAGES])
@pytest.mark.parametrize("state", STATES)
def test_every_page_opens_in_every_state(
    page: PageSpec, state: str, open_page: OpenPage, request: pytest.FixtureRequest
) -> None:
    app = open_page(request.getfixturevalue(state), page.script)
    assert_sound(app, page)
    if state == "no_warehouse" and page in WAREHOUSE_PAGES:
        assert "The warehouse has not been built yet" in texts(app)
        assert "walkout warehouse build" in texts(app)
    if state == "no_marts" and page in WAREHOUSE_PAGES:
        assert "table yet" in texts(app)
    if state == "empty_marts" and page in WAREHOUSE_PAGES:
        assert "in the warehouse yet" in texts(app) or "No store has data" in texts(app)


def test_overview_adds_up_the_landed_visits_and_receipts(
    demo_data: Settings, small_lake: SmallLake, open_page: OpenPage
) -> None:
    app = open_page(demo_data, "overview.py")
    metrics = {metric.label: metric.value for metric in app.metric}
    visits = {visit.visit_id for visit in small_lake.of_type(Visit)}
    revenue = sum(purchase.total_krw for purchase in small_lake.of_type(Purchase))
    assert metrics["Visits"] == f"{len(visits):,}"
    assert metrics["Revenue"] == f"₩{revenue:,}"
    assert metrics["Average basket"].startswith("₩")
    assert [header.value for header in app.subheader] == [
        "Headline figures",
        "By day",
        "By hour of day",
        "Per store",
    ]
    assert len(app.get("vega_lite_chart")) == 3
    by_store = app.dataframe[1].value
    basket = int(metrics["Average basket"].removeprefix("₩").replace(",", ""))
    assert by_store["Average basket"].tolist() == [basket]  # one store: the table rounds like the headline
    assert "Revenue" in by_store.columns
    assert "revenue_krw" not in by_store.columns


def test_overview_shows_revenue_net_of_review_adjustments(
    with_adjustment: Settings, small_lake: SmallLake, open_page: OpenPage
) -> None:
    app = open_page(with_adjustment, "overview.py")
    metrics = {metric.label: metric.value for metric in app.metric}
    gross = sum(purchase.total_krw for purchase in small_lake.of_type(Purchase))
    with duckdb.connect(str(with_adjustment.paths.published_warehouse_file), read_only=True) as con:
        (adjusted,) = con.execute("select sum(adjustments_krw) from marts.fct_visits").fetchone() or (0,)
    assert adjusted == -1_000
    assert metrics["Revenue"] == f"₩{gross + adjusted:,}"


def test_zone_heatmap_draws_the_floor_plan_to_scale(demo_data: Settings, open_page: OpenPage) -> None:
    app = open_page(demo_data, "zones.py")
    plan = floor_plans()[str(app.selectbox(key="zones-store").value)]
    floor, matrix, grid = specs(app)
    assert (floor["width"], floor["height"]) == (
        PLAN_WIDTH_PX,
        round(PLAN_WIDTH_PX * plan.depth_m / plan.width_m),
    )
    assert (grid["width"], grid["height"]) == (floor["width"], floor["height"])
    assert "Width (m)" in as_text(floor)
    assert "Depth from the entrance (m)" in as_text(floor)
    assert "Hour of day" in as_text(matrix)
    app.segmented_control(key="zones-measure").set_value("Revenue per visitor").run()
    assert "Revenue per visitor (₩)" in as_text(specs(app)[0])
    assert set(app.dataframe[0].value["Zone"]) <= {zone_name(zone.zone_id) for zone in plan.zones}


def test_zone_heatmap_for_a_shopper_group_never_shows_small_cells(
    demo_data: Settings, open_page: OpenPage
) -> None:
    app = open_page(demo_data, "zones.py")
    app.multiselect(key="zones-ages").set_value(["60+"]).run()
    app.multiselect(key="zones-genders").set_value(["female"]).run()
    assert_sound(app, PAGES[1])
    assert app.segmented_control(key="zones-measure").options == ["Visitors", "Dwell", "Stops"]
    by_hour = pl.from_pandas(app.dataframe[1].value)
    suppressed = by_hour.filter(pl.col("Shown as") == "suppressed")
    assert suppressed.height > 0
    assert suppressed.select("Visitors", "Stops").null_count().row(0) == (
        suppressed.height,
        suppressed.height,
    )
    assert "Conversion" not in by_hour.columns


def test_demographics_show_suppressed_cells_as_suppressed(demo_data: Settings, open_page: OpenPage) -> None:
    app = open_page(demo_data, "demographics.py")
    assert_sound(app, PAGES[2])
    cells = pl.from_pandas(app.dataframe[0].value)
    figures = [name for name in cells.columns if name not in ("Shoppers", "Category", "Shown as")]
    suppressed = cells.filter(pl.col("Shown as") == "suppressed")
    assert suppressed.height > 0
    assert all(suppressed[name].null_count() == suppressed.height for name in figures)
    partly = cells.filter(pl.col("Shown as") == "purchase figures suppressed")
    assert all(partly[name].null_count() == partly.height for name in ("Buyers", "Revenue", "Buying index"))
    shown = cells.filter(pl.col("Shown as") == "shown")
    assert shown.height > 0
    assert shown["Visitors"].null_count() == 0
    assert '"field": "status"' in as_text(specs(app)[0])  # suppressed cells are labelled, not coloured
    app.segmented_control(key="demographics-measure").set_value("Buying index").run()
    assert "Buying index (100 = store average)" in as_text(specs(app)[0])


def test_inventory_says_forecasts_are_not_built_yet(demo_data: Settings, open_page: OpenPage) -> None:
    app = open_page(demo_data, "inventory.py")
    assert_sound(app, PAGES[3])
    messages = [info.value for info in app.info]
    assert any(message.startswith("Forecasts are not built yet") for message in messages)
    assert any(message.startswith("Reorder suggestions are not built yet") for message in messages)
    stock = app.dataframe[0].value
    assert {"Product", "On the shelves (units)", "Days of cover", "Stock-out risk"} <= set(stock.columns)


def test_inventory_shows_reorders_and_forecasts_when_they_exist(
    with_later_outputs: Settings, open_page: OpenPage
) -> None:
    app = open_page(with_later_outputs, "inventory.py")
    assert_sound(app, PAGES[3])
    assert not app.info
    forecast = as_text(specs(app)[-1])
    assert "80% prediction interval" in forecast
    assert "Units per day" in forecast
    app.selectbox(key="inventory-level").set_value(95).run()
    assert "95% prediction interval" in as_text(specs(app)[-1])
    _, _, reorders, forecasts = (frame.value for frame in app.dataframe)  # stock, stock-outs, then these
    assert {"Product", "Order now (units)", "Chance of running out before the next delivery"} <= set(reorders)
    assert (reorders["Order now (units)"] >= 0).all()
    assert len(forecasts) == 14
    assert {"Low end of the 95% interval", "High end of the 80% interval"} <= set(forecasts)


def test_ads_show_lift_screens_and_segments(with_later_outputs: Settings, open_page: OpenPage) -> None:
    app = open_page(with_later_outputs, "ads.py")
    assert_sound(app, PAGES[4])
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Bought what they saw"] == "30.0%"
    charts = as_text(specs(app))
    assert "Lift (exposed vs unexposed conversion)" in charts
    assert '"title": "Shoppers"' in charts  # who saw the ad against who did not
    screens = app.dataframe[1].value
    assert set(screens["Shown to"]) == {"Known shopper (personal)", "Female 19-29"}


def test_live_says_when_kafka_is_not_reachable(no_warehouse: Settings, open_page: OpenPage) -> None:
    feed = live_stores(no_warehouse).feed
    try:
        deadline = time.monotonic() + 60
        while feed.health().cut_off is None and time.monotonic() < deadline:
            time.sleep(0.2)
        app = open_page(no_warehouse, "live.py")
        assert_sound(app, PAGES[5])
        assert "Kafka is not reachable" in texts(app)
        assert "walkout broker start" in texts(app)
    finally:
        feed.stop()
