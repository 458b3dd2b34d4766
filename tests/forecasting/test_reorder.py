"""Reorder logic on one store x product at a time: safety stock, reorder point, the order, cover, risk."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest

from forecasting.errors import ForecastError
from forecasting.models import FORECAST
from forecasting.policy import ReplenishmentPolicy
from forecasting.reorder import suggest_orders

AS_OF = date(2026, 11, 18)
HORIZON = 14


def suggest(
    *,
    on_hand: int = 5,
    capacity: int = 30,
    daily: float = 2.0,
    rmse: float = 1.0,
    lead_time: int = 2,
    category: str = "snacks",
    service_level: float = 0.95,
    horizon: int = HORIZON,
) -> dict[str, Any]:
    """The suggestion for one product selling ``daily`` units a day (forecast error ``rmse``)."""
    key = {"store_id": "S001", "product_id": "P0001"}
    forecasts = pl.DataFrame(
        {**key, "date": [AS_OF + timedelta(days=d) for d in range(1, horizon + 1)], FORECAST: daily}
    )
    positions = pl.DataFrame(
        [
            {
                **key,
                "product_name": "Coca-Cola 500ml PET",
                "category": category,
                "position_date": AS_OF,
                "on_hand_units": on_hand,
                "capacity_units": capacity,
                "supplier_id": "SUP01",
                "catalog_lead_time_days": lead_time,
            }
        ]
    )
    policy = ReplenishmentPolicy(
        service_level=service_level, review_period_days={"default": 1, "household": 7}
    )
    (row,) = suggest_orders(forecasts, pl.DataFrame([{**key, "rmse": rmse}]), positions, policy).to_dicts()
    return row


def test_safety_stock_grows_with_service_level_lead_time_and_error() -> None:
    base = suggest()["safety_stock_units"]
    assert (
        suggest(service_level=0.99)["safety_stock_units"]
        > base
        > suggest(service_level=0.8)["safety_stock_units"]
    )
    assert suggest(lead_time=3)["safety_stock_units"] > base > suggest(lead_time=1)["safety_stock_units"]
    assert suggest(rmse=2.0)["safety_stock_units"] == pytest.approx(2 * base)
    assert suggest(rmse=0.0)["safety_stock_units"] == 0


def test_reorder_point_is_demand_over_lead_time_and_review_plus_safety_stock() -> None:
    row = suggest(daily=2.0, lead_time=2, category="household")
    assert (row["lead_time_days"], row["review_period_days"]) == (2, 7)
    assert row["protection_demand_units"] == pytest.approx(2.0 * 9)
    assert row["reorder_point_units"] == pytest.approx(18 + row["safety_stock_units"])


def test_no_order_while_the_shelf_covers_the_protection_period() -> None:
    row = suggest(on_hand=20, daily=2.0)  # reorder point ~ 6 + 2.8
    assert row["suggested_order_units"] == 0
    assert row["days_of_cover"] == pytest.approx(10.0)
    assert row["stockout_risk"] < 0.01


def test_an_order_fills_the_shelf_and_never_beyond_capacity() -> None:
    row = suggest(on_hand=3, capacity=24, daily=2.0)
    assert row["suggested_order_units"] == 24 - 3
    fast = suggest(on_hand=2, capacity=8, daily=6.0)
    assert fast["suggested_order_units"] == 6
    assert fast["shelf_too_small"]
    assert not row["shelf_too_small"]


def test_stockout_risk_and_date_follow_the_forecast() -> None:
    empty = suggest(on_hand=0, daily=2.0)
    assert empty["stockout_risk"] > 0.99
    assert empty["stockout_date"] == AS_OF + timedelta(days=1)
    row = suggest(on_hand=9, daily=2.0)
    assert row["stockout_date"] == AS_OF + timedelta(days=5)  # 2, 4, 6, 8, 10 > 9
    assert 0 < row["stockout_risk"] < row["stockout_risk_horizon"] <= 1
    certain = suggest(on_hand=9, daily=2.0, rmse=0.0)
    assert certain["stockout_risk"] == 0.0  # 6 units over lead time and review, no error
    assert certain["stockout_risk_horizon"] == 1.0


def test_a_product_that_does_not_sell_is_never_ordered() -> None:
    row = suggest(on_hand=0, daily=0.0, rmse=0.0)
    assert row["suggested_order_units"] == 0
    assert row["days_of_cover"] is None
    assert row["stockout_date"] is None
    assert row["stockout_risk"] == 0.0


def test_a_protection_period_beyond_the_forecast_is_refused() -> None:
    with pytest.raises(ForecastError, match=r"need 9 days of forecast .* beyond the 7-day horizon"):
        suggest(lead_time=2, category="household", horizon=7)
