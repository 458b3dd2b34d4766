"""Forecasting's figures as terminal tables, for the CLI and the demo."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import RenderableType
from rich.table import Table

from forecasting.artifacts import (
    BACKTEST_SUMMARY,
    REORDER_SUGGESTIONS,
    read_latest,
    read_latest_summary,
)
from forecasting.errors import ForecastError
from forecasting.models import BASELINE

SHOWN_SUGGESTIONS = 10


def backtest_table(summary: Mapping[str, Any]) -> Table:
    """MASE and WAPE per model and for the chosen ones, how many series chose each, interval coverage
    (``summary``: :meth:`Backtest.as_dict`, or the published ``backtest_summary``)."""
    coverage = summary["interval_coverage"]
    table = Table(
        "model",
        "MASE",
        "WAPE",
        "series choosing it",
        title=f"backtest: {summary['series']} series, {summary['folds']} folds of {summary['horizon']} days",
        caption=f"chosen: each series' cross-validated choice; intervals ({' %, '.join(coverage)} %) held "
        + ", ".join(_share(share) for share in coverage.values())
        + " of actuals"
        + (f"; {summary['series_too_short']} series too short" if summary["series_too_short"] else ""),
    )
    for name, accuracy in summary["models"].items():
        label = f"{name} (baseline)" if name == BASELINE else name
        table.add_row(label, *_accuracy(accuracy), str(summary["chosen_models"].get(name, 0)))
    table.add_row("chosen", *_accuracy(summary["chosen"]), str(summary["series"]))
    return table


def published_tables(root: Path) -> list[RenderableType]:
    """The backtest and the most urgent reorder suggestions published under ``root`` (a data directory's
    ``forecasts_dir``), or why there are none."""
    try:
        summary = read_latest_summary(root, BACKTEST_SUMMARY)
        suggestions = read_latest(root, REORDER_SUGGESTIONS)
    except ForecastError as error:
        return [f"no forecasts: {error}"]
    return [backtest_table(summary), reorder_table(suggestions)]


def reorder_table(suggestions: pl.DataFrame, shown: int = SHOWN_SUGGESTIONS) -> Table:
    """The most urgent suggested orders: highest stock-out risk first."""
    orders = suggestions.filter(pl.col("suggested_order_units") > 0)
    table = Table(
        "store",
        "product",
        "on hand",
        "capacity",
        "forecast/day",
        "reorder point",
        "order",
        "days of cover",
        "stock-out risk",
        title=f"reorder suggestions: {orders.height} of {suggestions.height} store x products need an order",
    )
    for row in (
        orders.sort("stockout_risk", "product_id", descending=[True, False]).head(shown).iter_rows(named=True)
    ):
        cover = row["days_of_cover"]
        table.add_row(
            row["store_id"],
            f"{row['product_id']} {row['product_name']}",
            str(row["on_hand_units"]),
            str(row["capacity_units"]),
            f"{row['forecast_daily_units']:.1f}",
            f"{row['reorder_point_units']:.1f}",
            str(row["suggested_order_units"]),
            "-" if cover is None else f"{cover:.1f}",
            f"{row['stockout_risk']:.0%}",
        )
    return table


def _accuracy(accuracy: Mapping[str, float | None]) -> tuple[str, str]:
    return _figure(accuracy["mase"]), _figure(accuracy["wape"])


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
