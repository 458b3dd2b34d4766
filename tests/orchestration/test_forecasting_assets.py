"""The forecasting assets after the published warehouse: materialized on a small published copy of the
marts, they publish forecasts, their backtest and reorder suggestions; on a history too short for a
backtest they are skipped and the run still succeeds."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from rich.table import Table

from forecasting.artifacts import read_latest, read_latest_summary
from forecasting.report import published_tables
from orchestration.definitions import build_definitions
from orchestration.defs.forecasting import (
    BACKTEST_REPORT,
    DEMAND_FORECASTS,
    PUBLISHED,
    REORDER_SUGGESTIONS,
    chosen_models_beat_seasonal_naive,
    demand_forecasts,
    reorder_suggestions,
)
from orchestration.resources import WarehouseResource
from walkout.data_dir import DataDir
from walkout.settings import Settings

STORES, PRODUCTS = 2, 6
SMALL_MARTS = """
create schema marts;
create table marts.dim_products as
select 'P000' || i as product_id, 'product ' || i as product_name, 'SUP01' as supplier_id,
    1 + i % 3 as lead_time_days,
from range(1, {products}) as products(i);
create table marts.fct_sales_daily as
select 'S00' || s as store_id, product_id, 'snacks' as category, date '2026-10-01' + d::int as sales_date,
    (hash(s, product_id, d) % (3 + 2 * (dayofweek(sales_date) in (0, 6))::int))::bigint as units_sold,
from range(1, {stores}) as stores(s), marts.dim_products, range({days}) as days(d);
create table marts.inventory_position as
select store_id, product_id, category, sales_date as position_date, 12::bigint as capacity_units,
    (hash(store_id, product_id) % 13)::bigint as on_hand_units,
from marts.fct_sales_daily;
"""


def publish_small_marts(data_dir: Path, days: int) -> None:
    """The three marts forecasting reads, in a published copy: ``days`` of pseudo-random daily sales
    (0-2 units on weekdays, 0-4 at weekends) and shelves of 12 units."""
    published = DataDir(data_dir).published_warehouse_file
    published.parent.mkdir(parents=True)
    with duckdb.connect(str(published)) as con:
        con.execute(SMALL_MARTS.format(products=PRODUCTS + 1, stores=STORES + 1, days=days))


def materialize(data_dir: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [demand_forecasts, reorder_suggestions, chosen_models_beat_seasonal_naive],
        resources={"warehouse": WarehouseResource(data_dir=str(data_dir))},
    )


def test_the_warehouse_job_runs_them_after_the_published_copy(tmp_path: Path) -> None:
    defs = build_definitions(Settings(data_dir=tmp_path))
    graph = defs.resolve_asset_graph()
    assert {BACKTEST_REPORT, DEMAND_FORECASTS, REORDER_SUGGESTIONS} <= set(graph.get_all_asset_keys())
    assert PUBLISHED in graph.get(DEMAND_FORECASTS).parent_keys
    assert DEMAND_FORECASTS in graph.get(REORDER_SUGGESTIONS).parent_keys
    nodes = defs.resolve_job_def("warehouse").graph.node_dict
    assert {"demand_forecasts", "published__reorder_suggestions"} <= set(nodes)


@pytest.mark.slow
def test_forecasts_backtest_and_reorder_suggestions_are_published(tmp_path: Path) -> None:
    publish_small_marts(tmp_path, days=35)
    result = materialize(tmp_path)
    assert result.success
    assert {key for event in result.get_asset_materialization_events() for key in [event.asset_key]} == {
        BACKTEST_REPORT, DEMAND_FORECASTS, REORDER_SUGGESTIONS,
    }  # fmt: skip
    (check,) = result.get_asset_check_evaluations()
    assert check.passed, check.metadata
    root = DataDir(tmp_path).forecasts_dir
    forecasts, report = read_latest(root, "demand_forecasts"), read_latest(root, "backtest_report")
    suggestions, summary = (
        read_latest(root, "reorder_suggestions"),
        read_latest_summary(root, "backtest_summary"),
    )
    items = STORES * PRODUCTS
    assert forecasts.height == items * 14
    assert forecasts["date"].min() == date(2026, 11, 5)
    assert report.filter("chosen").height == items
    assert suggestions.height == items
    assert (
        suggestions["on_hand_units"] + suggestions["suggested_order_units"] <= suggestions["capacity_units"]
    ).all()
    assert (
        forecasts["version"].unique().to_list()
        == report["version"].unique().to_list()
        == [summary["version"]]
    )
    assert suggestions["forecast_version"].unique().to_list() == [summary["version"]]
    assert summary["as_of"] == "2026-11-04"
    assert summary["folds"] == 3
    assert [type(table) for table in published_tables(root)] == [Table, Table]  # what the demo prints


def test_a_history_too_short_skips_them_without_failing_the_run(tmp_path: Path) -> None:
    publish_small_marts(tmp_path, days=20)
    result = materialize(tmp_path)
    assert result.success
    assert result.get_asset_materialization_events() == []
    root = DataDir(tmp_path).forecasts_dir
    assert not root.exists()
    (message,) = published_tables(root)
    assert str(message).startswith("no forecasts: no backtest_summary")
