"""Forecast speed: series per second for 1 store x its catalog and for 100 stores x the catalog.

The base is eight weeks of one store's true daily sales from the digital twin (S001, every product it
carries), cached in the work directory. The 100 stores are that store's series resampled: each store
scales each product's demand by its own factor (0.5-1.5), shifts it by whole weeks and draws Poisson
units around it, so the series keep the twin's levels, weekly pattern and intermittency; each keeps
its product's model choice from the base store's backtest.

Measured:
- a fresh process importing statsforecast (its models are compiled C++ since 2.0: no numba JIT);
- the backtest (6 models x 3 weekly folds, on 1 and 10 stores) that chooses each series' model;
- the forecast (each series' chosen model fitted on the whole history, 14 days ahead, plus its
  intervals), cold (the process's first) and warm on 1 store, then warm on 100 stores with n_jobs 1
  and 2, and with every series on AutoETS, the slowest candidate (the time depends on the choices).

Run from the repository root:  .venv/bin/python benchmarks/forecast_speed.py [work dir]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

import numpy as np
import polars as pl
from rich.console import Console

from forecasting.backtest import Backtest, run_backtest
from forecasting.models import add_intervals, forecast_chosen
from forecasting.report import backtest_table
from forecasting.sales import DAY, SERIES, UNITS, SalesHistory, store_product_series
from twin.run import SimulationPlan, simulate_history
from twin.sales import twin_history
from walkout.catalog import load_catalog

T = TypeVar("T")
COMMAND = ".venv/bin/python benchmarks/forecast_speed.py"
BASE_PLAN = SimulationPlan(("S001",), date(2026, 9, 7), days=56, seed=7)
HORIZON = 14
BACKTEST_HORIZON, FOLDS, LEVELS = 7, 3, (80, 95)
STORES = 100
BACKTEST_STORES = 10


def timed(action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def import_seconds() -> float:
    """How long a fresh Python process takes to import statsforecast."""
    _, seconds = timed(lambda: subprocess.run([sys.executable, "-c", "import statsforecast"], check=True))
    return seconds


def base_history(work: Path) -> SalesHistory:
    """The twin's store-days of :data:`BASE_PLAN` as daily series, simulated on first use."""
    cache = work / "twin-S001-56d.parquet"
    if not cache.exists():
        work.mkdir(parents=True, exist_ok=True)
        catalog = load_catalog()
        history = twin_history(catalog, simulate_history(catalog, BASE_PLAN))
        history.series.join(history.keys, on=SERIES).write_parquet(cache)
    frame = pl.read_parquet(cache)
    return SalesHistory(
        frame.select(SERIES, DAY, UNITS), frame.select(SERIES, "store_id", "product_id").unique()
    )


def resampled(base: SalesHistory, stores: int) -> SalesHistory:
    """``stores`` stores of the base store's products: scaled, shifted by whole weeks, Poisson units."""
    rng = np.random.default_rng(11)
    wide = base.series.join(base.keys, on=SERIES).pivot(on="product_id", index=DAY, values=UNITS).sort(DAY)
    days, products = wide[DAY], wide.columns[1:]
    rates = wide.select(products).to_numpy()
    parts = []
    for number in range(1, stores + 1):
        shifts = rng.integers(0, days.len() // 7, len(products)) * 7
        shifted = np.stack([np.roll(rates[:, j], shifts[j]) for j in range(len(products))], axis=1)
        units = rng.poisson(shifted * rng.uniform(0.5, 1.5, len(products)))
        parts.append(
            pl.DataFrame(units, schema=products, orient="row")
            .with_columns(days, pl.lit(f"R{number:03d}").alias("store_id"))
            .unpivot(index=[DAY, "store_id"], variable_name="product_id", value_name=UNITS)
        )
    sales = pl.concat(parts).with_columns(store_product_series(), pl.col(UNITS).cast(pl.Float64))
    return SalesHistory(
        sales.select(SERIES, DAY, UNITS).sort(SERIES, DAY),
        sales.select(SERIES, "store_id", "product_id").unique(),
    )


def first_stores(history: SalesHistory, stores: int) -> SalesHistory:
    """The series of the resampled stores R001..R<stores>."""
    numbers = pl.col("store_id").str.slice(1).cast(pl.Int32)
    keys = history.keys.filter(numbers <= stores)
    return SalesHistory(history.series.join(keys, on=SERIES, how="semi"), keys)


def product_plans(base: SalesHistory, backtest: Backtest) -> pl.DataFrame:
    """Per product of the base store: chosen model and interval margins (``product_id, model, margin_*``)."""
    chosen = base.keys.join(backtest.choices, on=SERIES).join(backtest.margins, on=SERIES)
    return chosen.drop(SERIES, "store_id", "mae", "rmse")


def forecast_seconds(history: SalesHistory, plans: pl.DataFrame, n_jobs: int) -> float:
    """Time to forecast every series with its product's model and intervals."""
    plan = history.keys.join(plans, on="product_id")
    _, seconds = timed(
        lambda: add_intervals(forecast_chosen(history.series, plan, HORIZON, n_jobs), plan, LEVELS)
    )
    return seconds


def main(work: Path) -> None:
    importing = import_seconds()
    base = base_history(work)
    backtest, backtest_s = timed(lambda: run_backtest(base, BACKTEST_HORIZON, FOLDS, LEVELS))
    plans = product_plans(base, backtest)
    rows = [
        ("1 store: backtest (chooses the models)", base.keys.height, backtest_s),
        ("1 store: forecast, cold (first call)", base.keys.height, forecast_seconds(base, plans, 1)),
        ("1 store: forecast, warm", base.keys.height, forecast_seconds(base, plans, 1)),
    ]
    many = resampled(base, STORES)
    few = first_stores(many, BACKTEST_STORES)
    _, few_s = timed(lambda: run_backtest(few, BACKTEST_HORIZON, FOLDS, LEVELS, n_jobs=2))
    rows.append((f"{BACKTEST_STORES} stores: backtest, n_jobs=2", few.keys.height, few_s))
    for n_jobs in (1, 2):
        seconds = forecast_seconds(many, plans, n_jobs)
        rows.append((f"{STORES} stores: forecast, warm, n_jobs={n_jobs}", many.keys.height, seconds))
    slowest = plans.with_columns(model=pl.lit("auto_ets"))
    seconds = forecast_seconds(many, slowest, 2)
    rows.append((f"{STORES} stores: all AutoETS (slowest), n_jobs=2", many.keys.height, seconds))

    print(f"fresh process importing statsforecast: {importing:.1f} s")
    print(f"forecast speed: {base.days} days of history, {HORIZON} days ahead, intervals {LEVELS}")
    print(f"{'case':<45} {'series':>8} {'seconds':>9} {'series/s':>9}")
    for case, count, seconds in rows:
        print(f"{case:<45} {count:>8,} {seconds:>9.1f} {count / seconds:>9.0f}")
    Console(width=100).print(backtest_table(backtest.as_dict()))
    print(f"reproduce: {COMMAND} [work dir]")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as directory:
            main(Path(directory))
