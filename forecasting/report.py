"""Forecasting's figures as terminal tables, for the CLI and the demo."""

from __future__ import annotations

import polars as pl
from rich.table import Table

from forecasting.backtest import Backtest
from forecasting.models import BASELINE

SHOWN_SUGGESTIONS = 10


def backtest_table(backtest: Backtest) -> Table:
    """MASE and WAPE per model and for the chosen ones, how many series chose each, interval coverage."""
    chosen_by = backtest.chosen_models()
    levels = ", ".join(f"{level} %" for level in backtest.coverage)
    held = ", ".join(f"{share:.1%}" for share in backtest.coverage.values())
    table = Table(
        "model",
        "MASE",
        "WAPE",
        "series choosing it",
        title=f"backtest: {backtest.series} series, {backtest.folds} folds of {backtest.horizon} days",
        caption=f"chosen: each series' cross-validated choice; intervals ({levels}) held {held} of actuals"
        + (f"; {backtest.series_too_short} series too short" if backtest.series_too_short else ""),
    )
    for name, accuracy in backtest.models.items():
        label = f"{name} (baseline)" if name == BASELINE else name
        table.add_row(label, f"{accuracy.mase:.3f}", f"{accuracy.wape:.3f}", str(chosen_by.get(name, 0)))
    table.add_row(
        "chosen", f"{backtest.chosen.mase:.3f}", f"{backtest.chosen.wape:.3f}", str(backtest.series)
    )
    return table


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
