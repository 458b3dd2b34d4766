"""Inventory: units on the shelves, days of cover, stock-out risk and past stock-outs per product, and
(once the forecasting assets publish them) reorder suggestions and forecasts against actual sales."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import polars as pl
import streamlit as st

from dashboards.charts import HEIGHT, Dimension, Figure, Measure, bars
from dashboards.data import BUILD_HINT, MartMissingError, NoDataError, Warehouse, require_rows
from dashboards.format import Column, Kind, columns_of, in_plain_words
from dashboards.page import chart, needed, open_page, pick_store, section, store_names, table

FORECASTS, REORDERS = "forecasts", "reorder_suggestions"
FORECAST_COLUMNS = ("store_id", "product_id", "forecast_date", "forecast_units", "lower_units", "upper_units")
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


def published_output(warehouse: Warehouse, mart: str, store_id: str, what: str) -> pl.DataFrame:
    """A store's rows of a mart another area publishes; when it is not there, say it is not built yet."""
    try:
        return warehouse.query(f"select * from marts.{mart} where store_id = ?", (store_id,))
    except MartMissingError:
        raise NoDataError(
            f"{what} are not built yet: they appear here once the forecasting assets have run; {BUILD_HINT}."
        ) from None


def forecast_against_sales(warehouse: Warehouse, store_id: str, product_id: str) -> pl.DataFrame:
    """The product's daily sales over the last weeks and its forecast with the prediction interval, as
    rows of (date, series, units, lower, upper)."""
    forecast = published_output(warehouse, FORECASTS, store_id, "Forecasts")
    missing = [name for name in FORECAST_COLUMNS if name not in forecast.columns]
    if missing:
        raise NoDataError(
            f"The forecasts table lacks the columns {', '.join(missing)}: the page cannot read it."
        )
    forecast = forecast.filter(pl.col("product_id") == product_id)
    start = forecast["forecast_date"].min()
    since = (start if isinstance(start, date) else date.today()) - timedelta(days=HISTORY_DAYS)
    sold = warehouse.query(
        """
        select sales_date as day, units_sold::double as units
        from marts.fct_sales_daily where store_id = ? and product_id = ? and sales_date >= ?
        """,
        (store_id, product_id, since),
    )
    return pl.concat(
        [
            sold.with_columns(
                series=pl.lit("Sold"), lower=pl.lit(None, pl.Float64), upper=pl.lit(None, pl.Float64)
            ),
            forecast.select(
                day=pl.col("forecast_date"),
                units=pl.col("forecast_units").cast(pl.Float64),
                series=pl.lit("Forecast"),
                lower=pl.col("lower_units").cast(pl.Float64),
                upper=pl.col("upper_units").cast(pl.Float64),
            ),
        ],
        how="diagonal_relaxed",
    ).sort("day")


def forecast_chart(frame: pl.DataFrame) -> Figure:
    """Sold units and the forecast as lines, the prediction interval as a band, with one legend."""
    series = alt.Scale(
        domain=["Sold", "Forecast", "Prediction interval"], range=["#1f77b4", "#ff7f0e", "#ffbb78"]
    )
    x = alt.X("day:T", title="Date")
    band = (
        alt.Chart(
            frame.filter(pl.col("series") == "Forecast").with_columns(band=pl.lit("Prediction interval"))
        )
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


def show_forecasts(warehouse: Warehouse, store_id: str, products: dict[str, str]) -> None:
    forecasts = published_output(warehouse, FORECASTS, store_id, "Forecasts")
    available = (
        [p for p in products if p in set(forecasts["product_id"].to_list())]
        if "product_id" in forecasts.columns
        else []
    )
    product_id = st.selectbox("Product", available, format_func=products.__getitem__, key="inventory-product")
    if product_id is None:
        raise NoDataError("No forecasts for this store yet.")
    chart(forecast_chart(forecast_against_sales(warehouse, store_id, product_id)))


def product_names(warehouse: Warehouse) -> dict[str, str]:
    frame = warehouse.query("select product_id, product_name from marts.dim_products order by product_name")
    return dict(zip(frame["product_id"].to_list(), frame["product_name"].to_list(), strict=True))


def render() -> None:
    warehouse = open_page(
        "Inventory",
        "Estimated units on the shelves, how long they last at the recent pace of sales, and what ran out.",
    )
    names = needed(lambda: store_names(warehouse, having="inventory_position"))
    store_id = needed(lambda: pick_store(names, "inventory-store"))
    days = needed(lambda: position_dates(warehouse, store_id))
    day = st.sidebar.selectbox("Stock at the end of", days, key="inventory-day") or days[0]
    products = product_names(warehouse)
    with section("Stock and stock-out risk", f"{names[store_id]}, end of {day}."):
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
    with section("Reorder suggestions", "From the demand forecasts: what to order, and when."):
        reorders = require_rows(
            published_output(warehouse, REORDERS, store_id, "Reorder suggestions"), "reorder suggestions"
        )
        if "product_id" in reorders.columns:
            reorders = reorders.with_columns(
                product=pl.col("product_id").replace_strict(products, default=None)
            )
        table(
            reorders,
            columns_of(reorders, hidden=frozenset({"store_id", "product_id"})),
            f"reorders-{store_id}",
        )
    with section(
        "Forecast against actual sales", "Daily units sold and the forecast with its prediction interval."
    ):
        show_forecasts(warehouse, store_id, products)


if __name__ == "__main__":
    render()
