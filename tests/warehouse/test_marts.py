"""The warehouse of one simulated store-day, built through Dagster: every mart filled, consistent with
the events that were landed and close to the simulator's ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl
import pytest
import yaml

from orchestration.build import WarehouseBuild
from walkout.contracts import Attribution, Purchase, ShelfAction, Visit

if TYPE_CHECKING:  # fixtures come from conftest.py, which is not importable as a module
    from tests.conftest import SmallLake

pytestmark = pytest.mark.slow

MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models"
MARTS = {path.stem for path in (MODELS / "marts").glob("*.sql")}


def query(path: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).pl()


def test_every_mart_is_published_and_only_the_ad_marts_are_empty(warehouse: WarehouseBuild) -> None:
    assert set(warehouse.mart_rows) == MARTS
    # no ad screen reports and no operator decides in the simulated day
    empty = {mart for mart, rows in warehouse.mart_rows.items() if rows == 0}
    assert empty == {"ad_performance", "fct_ad_impressions", "fct_receipt_adjustment_lines"}


def test_undeclared_members_who_visited_get_the_entrance_cameras_estimate(warehouse: WarehouseBuild) -> None:
    shoppers = query(
        warehouse.published_path,
        "select demographic_source, count(*) as shoppers, count(*) filter (where age_band = 'unknown') "
        "as unknown_bands from marts.dim_shoppers where visits > 0 group by all",
    )
    by_source = {row["demographic_source"]: row for row in shoppers.iter_rows(named=True)}
    assert set(by_source) <= {"declared", "estimated", "unknown"}
    assert by_source["declared"]["shoppers"] > 0
    assert by_source["estimated"]["shoppers"] > 0
    assert by_source["declared"]["unknown_bands"] == by_source["estimated"]["unknown_bands"] == 0


def test_published_copy_is_read_only(warehouse: WarehouseBuild) -> None:
    assert warehouse.published_path.stat().st_mode & 0o222 == 0
    tables = query(
        warehouse.published_path, "select table_name from duckdb_tables() where schema_name = 'marts'"
    )
    assert set(tables["table_name"]) == MARTS


def test_visits_and_revenue_match_the_landed_events(small_lake: SmallLake, warehouse: WarehouseBuild) -> None:
    purchases = small_lake.of_type(Purchase)
    visits = query(
        warehouse.published_path,
        "select count(*) as visits, sum(receipt_total_krw) as revenue, sum(lines) as lines "
        "from marts.fct_visits",
    ).row(0, named=True)
    sales = query(
        warehouse.published_path, "select sum(gross_revenue_krw) as revenue from marts.fct_sales_daily"
    )
    assert visits["visits"] == len({visit.visit_id for visit in small_lake.of_type(Visit)})
    assert visits["revenue"] == sum(purchase.total_krw for purchase in purchases) == sales["revenue"][0]
    assert visits["lines"] == sum(len(purchase.lines) for purchase in purchases)


def test_interactions_count_the_put_backs_the_checkout_attributed(
    small_lake: SmallLake, warehouse: WarehouseBuild
) -> None:
    """ "Who put it back?" has one answer: the checkout's attributions, as the receipts were charged."""
    put_backs: dict[tuple[str, str], int] = {}
    for event in small_lake.of_type(Attribution):
        if event.action is ShelfAction.PUT_BACK:
            pair = (event.shopper_id, event.product_id)
            put_backs[pair] = put_backs.get(pair, 0) + 1
    built = query(
        warehouse.published_path,
        "select shopper_id, product_id, put_backs from marts.interactions where put_backs > 0",
    )
    assert len(put_backs) > 5
    assert {(row[0], row[1]): row[2] for row in built.iter_rows()} == put_backs


def test_visits_and_revenue_are_close_to_the_ground_truth(
    small_lake: SmallLake, warehouse: WarehouseBuild
) -> None:
    truth = small_lake.store_day.truth
    true_revenue = truth.receipts.select(pl.col("quantity") * pl.col("unit_price_krw")).sum().item()
    built = query(
        warehouse.published_path,
        "select count(*) as visits, sum(receipt_total_krw) as revenue from marts.fct_visits",
    ).row(0, named=True)
    assert abs(built["visits"] - truth.visits.height) <= 0.02 * truth.visits.height
    assert abs(built["revenue"] - true_revenue) <= 0.05 * true_revenue


def test_inventory_follows_the_shelves(small_lake: SmallLake, warehouse: WarehouseBuild) -> None:
    """On hand at the end of the day, from the plates' events and the delivery schedule, vs the true stock."""
    truth = small_lake.store_day.truth.stock.group_by("product_id").agg(
        pl.col("units").sum().alias("true_units")
    )
    estimated = query(
        warehouse.published_path,
        f"select product_id, on_hand_units from marts.inventory_position "
        f"where position_date = date '{small_lake.store_day.day}'",
    )
    compared = truth.join(estimated, on="product_id", how="inner")
    assert compared.height == truth.height
    exact = (compared["true_units"] == compared["on_hand_units"]).mean()
    assert exact is not None
    assert exact >= 0.8


def test_demographic_heatmap_never_shows_a_small_cell(warehouse: WarehouseBuild) -> None:
    cells = query(warehouse.published_path, "select cell_shoppers, buyers from marts.demographic_heatmap")
    assert cells.height > 0
    assert cells["cell_shoppers"].min() >= 5  # type: ignore[operator]
    assert cells["buyers"].drop_nulls().min() >= 5  # type: ignore[operator]


def test_every_built_column_is_documented(small_lake: SmallLake, warehouse: WarehouseBuild) -> None:
    warehouse_path = small_lake.settings.paths.warehouse_file
    built = query(
        warehouse_path,
        "select table_name, list(column_name) as columns from duckdb_columns() "
        "where schema_name in ('staging', 'intermediate', 'marts') group by table_name",
    )
    for model, columns in built.iter_rows():
        if model == "delivery_schedule":
            continue
        (path,) = MODELS.rglob(f"{model}.yml")
        document: dict[str, Any] = yaml.safe_load(path.read_text())
        documented = [column["name"] for column in document["models"][0]["columns"]]
        assert set(columns) == set(documented), model
