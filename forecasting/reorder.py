"""Reorder suggestions: from each store x product's forecast, forecast error and shelf position, what
to order now under a periodic review with a service level.

An order placed now arrives after the lead time L, and the next chance to order comes after the
review period R, so the stock on the shelf must last L + R days (the protection period):

- safety stock = z(service level) x daily forecast error (the chosen model's backtest RMSE) x sqrt(L + R);
- reorder point = forecast demand over L + R + safety stock;
- below the reorder point, order up to the shelf's capacity (deliveries refill the plates), never more;
  a reorder point above capacity is flagged: that shelf cannot reach the service level.

Stock on order is not known (the lake has no orders), so it counts as zero.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from scipy.stats import norm

from forecasting.artifacts import (
    BACKTEST_REPORT,
    DEMAND_FORECASTS,
    REORDER_SUGGESTIONS,
    publish_table,
    read_latest,
)
from forecasting.errors import ForecastError
from forecasting.models import FORECAST
from forecasting.policy import ReplenishmentPolicy, policy_of
from walkout.data_dir import DataDir

ITEM = ["store_id", "product_id"]
POSITIONS_SQL = """
select
    positions.store_id,
    positions.product_id,
    products.product_name,
    positions.category,
    positions.position_date,
    positions.on_hand_units,
    positions.capacity_units,
    products.supplier_id,
    products.lead_time_days as catalog_lead_time_days,
from marts.inventory_position as positions
inner join marts.dim_products as products on positions.product_id = products.product_id
qualify row_number() over (
    partition by positions.store_id, positions.product_id order by positions.position_date desc
) = 1
"""


def read_positions(published: Path) -> pl.DataFrame:
    """Each store x product's latest shelf position and supplier, from the published warehouse."""
    with duckdb.connect(str(published), read_only=True) as con:
        positions: pl.DataFrame = con.sql(POSITIONS_SQL).pl()
    return positions


def with_replenishment_times(positions: pl.DataFrame, policy: ReplenishmentPolicy) -> pl.DataFrame:
    """Add ``lead_time_days`` (policy overrides, else the catalog's) and ``review_period_days``."""
    lead_times = [
        policy.lead_time(product, supplier, days)
        for product, supplier, days in positions.select(
            "product_id", "supplier_id", "catalog_lead_time_days"
        ).iter_rows()
    ]
    reviews = [policy.review_period(category) for category in positions["category"]]
    return positions.with_columns(
        pl.Series("lead_time_days", lead_times, pl.Int32), pl.Series("review_period_days", reviews, pl.Int32)
    )


def demand_ahead(forecasts: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """Per item: mean daily forecast, forecast demand over its protection period and over the whole
    horizon, and the first day the forecast demand would empty the shelf (null: not in the horizon)."""
    days = forecasts.join(
        items.select(*ITEM, "lead_time_days", "review_period_days", "on_hand_units"), on=ITEM
    )
    days = days.sort(*ITEM, "date").with_columns(
        pl.int_range(1, pl.len() + 1).over(ITEM).alias("day_ahead"),
        pl.col(FORECAST).cum_sum().over(ITEM).alias("cumulative"),
    )
    protection = pl.col("lead_time_days") + pl.col("review_period_days")
    return days.group_by(ITEM).agg(
        pl.col(FORECAST).mean().alias("forecast_daily_units"),
        pl.col(FORECAST).filter(pl.col("day_ahead") <= protection).sum().alias("protection_demand_units"),
        pl.col(FORECAST).sum().alias("horizon_demand_units"),
        pl.len().alias("horizon_days"),
        pl.col("date").filter(pl.col("cumulative") > pl.col("on_hand_units")).first().alias("stockout_date"),
    )


def stockout_probability(demand: pl.Series, error: pl.Series, on_hand: pl.Series) -> pl.Series:
    """P(demand > on hand) for normally distributed demand; certain either way when there is no error."""
    mean, sd, stock = demand.to_numpy(), error.to_numpy(), on_hand.to_numpy().astype(float)
    risk = np.where(sd > 0, norm.sf(stock, loc=mean, scale=np.where(sd > 0, sd, 1.0)), mean > stock)
    return pl.Series(risk.astype(float))


def suggest_orders(
    forecasts: pl.DataFrame, errors: pl.DataFrame, positions: pl.DataFrame, policy: ReplenishmentPolicy
) -> pl.DataFrame:
    """One suggestion per store x product with a forecast (``store_id, product_id, date, forecast_units``),
    a daily forecast error (``store_id, product_id, rmse``) and a position (see :func:`read_positions`)."""
    items = with_replenishment_times(positions, policy).join(errors.select(*ITEM, "rmse"), on=ITEM)
    items = items.join(demand_ahead(forecasts, items), on=ITEM)
    protection_days = pl.col("lead_time_days") + pl.col("review_period_days")
    beyond = items.filter(protection_days > pl.col("horizon_days"))
    if beyond.height:
        longest, horizon = beyond.select(protection_days.max(), pl.col("horizon_days").min()).row(0)
        raise ForecastError(
            f"{beyond.height} products need {longest} days of forecast (lead time + review period), beyond "
            f"the {horizon}-day horizon; raise forecast.horizon_days in the policy"
        )
    protection_error = pl.col("rmse") * protection_days.sqrt()
    items = items.with_columns(
        protection_error.alias("protection_error"),
        (pl.col("rmse") * pl.col("horizon_days").sqrt()).alias("horizon_error"),
        (float(norm.ppf(policy.service_level)) * protection_error).alias("safety_stock_units"),
    ).with_columns(
        (pl.col("protection_demand_units") + pl.col("safety_stock_units")).alias("reorder_point_units")
    )
    return items.select(
        *ITEM,
        "product_name",
        "category",
        "position_date",
        "on_hand_units",
        "capacity_units",
        "forecast_daily_units",
        "lead_time_days",
        "review_period_days",
        "protection_demand_units",
        "safety_stock_units",
        "reorder_point_units",
        pl.when(pl.col("on_hand_units") < pl.col("reorder_point_units"))
        .then((pl.col("capacity_units") - pl.col("on_hand_units")).clip(0))
        .otherwise(0)
        .cast(pl.Int64)
        .alias("suggested_order_units"),
        pl.when(pl.col("forecast_daily_units") > 0)
        .then(pl.col("on_hand_units") / pl.col("forecast_daily_units"))
        .alias("days_of_cover"),
        stockout_probability(
            items["protection_demand_units"], items["protection_error"], items["on_hand_units"]
        ).alias("stockout_risk"),
        stockout_probability(
            items["horizon_demand_units"], items["horizon_error"], items["on_hand_units"]
        ).alias("stockout_risk_horizon"),
        "stockout_date",
        (pl.col("reorder_point_units") > pl.col("capacity_units")).alias("shelf_too_small"),
        pl.lit(policy.service_level).alias("service_level"),
    ).sort(ITEM)


def publish_reorder_suggestions(paths: DataDir, version: str) -> pl.DataFrame:
    """Suggest orders from the latest published forecasts and backtest, the published warehouse's shelf
    positions and the data directory's policy; publish them as ``version`` with their ``forecast_version``."""
    root = paths.forecasts_dir
    forecasts = read_latest(root, DEMAND_FORECASTS)
    errors = read_latest(root, BACKTEST_REPORT).filter("chosen")
    suggestions = suggest_orders(
        forecasts, errors, read_positions(paths.published_warehouse_file), policy_of(paths).replenishment
    ).with_columns(pl.lit(forecasts["version"].first()).alias("forecast_version"))
    publish_table(root, REORDER_SUGGESTIONS, version, suggestions)
    return suggestions
