"""``walkout forecast``: backtests of the demand models on a sales file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.options import JsonOption, console

forecast_app = typer.Typer(help="Demand forecasts, backtests and reorder suggestions.", no_args_is_help=True)


@forecast_app.command("backtest")
def forecast_backtest(
    sales: Annotated[
        Path, typer.Option(help="CSV or Parquet: series_id or product_id [+ store_id], date, quantity.")
    ],
    horizon: Annotated[int, typer.Option(help="Days ahead each fold forecasts.")] = 7,
    folds: Annotated[int, typer.Option(help="Rolling origins, each scored on the next --horizon days.")] = 3,
    as_json: JsonOption = False,
) -> None:
    """Backtest the demand models on daily sales (missing days are zero) against the seasonal naive."""
    from forecasting.backtest import backtest_sales_file
    from forecasting.report import backtest_table

    backtest = backtest_sales_file(sales, horizon, folds)
    if as_json:
        print(json.dumps(backtest.as_dict()))
        return
    console.print(backtest_table(backtest.as_dict()))
