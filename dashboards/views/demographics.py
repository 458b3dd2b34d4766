"""Demographics: age band x gender x category of the paying members, as shares of the category and as an
index against the store average. Cells behind too few shoppers are shown as suppressed, never as numbers."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards.charts import Dimension, Measure, matrix
from dashboards.data import AGE_BANDS, GENDERS, Warehouse, require_rows
from dashboards.format import Column, Kind, in_plain_words, plain
from dashboards.page import chart, open_page, pick_store, section, table

SHOWN, SUPPRESSED, PURCHASES_SUPPRESSED = "shown", "suppressed", "purchase figures suppressed"
# Title → (measure, whether it is a purchase figure: blank when fewer than k of the cell bought).
MEASURES = {
    "Share of the category's visitors": (
        Measure("visitor_share", "Share of the category's visitors", ".0%"),
        False,
    ),
    "Share of the category's revenue": (
        Measure("revenue_share", "Share of the category's revenue", ".0%"),
        True,
    ),
    "Buying index": (Measure("penetration_index", "Buying index (100 = store average)", ",.0f"), True),
}
CELL_COLUMNS = [
    Column("shoppers_group", "Shoppers"),
    Column("category_name", "Category"),
    Column(
        "status",
        "Shown as",
        help="Suppressed: too few shoppers (or buyers) behind it to show (see the caption)",
    ),
    Column("visitors", "Visitors", Kind.COUNT, "Shoppers of the group who entered the category's zone"),
    Column("visitor_share", "Share of the category's visitors", Kind.SHARE),
    Column("buyers", "Buyers", Kind.COUNT),
    Column("revenue_krw", "Revenue", Kind.KRW),
    Column("revenue_share", "Share of the category's revenue", Kind.SHARE),
    Column("penetration", "Share of the group who bought", Kind.SHARE),
    Column("penetration_index", "Buying index", Kind.INDEX, "100 = the store average"),
]


def store_categories(warehouse: Warehouse, store_id: str) -> list[str]:
    """The categories a store's zones hold."""
    return warehouse.query(
        "select distinct unnest(categories) as category from marts.dim_zones where store_id = ? order by 1",
        (store_id,),
    )["category"].to_list()


def demographic_cells(warehouse: Warehouse, store_id: str) -> pl.DataFrame:
    """Every age band x gender x category of the store; those the warehouse suppressed have no figures
    and the status ``suppressed``."""
    shown = warehouse.query("select * from marts.demographic_heatmap where store_id = ?", (store_id,))
    grid = (
        pl.DataFrame({"age_band": AGE_BANDS})
        .join(pl.DataFrame({"gender": GENDERS}), how="cross")
        .join(pl.DataFrame({"category": store_categories(warehouse, store_id)}), how="cross")
    )
    return grid.join(shown.drop("store_id"), on=["age_band", "gender", "category"], how="left").with_columns(
        status=pl.when(pl.col("cell_shoppers").is_null())
        .then(pl.lit(SUPPRESSED))
        .when(~pl.col("purchases_shown"))
        .then(pl.lit(PURCHASES_SUPPRESSED))
        .otherwise(pl.lit(SHOWN)),
        shoppers_group=in_plain_words("gender") + " " + pl.col("age_band"),
        category_name=in_plain_words("category"),
    )


def for_measure(cells: pl.DataFrame, measure: Measure, purchase_figure: bool) -> pl.DataFrame:
    """The cells with one measure; a purchase figure of a cell with too few buyers is suppressed too."""
    hidden = pl.col("status") == SUPPRESSED
    if purchase_figure:
        hidden = hidden | (pl.col("status") == PURCHASES_SUPPRESSED)
    return cells.select(
        "shoppers_group",
        "category_name",
        pl.when(hidden).then(None).otherwise(pl.col(measure.name)).alias(measure.name),
        status=pl.when(hidden).then(pl.lit(SUPPRESSED)).otherwise(pl.lit(SHOWN)),
    )


def render() -> None:
    warehouse = open_page(
        "Demographics",
        "Who buys what: the paying member's age band and gender against the product categories.",
    )
    store_id, store_name = pick_store(warehouse, "demographic_heatmap", "demographics-store")
    st.caption(
        f"Cells behind fewer than {warehouse.k_anonymity()} shoppers are suppressed to protect privacy."
    )
    choice = st.segmented_control(
        "Measure", list(MEASURES), default=next(iter(MEASURES)), required=True, key="demographics-measure"
    )
    measure, purchase_figure = MEASURES[choice or next(iter(MEASURES))]
    with section("Age band and gender by category", f"{store_name}, every date in the warehouse."):
        cells = require_rows(demographic_cells(warehouse, store_id), "demographic cells")
        middle = 100.0 if measure.name == "penetration_index" else None
        rows = [f"{plain(gender)} {band}" for gender in GENDERS for band in AGE_BANDS]
        chart(
            matrix(
                for_measure(cells, measure, purchase_figure),
                Dimension("category_name", "Category"),
                Dimension("shoppers_group", "Shoppers (paying member)"),
                measure,
                middle=middle,
                row_sort=rows,
            )
        )
        table(cells, CELL_COLUMNS, f"demographics-{store_id}")


if __name__ == "__main__":
    render()
