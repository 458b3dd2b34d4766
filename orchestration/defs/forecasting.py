"""Forecasting after each published warehouse: demand forecasts with their backtest, then reorder
suggestions. They read the published read-only copy of the marts, never the file dbt writes, and
publish versioned Parquet under ``<data dir>/models/forecasts/`` with a ``latest/`` copy of each
table for the dashboards (see :mod:`forecasting.artifacts`). Like the published warehouse and the
recommendation model, they are what readers load, so they sit in the ``published`` group.

While the sales history is too short for a backtest (a young data directory), the forecast assets
are skipped with a warning, and so are the reorder suggestions; the run still succeeds.
"""

from collections.abc import Iterator

import dagster as dg

from forecasting.artifacts import BACKTEST_SUMMARY, read_latest_summary
from forecasting.backtest import ShortHistoryError
from forecasting.demand import publish_demand_forecast
from forecasting.models import BASELINE
from forecasting.reorder import publish_reorder_suggestions
from orchestration.resources import WarehouseResource
from walkout.versions import new_version

PUBLISHED = dg.AssetKey(["published", "warehouse"])
BACKTEST_REPORT = dg.AssetKey(["published", "backtest_report"])
DEMAND_FORECASTS = dg.AssetKey(["published", "demand_forecasts"])
REORDER_SUGGESTIONS = dg.AssetKey(["published", "reorder_suggestions"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            BACKTEST_REPORT,
            deps=[PUBLISHED],
            group_name="published",
            kinds={"parquet"},
            skippable=True,
            description="Rolling-origin backtest per store x product and model (MASE, WAPE, MAE, RMSE) "
            "and the model each chose.",
        ),
        dg.AssetSpec(
            DEMAND_FORECASTS,
            deps=[PUBLISHED],
            group_name="published",
            kinds={"parquet"},
            skippable=True,
            description="Daily units per store x product for the coming days, with prediction intervals.",
        ),
    ],
)
def demand_forecasts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult[None]]:
    """Backtest every model on every store x product, choose, forecast with intervals, publish."""
    try:
        demand = publish_demand_forecast(warehouse.paths, new_version(context.run.run_id))
    except ShortHistoryError as error:
        context.log.warning(f"no forecasts yet: {error}")
        return
    backtest = demand.backtest
    yield dg.MaterializeResult(
        asset_key=BACKTEST_REPORT,
        metadata={
            "dagster/row_count": backtest.scores.height,
            "as_of": demand.as_of.isoformat(),
            "summary": dg.MetadataValue.json(demand.summary()),
        },
    )
    yield dg.MaterializeResult(
        asset_key=DEMAND_FORECASTS,
        metadata={
            "dagster/row_count": demand.forecasts.height,
            "series": backtest.series,
            "as_of": demand.as_of.isoformat(),
            "chosen_models": dg.MetadataValue.json(backtest.chosen_models()),
        },
    )


@dg.asset_check(asset=BACKTEST_REPORT)
def chosen_models_beat_seasonal_naive(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """The chosen models' cross-validated MASE is below the seasonal naive's (the baseline)."""
    summary = read_latest_summary(warehouse.paths.forecasts_dir, BACKTEST_SUMMARY)
    chosen, baseline = summary["chosen"]["mase"], summary["models"][BASELINE]["mase"]
    return dg.AssetCheckResult(
        passed=chosen is not None and baseline is not None and chosen < baseline,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"chosen_mase": chosen, "seasonal_naive_mase": baseline, "version": summary["version"]},
    )


@dg.asset(
    key=REORDER_SUGGESTIONS,
    deps=[DEMAND_FORECASTS, BACKTEST_REPORT, PUBLISHED],
    group_name="published",
    kinds={"parquet"},
    description="Per store x product: safety stock, reorder point, suggested order (within shelf "
    "capacity), days of cover and stock-out risk.",
)
def reorder_suggestions(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult[None]:
    suggestions = publish_reorder_suggestions(warehouse.paths, new_version(context.run.run_id))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": suggestions.height,
            "orders": int((suggestions["suggested_order_units"] > 0).sum()),
            "units_to_order": int(suggestions["suggested_order_units"].sum()),
        }
    )


defs = dg.Definitions(
    assets=[demand_forecasts, reorder_suggestions], asset_checks=[chosen_models_beat_seasonal_naive]
)
