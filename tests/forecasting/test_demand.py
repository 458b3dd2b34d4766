"""Demand forecasts on the twin's true sales: the chosen models beat the seasonal naive, in the
backtest and on the week that follows it, and the intervals hold about their share of actuals."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import polars as pl
import pytest
from utilsforecast.losses import mase

from forecasting.backtest import ShortHistoryError, run_backtest
from forecasting.models import BASELINE, CANDIDATES, FORECAST, MODEL_NAMES, WEEK
from forecasting.sales import DAY, SERIES, UNITS, SalesHistory

if TYPE_CHECKING:  # fixtures come from conftest.py, which is not importable as a module
    from tests.forecasting.conftest import TwinForecast

pytestmark = pytest.mark.slow
LEVELS = (80, 95)


def next_week_scored(twin_forecast: TwinForecast) -> pl.DataFrame:
    """The week after the history: actuals, the chosen forecasts with intervals, and the seasonal
    naive (the same weekday of the history's last week)."""
    history = twin_forecast.history.series
    last_week = history.filter(pl.col(DAY) > pl.col(DAY).max() - pl.duration(days=WEEK)).select(
        SERIES, (pl.col(DAY) + pl.duration(days=WEEK)).alias(DAY), pl.col(UNITS).alias(BASELINE)
    )
    return (
        twin_forecast.next_week.join(twin_forecast.demand.forecasts, on=[SERIES, DAY])
        .join(last_week, on=[SERIES, DAY])
        .rename({FORECAST: "chosen"})
    )


def test_the_chosen_models_beat_seasonal_naive_in_the_backtest(twin_forecast: TwinForecast) -> None:
    backtest = twin_forecast.demand.backtest
    baseline = backtest.models[BASELINE]
    assert backtest.series == twin_forecast.history.keys.height
    assert backtest.chosen.mase < 0.9 * baseline.mase, backtest.as_dict()
    assert backtest.chosen.wape < 0.9 * baseline.wape, backtest.as_dict()
    assert all(backtest.models[name].mase < baseline.mase for name in CANDIDATES), backtest.as_dict()


def test_the_chosen_models_beat_seasonal_naive_on_the_week_after(twin_forecast: TwinForecast) -> None:
    scored = next_week_scored(twin_forecast)
    assert scored.height == twin_forecast.history.keys.height * WEEK
    per_series = mase(
        scored, models=["chosen", BASELINE], seasonality=WEEK, train_df=twin_forecast.history.series
    )
    finite = per_series.filter(pl.col(BASELINE).is_finite() & pl.col("chosen").is_finite())
    assert finite["chosen"].mean() < 0.9 * finite[BASELINE].mean()  # type: ignore[operator]


def test_intervals_hold_about_their_share_of_actuals(twin_forecast: TwinForecast) -> None:
    scored = next_week_scored(twin_forecast)
    for level in LEVELS:
        backtested = twin_forecast.demand.backtest.coverage[level]
        week_after = scored.select(
            pl.col(UNITS).is_between(pl.col(f"lo_{level}"), pl.col(f"hi_{level}")).mean()
        ).item()
        assert level / 100 - 0.1 <= backtested <= min(0.99, level / 100 + 0.1), (level, backtested)
        assert level / 100 - 0.1 <= week_after <= min(0.99, level / 100 + 0.1), (level, week_after)


def test_every_series_gets_a_forecast_inside_ordered_intervals(twin_forecast: TwinForecast) -> None:
    forecasts = twin_forecast.demand.forecasts
    assert forecasts.group_by(SERIES).len()["len"].to_list() == [WEEK] * twin_forecast.history.keys.height
    assert (
        forecasts.filter(
            (pl.col("lo_95") <= pl.col("lo_80"))
            & (pl.col("lo_80") <= pl.col(FORECAST))
            & (pl.col(FORECAST) <= pl.col("hi_80"))
            & (pl.col("hi_80") <= pl.col("hi_95"))
            & (pl.col("lo_95") >= 0)
        ).height
        == forecasts.height
    )
    assert forecasts[DAY].min() == twin_forecast.history.last_day + timedelta(days=1)


def test_each_series_chooses_one_candidate_never_the_baseline(twin_forecast: TwinForecast) -> None:
    scores = twin_forecast.demand.backtest.scores
    assert scores.group_by(SERIES).len()["len"].unique().to_list() == [len(MODEL_NAMES)]
    chosen = scores.filter("chosen")
    assert chosen[SERIES].n_unique() == chosen.height == twin_forecast.history.keys.height
    assert set(chosen["model"].cast(pl.String)) <= set(CANDIDATES)


def test_a_history_too_short_for_the_folds_is_refused(twin_sales: SalesHistory) -> None:
    three_weeks = SalesHistory(
        twin_sales.series.filter(pl.col(DAY) < pl.col(DAY).min() + pl.duration(days=21)), twin_sales.keys
    )
    with pytest.raises(ShortHistoryError, match="longest series has 21 days, and 3 folds of 7 days"):
        run_backtest(three_weeks, horizon=7, folds=3, levels=LEVELS)
