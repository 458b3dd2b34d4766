"""The data directory's layout: the names existing data directories hold, which must never change."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from walkout.data_dir import DataDir
from walkout.settings import Settings


def test_every_place_keeps_its_name() -> None:
    paths = DataDir(Path("data"))
    assert {
        "run": paths.run_dir,
        "broker state": paths.broker_state_file,
        "broker log": paths.broker_log_file,
        "lake": paths.lake_dir,
        "catalog": paths.catalog_dir,
        "warehouse": paths.warehouse_file,
        "published": paths.published_warehouse_file,
        "writer lock": paths.warehouse_lock_file,
        "dbt run": paths.dbt_run_dir("r1"),
        "dbt state": paths.dbt_state_dir,
        "dagster": paths.dagster_dir,
        "checkout snapshot": paths.checkout_snapshot_file("checkout-0"),
        "backfill mark": paths.backfill_mark_file("S001", date(2026, 11, 18), 7),
        "ground truth": paths.ground_truth_dir,
        "forecasts": paths.forecasts_dir,
        "forecast policy": paths.forecast_policy_file,
        "recsys": paths.recsys_dir,
    } == {
        "run": Path("data/run"),
        "broker state": Path("data/run/broker.json"),
        "broker log": Path("data/run/broker.log"),
        "lake": Path("data/lake"),
        "catalog": Path("data/catalog"),
        "warehouse": Path("data/warehouse/walkout.duckdb"),
        "published": Path("data/warehouse/published.duckdb"),
        "writer lock": Path("data/warehouse/.writer.lock"),
        "dbt run": Path("data/warehouse/dbt-runs/r1"),
        "dbt state": Path("data/warehouse/dbt-state"),
        "dagster": Path("data/dagster"),
        "checkout snapshot": Path("data/state/checkout-checkout-0.snapshot"),
        "backfill mark": Path("data/backfill/S001-2026-11-18-seed7.done"),
        "ground truth": Path("data/ground_truth"),
        "forecasts": Path("data/models/forecasts"),
        "forecast policy": Path("data/forecasting.yaml"),
        "recsys": Path("data/artifacts/recsys"),
    }


def test_settings_keep_the_data_dir_as_given_and_resolve_on_request(tmp_path: Path) -> None:
    relative = Settings(data_dir=Path("data")).paths
    assert relative.root == Path("data")
    assert relative.resolved().lake_dir == Path("data").resolve() / "lake"
    assert Settings(data_dir=tmp_path).paths.resolved().root == tmp_path.resolve()
