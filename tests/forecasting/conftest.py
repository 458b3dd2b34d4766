"""Fixtures of the forecasting tests: six weeks of the twin's true daily sales, and the forecast of
their first five weeks, each computed once per session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl
import pytest

from forecasting.demand import DemandForecast, forecast_demand
from forecasting.policy import ForecastSettings
from forecasting.sales import DAY, SalesHistory, twin_history
from ingestion.simulator.run import SimulationPlan, simulate_history
from walkout.catalog import load_catalog

TWIN_PLAN = SimulationPlan(("S002",), date(2026, 9, 7), days=42, seed=23)
"""The smallest store, six weeks: a backtest of three weekly folds on five, and one week to come."""
NEXT_WEEK = 7


@dataclass(frozen=True)
class TwinForecast:
    """The forecast of the twin's first five weeks and the true sales of the sixth."""

    history: SalesHistory
    demand: DemandForecast
    next_week: pl.DataFrame


@pytest.fixture(scope="session")
def twin_sales() -> SalesHistory:
    catalog = load_catalog()
    return twin_history(catalog, simulate_history(catalog, TWIN_PLAN))


@pytest.fixture(scope="session")
def twin_forecast(twin_sales: SalesHistory) -> TwinForecast:
    cutoff = twin_sales.last_day - timedelta(days=NEXT_WEEK)
    history = SalesHistory(twin_sales.series.filter(pl.col(DAY) <= cutoff), twin_sales.keys)
    settings = ForecastSettings(horizon_days=NEXT_WEEK, backtest_horizon_days=7, backtest_folds=3)
    return TwinForecast(
        history, forecast_demand(history, settings), twin_sales.series.filter(pl.col(DAY) > cutoff)
    )
