"""The twin's true receipts as forecasting reads daily sales: weeks of known demand, for tests and
benchmarks."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from forecasting.sales import DAY, SERIES, UNITS, SalesHistory, daily_series, store_product_series
from twin.truth import StoreDayTruth
from walkout.catalog import Catalog


def twin_history(catalog: Catalog, truths: Iterable[StoreDayTruth]) -> SalesHistory:
    """Daily units of the twin's true receipts (``simulate_history``), one series per store x product
    the store carries, zero on the simulated days it did not sell."""
    sold, store_days = [], []
    for truth in truths:
        store_days.append((truth.store_id, truth.day))
        sold.append(
            truth.receipts.group_by("product_id")
            .agg(pl.col("quantity").sum().alias(UNITS))
            .select(
                pl.lit(truth.store_id).alias("store_id"), "product_id", pl.lit(truth.day).alias(DAY), UNITS
            )
        )
    carried = pl.DataFrame(
        [
            (store_id, product.product_id, str(product.category))
            for store_id in sorted({store for store, _ in store_days})
            for product in catalog.products.values()
            if catalog.store(store_id).plates_of(product.product_id)
        ],
        schema=["store_id", "product_id", "category"],
        orient="row",
    ).with_columns(store_product_series())
    days = pl.DataFrame(store_days, schema=["store_id", DAY], orient="row")
    series = (
        carried.join(days, on="store_id")
        .join(pl.concat(sold), on=["store_id", "product_id", DAY], how="left")
        .select(SERIES, DAY, pl.col(UNITS).fill_null(0).cast(pl.Float64))
    )
    return SalesHistory(daily_series(series), carried.select(SERIES, "store_id", "product_id", "category"))
