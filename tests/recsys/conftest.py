"""Fixtures of the recsys tests: weeks of simulated shopper history, made once per session."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from recsys.interactions import check_interactions
from recsys.train import train_from_warehouse
from twin.run import SimulationPlan, simulate_history
from walkout.catalog import load_catalog

HISTORY_PLAN = SimulationPlan(("S002",), date(2026, 9, 14), 28, seed=7)
"""Four weeks of the smallest store: enough for a week of validation and a week of test."""


@pytest.fixture(scope="session")
def receipt_lines() -> pl.DataFrame:
    """Every receipt line of the plan (the twin's ground truth, no sensors), with its visit, shopper and
    store; its receipt's id is made from the visit's."""
    lines = [
        truth.receipts.join(truth.visits.select("visit_id", "shopper_id", "exited_at"), on="visit_id")
        for truth in simulate_history(load_catalog(), HISTORY_PLAN)
    ]
    return pl.concat(lines).with_columns(
        purchase_id=pl.col("visit_id").map_elements(lambda visit: f"receipt-{visit}", return_dtype=pl.String),
        store_id=pl.lit(HISTORY_PLAN.stores[0]),
    )


@pytest.fixture(scope="session")
def purchase_history(receipt_lines: pl.DataFrame) -> pl.DataFrame:
    """Every purchase line of the plan as an interaction log."""
    log = receipt_lines.select("shopper_id", "product_id", pl.col("exited_at").alias("ts"), "quantity")
    return check_interactions(log, "simulated history")


@pytest.fixture(scope="session")
def sold_out(purchase_history: pl.DataFrame) -> str:
    """The history's bestseller among products anyone may buy: sold out in the published inventory."""
    catalog = load_catalog()
    units = (
        purchase_history.group_by("product_id")
        .agg(pl.col("quantity").sum())
        .sort("quantity", descending=True)
    )
    return next(p for p in units["product_id"] if not catalog.product(p).age_restricted)


@pytest.fixture(scope="session")
def published_marts(
    tmp_path_factory: pytest.TempPathFactory,
    receipt_lines: pl.DataFrame,
    purchase_history: pl.DataFrame,
    sold_out: str,
) -> Path:
    """A published warehouse with the marts recsys reads, filled from the simulated history without dbt.

    Same tables and column names as the real marts (a test builds those through Dagster); the
    inventory has every product of every store in stock, except :func:`sold_out`.
    """
    catalog = load_catalog()
    members = pl.DataFrame(
        [(m.member_id, str(m.age_band), str(m.gender)) for m in catalog.members.values()],
        schema=["shopper_id", "age_band", "gender"],
        orient="row",
    )
    products = pl.DataFrame(
        [
            (p.product_id, p.name, str(p.category), p.price_krw, p.age_restricted)
            for p in catalog.products.values()
        ],
        schema=["product_id", "product_name", "category", "price_krw", "is_age_restricted"],
        orient="row",
    )
    inventory = pl.DataFrame(
        [
            (store.store_id, product_id, date(2026, 10, 11), 0 if product_id == sold_out else 5)
            for store in catalog.stores.values()
            for product_id in {plate.product_id for plate in store.plates}
        ],
        schema=["store_id", "product_id", "position_date", "on_hand_units"],
        orient="row",
    ).with_columns(is_out_of_stock=pl.col("on_hand_units") == 0)
    path = tmp_path_factory.mktemp("published") / "published.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        for name, frame in {"members": members, "products": products, "inventory": inventory}.items():
            connection.register(name, frame.to_arrow())
        connection.register("history", purchase_history.to_arrow())
        connection.register("lines", receipt_lines.to_arrow())
        connection.execute(
            "create table marts.fct_purchase_lines as select purchase_id, visit_id, store_id, shopper_id, "
            "product_id, quantity, unit_price_krw, quantity * unit_price_krw as amount_krw, "
            "exited_at as purchased_at from lines"
        )
        connection.execute(
            "create table marts.interactions as select shopper_id, product_id, "
            "sum(quantity) as units_bought, sum(quantity)::double as weight, max(ts) as last_interaction_at "
            "from history group by all"
        )
        connection.execute("create table marts.dim_shoppers as select * from members")
        connection.execute("create table marts.dim_products as select * from products")
        connection.execute("create table marts.inventory_position as select * from inventory")
    return path


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, published_marts: Path) -> Path:
    """Artifacts with one model trained (and evaluated) from :func:`published_marts`."""
    directory = tmp_path_factory.mktemp("artifacts")
    train_from_warehouse(published_marts, directory)
    return directory
