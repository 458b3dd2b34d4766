"""Inventory: units on the shelves, days of cover, stock-out risk and past stock-outs per product, and
(once the forecasting assets publish them) reorder suggestions and forecasts against actual sales."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import polars as pl
import streamlit as st

from dashboards.charts import HEIGHT, Dimension, Figure, Measure, bars
from dashboards.data import BUILD_HINT, NoDataError, Warehouse, published_table, require_rows
from dashboards.format import Column, Kind, in_plain_words
from dashboards.page import chart, needed, open_page, pick_store, section, table
from forecasting.artifacts import DEMAND_FORECASTS, REORDER_SUGGESTIONS, latest_path
from walkout.settings import get_settings

FORECAST_UNITS = "forecast_units"
HISTORY_DAYS = 28
OUT, BEFORE_DELIVERY, LOW, OK, NO_SALES = (
    "Out of stock",
    "Runs out before a delivery",
    "Low",
    "OK",
    "No recent sales",
)
RISK_ORDER = [OUT, BEFORE_DELIVERY, LOW, OK, NO_SALES]
STOCK_COLUMNS = [
    Column("product_name", "Product"),
    Column("category_name", "Category"),
    Column("risk", "Stock-out risk", help="Days of cover against the supplier's lead time"),
    Column("on_hand_units", "On the shelves (units)", Kind.COUNT, "Estimated at the end of the day"),
    Column("capacity_units", "Shelf capacity (units)", Kind.COUNT),
    Column("fill_share", "Shelves filled", Kind.SHARE),
    Column("units_sold", "Sold that day (units)", Kind.COUNT),
    Column("avg_daily_units_7d", "Sold per day, last 7 days", Kind.DECIMAL),
    Column("days_of_cover", "Days of cover", Kind.DECIMAL, "Units on the shelves / units sold per day"),
    Column("lead_time_days", "Supplier lead time (days)", Kind.COUNT),
]
STOCKOUT_COLUMNS = [
    Column("product_name", "Product"),
    Column("stockouts", "Times a shelf ran empty", Kind.COUNT),
    Column("hours_out", "Hours empty", Kind.DECIMAL),
    Column("last_stocked_out_at", "Last ran empty (store time)", Kind.DATETIME),
]
REORDER_COLUMNS = [
    Column("product_name", "Product"),
    Column("category_name", "Category"),
    Column("suggested_order_units", "Order now (units)", Kind.COUNT, "Up to the shelf's capacity"),
    Column("stockout_risk", "Chance of running out before the next delivery", Kind.SHARE),
    Column("stockout_date", "Forecast to run out on", Kind.DATE),
    Column("on_hand_units", "On the shelves (units)", Kind.COUNT),
    Column("reorder_point_units", "Reorder point (units)", Kind.DECIMAL, "Order when stock falls below it"),
    Column("safety_stock_units", "Safety stock (units)", Kind.DECIMAL),
    Column("forecast_daily_units", "Forecast per day (units)", Kind.DECIMAL),
    Column("days_of_cover", "Days of cover (forecast)", Kind.DECIMAL),
    Column("lead_time_days", "Lead time (days)", Kind.COUNT),
    Column("review_period_days", "Ordered every (days)", Kind.COUNT),
    Column("shelf_too_small", "Shelf smaller than the reorder point"),
]
FORECAST_COLUMNS = [
    Column("product_name", "Product"),
    Column("date", "Date", Kind.DATE),
    Column("model", "Model"),
    Column(FORECAST_UNITS, "Forecast (units)", Kind.DECIMAL),
]
UNITS = Measure("units", "Units per day", ",.1f")
HOURS_OUT = Measure("hours_out", "Hours a shelf stood empty", ",.1f")


def position_dates(warehouse: Warehouse, store_id: str) -> list[date]:
    dates = warehouse.query(
        "select distinct position_date from marts.inventory_position where store_id = ? order by 1 desc",
        (store_id,),
    )
    return dates["position_date"].to_list()


def stock_position(warehouse: Warehouse, store_id: str, day: date) -> pl.DataFrame:
    """Each product's stock at the end of ``day`` with days of cover and a stock-out risk."""
    return warehouse.query(
        f"""
        select product_name, category, on_hand_units, capacity_units,
            on_hand_units / nullif(capacity_units, 0) as fill_share,
            units_sold, avg_daily_units_7d, days_of_cover, lead_time_days,
            case
                when on_hand_units = 0 then '{OUT}'
                when days_of_cover is null then '{NO_SALES}'
                when days_of_cover < lead_time_days then '{BEFORE_DELIVERY}'
                when days_of_cover < lead_time_days + 1 then '{LOW}'
                else '{OK}'
            end as risk
        from marts.inventory_position
        inner join marts.dim_products using (product_id, category)
        where store_id = ? and position_date = ?
        order by days_of_cover nulls last, product_name
        """,
        (store_id, day),
    ).with_columns(category_name=in_plain_words("category"))


def stockouts(warehouse: Warehouse, store_id: str, first: date, last: date) -> pl.DataFrame:
    """Per product: how often a shelf ran empty between two local dates, and for how long."""
    return warehouse.query(
        """
        select product_name, count(*) as stockouts, sum(minutes_out_of_stock) / 60 as hours_out,
            max(timezone(timezone, stocked_out_at)) as last_stocked_out_at
        from marts.stockouts
        inner join marts.dim_products using (product_id)
        inner join marts.dim_stores using (store_id)
        where store_id = ?
            and cast(timezone(timezone, stocked_out_at) as date) between ? and ?
        group by product_name
        order by hours_out desc
        """,
        (store_id, first, last),
    )


def forecasting_output(name: str, store_id: str, what: str) -> pl.DataFrame:
    """A store's rows of the latest table the forecasting assets publish; until they have run, a message
    saying so."""
    path = latest_path(get_settings().paths.forecasts_dir, name)
    missing = (
        f"{what} are not built yet: the warehouse build makes them once the sales history is long enough "
        f"for a backtest; {BUILD_HINT}."
    )
    return published_table(path, missing).filter(pl.col("store_id") == store_id)


def interval_levels(forecasts: pl.DataFrame) -> list[int]:
    """The prediction intervals published with the forecasts (``lo_80``/``hi_80`` → 80), narrowest first."""
    return sorted(int(name.removeprefix("lo_")) for name in forecasts.columns if name.startswith("lo_"))


def forecast_against_sales(
    warehouse: Warehouse, forecasts: pl.DataFrame, product_id: str, level: int
) -> pl.DataFrame:
    """One product's daily sales over the last weeks and its forecast with the ``level`` % interval, as
    rows of (day, series, units, lower, upper)."""
    forecast = forecasts.filter(pl.col("product_id") == product_id)
    since: date = forecast.select(pl.col("date").min()).item() - timedelta(days=HISTORY_DAYS)
    sold = warehouse.query(
        """
        select sales_date as day, units_sold::double as units
        from marts.fct_sales_daily where store_id = ? and product_id = ? and sales_date >= ?
        """,
        (str(forecast["store_id"][0]), product_id, since),
    )
    no_interval = {"lower": pl.lit(None, pl.Float64), "upper": pl.lit(None, pl.Float64)}
    return pl.concat(
        [
            sold.with_columns(series=pl.lit("Sold"), **no_interval),
            forecast.select(
                day=pl.col("date"),
                units=pl.col(FORECAST_UNITS).cast(pl.Float64),
                series=pl.lit("Forecast"),
                lower=pl.col(f"lo_{level}").cast(pl.Float64),
                upper=pl.col(f"hi_{level}").cast(pl.Float64),
            ),
        ],
        how="diagonal_relaxed",
    ).sort("day")


def forecast_chart(frame: pl.DataFrame, level: int) -> Figure:
    """Sold units and the forecast as lines, the prediction interval as a band, with one legend."""
    interval = f"{level}% prediction interval"
    series = alt.Scale(domain=["Sold", "Forecast", interval], range=["#1f77b4", "#ff7f0e", "#ffbb78"])
    x = alt.X("day:T", title="Date")
    band = (
        alt.Chart(frame.filter(pl.col("series") == "Forecast").with_columns(band=pl.lit(interval)))
        .mark_area(opacity=0.5)
        .encode(
            x=x,
            y=alt.Y("lower:Q", title=UNITS.title),
            y2="upper:Q",
            fill=alt.Fill("band:N", title="", scale=series),
            tooltip=[
                alt.Tooltip("day:T", title="Date"),
                alt.Tooltip("lower:Q", title="Low", format=",.1f"),
                alt.Tooltip("upper:Q", title="High", format=",.1f"),
            ],
        )
    )
    lines = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=x,
            y=UNITS.encode(alt.Y),
            color=alt.Color("series:N", title="", scale=series),
            strokeDash=alt.StrokeDash("series:N", legend=None),
            tooltip=[
                alt.Tooltip("day:T", title="Date"),
                alt.Tooltip("series:N", title="Series"),
                UNITS.tooltip(),
            ],
        )
    )
    figure: Figure = alt.layer(band, lines).properties(height=HEIGHT)
    return figure


def show_reorders(store_id: str) -> None:
    suggestions = forecasting_output(REORDER_SUGGESTIONS, store_id, "Reorder suggestions")
    suggestions = require_rows(suggestions, "reorder suggestions").sort(
        "suggested_order_units", "stockout_risk", descending=True
    )
    to_order = suggestions.filter(pl.col("suggested_order_units") > 0)
    level = suggestions["service_level"][0]
    st.caption(
        f"{to_order.height} of {suggestions.height} products to order now, for a {level:.0%} chance of not "
        f"running out before the next delivery; stock as of {suggestions['position_date'][0]}."
    )
    table(
        suggestions.with_columns(category_name=in_plain_words("category")),
        REORDER_COLUMNS,
        f"reorders-{store_id}",
    )


def show_forecasts(warehouse: Warehouse, store_id: str, products: dict[str, str]) -> None:
    forecasts = require_rows(forecasting_output(DEMAND_FORECASTS, store_id, "Forecasts"), "forecasts")
    by_demand = (
        forecasts.group_by("product_id")
        .agg(pl.col(FORECAST_UNITS).sum())
        .sort(FORECAST_UNITS, descending=True)
    )
    choices = [product for product in by_demand["product_id"].to_list() if product in products]
    left, right = st.columns([3, 1])
    product_id = left.selectbox(
        "Product (most demand first)", choices, format_func=products.__getitem__, key="inventory-product"
    )
    levels = interval_levels(forecasts)
    level = right.selectbox(
        "Prediction interval", levels, format_func=lambda level: f"{level}%", key="inventory-level"
    )
    if product_id is None or level is None:
        raise NoDataError("No forecasts for this store's products.")
    chart(forecast_chart(forecast_against_sales(warehouse, forecasts, product_id, level), level))
    table(
        forecasts.filter(pl.col("product_id") == product_id)
        .sort("date")
        .with_columns(product_name=pl.lit(products[product_id])),
        [*FORECAST_COLUMNS, *(column for level in levels for column in interval_columns(level))],
        f"forecast-{store_id}-{product_id}",
    )


def interval_columns(level: int) -> list[Column]:
    return [
        Column(f"lo_{level}", f"Low end of the {level}% interval", Kind.DECIMAL),
        Column(f"hi_{level}", f"High end of the {level}% interval", Kind.DECIMAL),
    ]


def product_names(warehouse: Warehouse) -> dict[str, str]:
    frame = warehouse.query("select product_id, product_name from marts.dim_products order by product_name")
    return dict(zip(frame["product_id"].to_list(), frame["product_name"].to_list(), strict=True))


def render() -> None:
    warehouse = open_page(
        "Inventory",
        "Estimated units on the shelves, how long they last at the recent pace of sales, and what ran out.",
    )
    store_id, store_name = pick_store(warehouse, "inventory_position", "inventory-store")
    days = needed(lambda: position_dates(warehouse, store_id))
    day = st.sidebar.selectbox("Stock at the end of", days, key="inventory-day") or days[0]
    with section("Stock and stock-out risk", f"{store_name}, end of {day}."):
        stock = require_rows(stock_position(warehouse, store_id, day), "stock positions")
        counts = stock.group_by("risk").len("products")
        chart(
            bars(
                counts, Dimension("risk", "Stock-out risk"), Measure("products", "Products"), sort=RISK_ORDER
            )
        )
        table(stock, STOCK_COLUMNS, f"stock-{store_id}-{day}")
    with section("Stock-outs", f"Shelves that ran empty in the week up to {day}, longest first."):
        empty = require_rows(stockouts(warehouse, store_id, day - timedelta(days=6), day), "stock-outs")
        chart(bars(empty.head(15), Dimension("product_name", "Product"), HOURS_OUT))
        table(empty, STOCKOUT_COLUMNS, f"stockouts-{store_id}-{day}")
    with section("Reorder suggestions", "From the demand forecasts: what to order now, most urgent first."):
        show_reorders(store_id)
    with section(
        "Forecast against actual sales", "Daily units sold, then the forecast with its prediction interval."
    ):
        show_forecasts(warehouse, store_id, product_names(warehouse))


if __name__ == "__main__":
    render()
