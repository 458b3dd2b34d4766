"""The Dagster definitions load, with asset keys and groups that follow the lake, the catalog and the
dbt layers, dbt tests as (blocking) checks, and the job, sensor and schedule that run them."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from orchestration import definitions
from orchestration.defs.lake import topic_asset_key
from orchestration.defs.warehouse import dbt_project
from walkout.catalog.export import TABLES as CATALOG_TABLES
from walkout.contracts import TOPICS
from walkout.settings import Settings, get_settings

DBT_MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models"


@pytest.fixture(scope="module")
def defs(tmp_path_factory: pytest.TempPathFactory) -> dg.Definitions:
    return definitions.build_definitions(Settings(data_dir=tmp_path_factory.mktemp("defs")))


def test_definitions_load(defs: dg.Definitions) -> None:
    dg.Definitions.validate_loadable(defs)


def test_dagster_dev_loads_them_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALKOUT_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        loaded = definitions.defs()
    finally:
        get_settings.cache_clear()
    assert loaded.resources["warehouse"].data_dir == str(tmp_path.resolve())


def test_asset_keys_follow_the_lake_the_catalog_and_the_dbt_layers(defs: dg.Definitions) -> None:
    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    models = {f"{path.parent.name}/{path.stem}" for path in DBT_MODELS.rglob("*.sql")}
    assert {topic_asset_key(topic).to_user_string() for topic in TOPICS} <= keys
    assert {f"catalog/{table}" for table in CATALOG_TABLES} <= keys
    assert models <= keys
    assert {"seeds/delivery_schedule", "published/warehouse"} <= keys
    graph = defs.resolve_asset_graph()
    assert {key.path[0] for key in graph.get_all_asset_keys()} == {
        "lake", "catalog", "staging", "intermediate", "marts", "review", "seeds", "published",
    }  # fmt: skip
    for key in graph.get_all_asset_keys():
        assert graph.get(key).group_name == key.path[0], key


def test_staging_reads_the_lake_and_the_catalog(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    assert (
        dg.AssetKey(["lake", "purchases"]) in graph.get(dg.AssetKey(["staging", "stg_purchases"])).parent_keys
    )
    assert dg.AssetKey(["catalog", "plates"]) in graph.get(dg.AssetKey(["staging", "stg_plates"])).parent_keys
    published = graph.get(dg.AssetKey(["published", "warehouse"]))
    assert {key.path[0] for key in published.parent_keys} == {"marts", "review"}


def test_dbt_tests_are_checks_and_errors_block(defs: dg.Definitions) -> None:
    checks = {key.to_user_string(): key for key in defs.resolve_asset_graph().asset_check_keys}
    assert "intermediate/int_plate_stock:no_negative_stock" in checks
    assert "staging/stg_purchase_lines:purchased_product_exists_in_catalog" in checks
    assert "lake/purchases:matches_contract" in checks
    graph = defs.resolve_asset_graph()
    assert graph.get_check_spec(checks["intermediate/int_plate_stock:no_negative_stock"]).blocking
    assert graph.get_check_spec(checks["lake/purchases:matches_contract"]).blocking


def test_every_dbt_test_is_a_check_on_its_model_and_errors_block(defs: dg.Definitions) -> None:
    manifest = json.loads(dbt_project.manifest_path.read_text())
    tests = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "test"}
    graph = defs.resolve_asset_graph()
    specs = {
        spec.metadata["dagster_dbt/unique_id"]: spec
        for spec in (graph.get_check_spec(key) for key in graph.asset_check_keys)
        if "dagster_dbt/unique_id" in spec.metadata
    }
    assert set(specs) == set(tests)  # none is left to a mere observation
    for uid, test in tests.items():
        assert specs[uid].blocking == (test["config"]["severity"].lower() == "error"), uid
    # a singular test that reads two models guards the one it names
    sales = specs["test.walkout.assert_daily_sales_equal_receipts"]
    assert sales.asset_key == dg.AssetKey(["marts", "fct_sales_daily"])
    assert dg.AssetKey(["marts", "fct_visits"]) in {dep.asset_key for dep in sales.additional_deps}


def test_a_job_a_sensor_and_a_schedule_run_the_warehouse(defs: dg.Definitions) -> None:
    job = defs.resolve_job_def("warehouse")
    assert job.tags["walkout/writer"] == "warehouse"
    assert defs.resolve_sensor_def("lake_files_sensor").job_name == "warehouse"
    assert defs.resolve_schedule_def("nightly_warehouse").job_name == "warehouse"
