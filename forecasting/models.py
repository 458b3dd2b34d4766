"""The candidate demand models (statsforecast) and the forecast of each series with its chosen one.

Seasonal naive (same weekday last week) is the baseline; AutoETS and Theta model level and weekly
season; CrostonOptimized, ADIDA and IMAPA are built for intermittent demand (the many items that
sell 0-2 a day). AutoETS searches error and season types but no trend: a trend fitted on a few weeks
of daily sales extrapolates noise (and costs five times the fitting time).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl
from statsforecast import StatsForecast
from statsforecast.models import ADIDA, IMAPA, AutoETS, CrostonOptimized, SeasonalNaive, Theta

from forecasting.sales import DAY, SERIES

WEEK = 7
BASELINE = "seasonal_naive"
CANDIDATES = ("auto_ets", "theta", "croston_optimized", "adida", "imapa")
"""The models a series can choose, in order of preference when two score the same."""
MODEL_NAMES = (*CANDIDATES, BASELINE)
"""Every model backtested: the candidates and the baseline they must beat."""
FORECAST = "forecast_units"


def candidate_models(names: Sequence[str] = MODEL_NAMES) -> list[Any]:
    """Fresh statsforecast models, aliased by their names in :data:`MODEL_NAMES`."""
    models: dict[str, Any] = {
        "auto_ets": AutoETS(season_length=WEEK, model="ZNZ", alias="auto_ets"),
        "theta": Theta(season_length=WEEK, alias="theta"),
        "croston_optimized": CrostonOptimized(alias="croston_optimized"),
        "adida": ADIDA(alias="adida"),
        "imapa": IMAPA(alias="imapa"),
        BASELINE: SeasonalNaive(season_length=WEEK, alias=BASELINE),
    }
    return [models[name] for name in names]


def daily_forecaster(names: Sequence[str] = MODEL_NAMES, n_jobs: int = 1) -> StatsForecast:
    """statsforecast over daily series with the named candidates."""
    return StatsForecast(models=candidate_models(names), freq="1d", n_jobs=n_jobs)


@contextmanager
def fitting_quietly() -> Iterator[None]:
    """Silence the 0/0 warning of the seasonality test (statsmodels' autocorrelation) on series that
    never sold: their season is rightly taken as none."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "invalid value encountered in divide", RuntimeWarning, "statsmodels"
        )
        yield


def forecast_chosen(
    series: pl.DataFrame, chosen: pl.DataFrame, horizon: int, n_jobs: int = 1
) -> pl.DataFrame:
    """Mean daily units ``horizon`` days ahead of each series with its chosen model
    (``chosen``: ``unique_id, model``), never below zero: ``unique_id, ds, model, forecast_units``."""
    parts = []
    for (model,), ids in chosen.group_by("model"):
        history = series.join(ids.select(SERIES), on=SERIES, how="semi")
        with fitting_quietly():
            forecast: pl.DataFrame = daily_forecaster([str(model)], n_jobs).forecast(h=horizon, df=history)
        parts.append(
            forecast.select(
                SERIES, DAY, pl.lit(model).alias("model"), pl.col(str(model)).clip(0.0).alias(FORECAST)
            )
        )
    return pl.concat(parts).sort(SERIES, DAY)


def add_intervals(forecast: pl.DataFrame, margins: pl.DataFrame, levels: Sequence[int]) -> pl.DataFrame:
    """``lo_<level>`` and ``hi_<level>`` around the forecast, from each series' error margins
    (``margin_<level>``, see :func:`forecasting.backtest.interval_margins`); lower bounds stop at zero."""
    return forecast.join(margins, on=SERIES, how="left").select(
        *forecast.columns,
        *[
            expr
            for level in levels
            for expr in (
                (pl.col(FORECAST) - pl.col(f"margin_{level}")).clip(0.0).alias(f"lo_{level}"),
                (pl.col(FORECAST) + pl.col(f"margin_{level}")).alias(f"hi_{level}"),
            )
        ],
    )
