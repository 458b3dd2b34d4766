"""Fixtures of the forecasting tests: the forecast of the first five weeks of the twin's true daily
sales (``twin_sales``, six weeks: tests/conftest.py), computed once per session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl
import pytest

from forecasting.demand import DemandForecast, forecast_demand
from forecasting.policy import ForecastSettings
from forecasting.sales import DAY, SalesHistory

NEXT_WEEK = 7


@dataclass(frozen=True)
class TwinForecast:
    """The forecast of the twin's first five weeks and the true sales of the sixth."""

    history: SalesHistory
    demand: DemandForecast
    next_week: pl.DataFrame


@pytest.fixture(scope="session")
def twin_forecast(twin_sales: SalesHistory) -> TwinForecast:
    cutoff = twin_sales.last_day - timedelta(days=NEXT_WEEK)
    history = SalesHistory(twin_sales.series.filter(pl.col(DAY) <= cutoff), twin_sales.keys)
    settings = ForecastSettings(horizon_days=NEXT_WEEK, backtest_horizon_days=7, backtest_folds=3)
    return TwinForecast(
        history, forecast_demand(history, settings), twin_sales.series.filter(pl.col(DAY) > cutoff)
    )
