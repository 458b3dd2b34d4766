"""Ads: what the in-store screens show, to which shopper segments, and whether shoppers who saw an ad
bought the product more often than the store's other shoppers that day (lift)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards.charts import Dimension, Measure, bars, matrix
from dashboards.data import Slice, Warehouse, available_period, require_rows
from dashboards.format import Column, Kind, count, in_plain_words, segment_name, share, zone_name
from dashboards.page import chart, needed, open_page, pick_slice, section, table

PERSONAL = "Known shopper (personal)"
LIFT = Measure("lift", "Lift (exposed vs unexposed conversion)", "+.0%")
CONVERSION = Measure("conversion", "Conversion (share of shoppers who bought it)", ".0%")
IMPRESSIONS = Measure("impressions", "Impressions")
PRODUCT_COLUMNS = [
    Column("product_name", "Product"),
    Column("impressions", "Impressions", Kind.COUNT),
    Column("click_rate", "Clicked", Kind.SHARE),
    Column("scans", "QR scans", Kind.COUNT),
    Column("exposed_shoppers", "Shoppers who saw it", Kind.COUNT),
    Column("exposed_conversion", "Bought it, having seen it", Kind.SHARE),
    Column("unexposed_conversion", "Bought it, not having seen it", Kind.SHARE),
    Column(
        "lift", "Lift", Kind.SHARE, "Conversion of shoppers who saw the ad against those who did not, minus 1"
    ),
]
SCREEN_COLUMNS = [
    Column("screen_id", "Screen"),
    Column("zone", "Zone"),
    Column("segment_name", "Shown to"),
    Column("impressions", "Impressions", Kind.COUNT),
    Column("click_rate", "Clicked", Kind.SHARE),
    Column("scans", "QR scans", Kind.COUNT),
    Column("products", "Products shown", Kind.COUNT),
]


def product_performance(warehouse: Warehouse, scope: Slice) -> pl.DataFrame:
    """Per advertised product: impressions, clicks, scans, conversion of exposed and unexposed shoppers
    and the lift, summed over the slice's stores and dates."""
    where, params = scope.where(hour_column=None)
    return warehouse.query(
        f"""
        with products as (
            select product_name,
                sum(impressions) as impressions,
                sum(clicks) / nullif(sum(impressions), 0) as click_rate,
                sum(scans) as scans,
                sum(exposed_shoppers) as exposed_shoppers,
                sum(exposed_buyers) as exposed_buyers,
                sum(exposed_buyers) / nullif(sum(exposed_shoppers), 0) as exposed_conversion,
                sum(unexposed_buyers) / nullif(sum(unexposed_shoppers), 0) as unexposed_conversion
            from marts.ad_performance
            inner join marts.dim_products using (product_id)
            where {where}
            group by product_name
        )
        select *, exposed_conversion / nullif(unexposed_conversion, 0) - 1 as lift
        from products
        order by impressions desc
        """,
        params,
    )


def screen_segments(warehouse: Warehouse, scope: Slice) -> pl.DataFrame:
    """Per screen and segment: impressions, click rate, scans and how many products were shown."""
    where, params = scope.where()
    return warehouse.query(
        f"""
        select screen_id, any_value(zone_id) as zone_id, coalesce(segment, '{PERSONAL}') as segment,
            count(*) as impressions,
            avg(is_clicked::int) as click_rate,
            count(*) filter (where is_scanned) as scans,
            count(distinct product_id) as products
        from marts.fct_ad_impressions
        where {where}
        group by all
        order by screen_id, impressions desc
        """,
        params,
    ).with_columns(
        zone=in_plain_words("zone_id", zone_name), segment_name=in_plain_words("segment", segment_name)
    )


def show_headline(products: pl.DataFrame) -> None:
    total = {
        name: float(products[name].sum())
        for name in ("impressions", "scans", "exposed_shoppers", "exposed_buyers")
    }
    reached = total["exposed_shoppers"]
    figures = {
        "Impressions": count(total["impressions"]),
        "QR scans": count(total["scans"]),
        "Shoppers reached": count(reached),
        "Bought what they saw": share(total["exposed_buyers"] / reached if reached else None),
    }
    for column, (label, value) in zip(st.columns(len(figures)), figures.items(), strict=True):
        column.metric(label, value)


def render() -> None:
    warehouse = open_page(
        "Ads", "What the in-store screens show, to whom, and whether shoppers who saw an ad bought more."
    )
    scope = needed(
        lambda: pick_slice(
            warehouse,
            available_period(warehouse, "ad_performance", "local_date", "ad impressions"),
            "ads",
            hours=False,
        )
    )
    with section(
        "Lift per product", f"{scope.period}. Conversion within the attribution window after the ad."
    ):
        products = require_rows(product_performance(warehouse, scope), "ad impressions")
        show_headline(products)
        top = products.head(15)
        conversions = top.unpivot(
            ["exposed_conversion", "unexposed_conversion"],
            index="product_name",
            variable_name="who",
            value_name="conversion",
        ).with_columns(
            who=pl.col("who").replace({"exposed_conversion": "Saw the ad", "unexposed_conversion": "Did not"})
        )
        chart(
            bars(
                conversions,
                Dimension("product_name", "Product"),
                CONVERSION,
                split=Dimension("who", "Shoppers"),
            )
        )
        chart(bars(top.drop_nulls("lift"), Dimension("product_name", "Product"), LIFT))
        table(products, PRODUCT_COLUMNS, "ads-by-product")
    with section("Screens and segments", "What each screen showed, and to which shopper segments."):
        screens = require_rows(screen_segments(warehouse, scope), "ad impressions")
        chart(
            matrix(
                screens, Dimension("segment_name", "Shown to"), Dimension("screen_id", "Screen"), IMPRESSIONS
            )
        )
        table(screens, SCREEN_COLUMNS, "ads-by-screen")


if __name__ == "__main__":
    render()
