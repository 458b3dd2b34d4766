"""Overview: visits, buyers, conversion, average basket and revenue by day and hour, per store and across
stores, against the previous period of the same length."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl
import streamlit as st

from dashboards.charts import Dimension, Measure, bars, over_time
from dashboards.data import NoDataError, Slice, Warehouse, available_period, require_rows
from dashboards.format import Column, Kind, change, count, krw, share
from dashboards.page import chart, needed, open_page, pick_slice, section, store_names, table

MEASURES = {
    "Revenue": Measure("revenue_krw", "Revenue (₩)"),
    "Visits": Measure("visits", "Visits"),
    "Buyers": Measure("buyers", "Buyers (shoppers who paid)"),
    "Conversion": Measure("conversion", "Conversion (share of visits that bought)", ".0%"),
    "Average basket": Measure("average_basket_krw", "Average basket (₩ per receipt)"),
}
STORE = Dimension("store", "Store")
STORE_COLUMNS = [
    Column("store", "Store"),
    Column("visits", "Visits", Kind.COUNT),
    Column("buyers", "Buyers", Kind.COUNT, "Distinct members who paid for something"),
    Column("conversion", "Conversion", Kind.SHARE, "Share of visits that ended with a receipt"),
    Column("average_basket_krw", "Average basket", Kind.KRW, "Revenue per receipt"),
    Column("revenue_krw", "Revenue", Kind.KRW),
    Column("previous_revenue_krw", "Revenue, previous period", Kind.KRW),
    Column("revenue_change", "Revenue change", Kind.SHARE),
]
DAILY_COLUMNS = [Column("local_date", "Date", Kind.DATE), *STORE_COLUMNS[:6]]
GROUPINGS = frozenset({"store_id", "local_date", "local_hour"})


def visit_summary(warehouse: Warehouse, scope: Slice, by: Sequence[str] = ()) -> pl.DataFrame:
    """Visits, buyers, receipts, revenue (net of review adjustments), conversion and average basket of the
    slice, grouped ``by``."""
    if not GROUPINGS.issuperset(by):
        raise ValueError(f"cannot group visits by {sorted(set(by) - GROUPINGS)}")
    where, params = scope.where()
    keys = ", ".join(by)
    return warehouse.query(
        f"""
        select {keys}{"," if by else ""}
            count(*) as visits,
            count(distinct shopper_id) filter (where has_purchase) as buyers,
            count(*) filter (where has_purchase) as receipts,
            -- net: what the visits are charged once operators' review decisions are applied
            coalesce(sum(net_total_krw), 0) as revenue_krw,
            receipts / nullif(visits, 0) as conversion,
            revenue_krw / nullif(receipts, 0) as average_basket_krw
        from marts.fct_visits
        where {where}
        {f"group by {keys} order by {keys}" if by else ""}
        """,
        params,
    )


def named(frame: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """The frame with a ``store`` column of store names."""
    return frame.with_columns(store=pl.col("store_id").replace_strict(names, default=pl.col("store_id")))


def per_store(warehouse: Warehouse, scope: Slice, names: dict[str, str]) -> pl.DataFrame:
    """Each store's figures with its revenue in the previous period and the change."""
    current = visit_summary(warehouse, scope, ["store_id"])
    previous = visit_summary(warehouse, scope.before(), ["store_id"]).select(
        "store_id", previous_revenue_krw="revenue_krw"
    )
    return named(current.join(previous, on="store_id", how="left"), names).with_columns(
        revenue_change=pl.col("revenue_krw") / pl.col("previous_revenue_krw") - 1
    )


def show_headline(warehouse: Warehouse, scope: Slice) -> None:
    now = visit_summary(warehouse, scope).row(0, named=True)
    before = visit_summary(warehouse, scope.before()).row(0, named=True)
    if not now["visits"]:
        raise NoDataError("No visits for the chosen filters.")
    against = "vs the period before" if before["visits"] else "nothing to compare with"
    figures: list[tuple[str, str, Callable[[float | None], str]]] = [
        ("Visits", "visits", count),
        ("Buyers", "buyers", count),
        ("Conversion", "conversion", share),
        ("Average basket", "average_basket_krw", krw),
        ("Revenue", "revenue_krw", krw),
    ]
    for column, (label, name, shown) in zip(st.columns(len(figures)), figures, strict=True):
        column.metric(
            label, shown(now[name]), delta=change(now[name], before[name]), delta_description=against
        )


def render() -> None:
    warehouse = open_page(
        "Overview", "How many came, how many bought and for how much, per store and across the chain."
    )
    scope = needed(
        lambda: pick_slice(
            warehouse, available_period(warehouse, "fct_visits", "local_date", "visits"), "overview"
        )
    )
    names = store_names(warehouse)
    with section(
        "Headline figures", f"{scope.period}, against {scope.before().period} (the same length before it)."
    ):
        show_headline(warehouse, scope)
    measure = MEASURES[
        st.segmented_control(
            "Measure", list(MEASURES), default="Revenue", required=True, key="overview-measure"
        )
        or "Revenue"
    ]
    with section("By day"):
        daily = named(
            require_rows(visit_summary(warehouse, scope, ["local_date", "store_id"]), "visits"), names
        )
        chart(over_time(daily, Dimension("local_date", "Date", "T"), measure, STORE))
        table(daily, DAILY_COLUMNS, "visits-by-day")
    with section(
        "By hour of day", "Summed over the chosen dates, by the hour shoppers entered (store time)."
    ):
        hourly = named(
            require_rows(visit_summary(warehouse, scope, ["local_hour", "store_id"]), "visits"), names
        )
        chart(over_time(hourly, Dimension("local_hour", "Hour of day", "O"), measure, STORE))
    with section("Per store"):
        stores = require_rows(per_store(warehouse, scope, names), "visits")
        chart(bars(stores, STORE, measure))
        table(stores, STORE_COLUMNS, "visits-by-store")


if __name__ == "__main__":
    render()
