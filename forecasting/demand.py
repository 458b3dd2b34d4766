"""Demand forecasts of a sales history: backtest every model, choose one per series, forecast each
series with its choice and the intervals its backtest errors imply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from forecasting.artifacts import (
    BACKTEST_REPORT,
    BACKTEST_SUMMARY,
    DEMAND_FORECASTS,
    publish_summary,
    publish_table,
)
from forecasting.backtest import Backtest, folds_that_fit, run_backtest
from forecasting.models import add_intervals, forecast_chosen
from forecasting.policy import ForecastSettings, policy_of
from forecasting.sales import DAY, SERIES, SalesHistory, read_warehouse_sales
from walkout.data_dir import DataDir


@dataclass(frozen=True)
class DemandForecast:
    """The backtest behind the forecasts and the forecasts, both keyed like the history's series."""

    as_of: date
    backtest: Backtest
    forecasts: pl.DataFrame
    keys: pl.DataFrame

    def forecast_table(self) -> pl.DataFrame:
        """One row per series x day ahead: the series' keys, ``date``, ``model``, ``forecast_units``,
        ``lo_<level>`` and ``hi_<level>``."""
        return self._keyed(self.forecasts.rename({DAY: "date"}))

    def backtest_table(self) -> pl.DataFrame:
        """One row per series x model: the series' keys, ``model``, ``mase``, ``wape``, ``mae``, ``rmse``
        (units a day) and ``chosen``."""
        return self._keyed(self.backtest.scores.with_columns(pl.col("model").cast(pl.String)))

    def summary(self) -> dict[str, object]:
        """The backtest's figures and the forecast's date."""
        return {"as_of": self.as_of.isoformat(), **self.backtest.as_dict()}

    def _keyed(self, table: pl.DataFrame) -> pl.DataFrame:
        keyed = self.keys.join(table, on=SERIES)
        return keyed.drop(SERIES) if len(self.keys.columns) > 1 else keyed


def forecast_demand(history: SalesHistory, settings: ForecastSettings) -> DemandForecast:
    """Backtest with as many folds as the history allows (up to the policy's), then forecast
    ``settings.horizon_days`` from the day after the history ends; raises
    :class:`~forecasting.backtest.ShortHistoryError` when not even two folds fit."""
    horizon = settings.backtest_horizon_days
    folds = folds_that_fit(history.days, horizon, settings.backtest_folds)
    backtest = run_backtest(history, horizon, folds, settings.interval_levels, settings.n_jobs)
    choices = backtest.choices
    forecasts = forecast_chosen(
        history.series.join(choices, on=SERIES, how="semi"), choices, settings.horizon_days, settings.n_jobs
    )
    return DemandForecast(
        as_of=history.last_day,
        backtest=backtest,
        forecasts=add_intervals(forecasts, backtest.margins, settings.interval_levels),
        keys=history.keys,
    )


def publish_demand_forecast(paths: DataDir, version: str) -> DemandForecast:
    """Forecast the published warehouse's daily sales with the data directory's policy, and publish the
    forecasts, the backtest report and its summary as ``version`` (see :mod:`forecasting.artifacts`)."""
    demand = forecast_demand(read_warehouse_sales(paths.published_warehouse_file), policy_of(paths).forecast)
    root = paths.forecasts_dir
    publish_table(root, BACKTEST_REPORT, version, demand.backtest_table())
    publish_summary(root, BACKTEST_SUMMARY, version, demand.summary())
    publish_table(root, DEMAND_FORECASTS, version, demand.forecast_table())
    return demand
