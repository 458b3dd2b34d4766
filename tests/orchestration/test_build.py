"""The command-line entry points: the instance under the data directory, the UI command, the errors of
a build that cannot start, and what a build reports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import pytest
import yaml

from orchestration.build import WarehouseBuild, WarehouseError, build_warehouse
from orchestration.definitions import build_definitions
from orchestration.instance import dagster_home, dagster_ui_command
from walkout.settings import Settings

if TYPE_CHECKING:  # fixtures come from conftest.py, which is not importable as a module
    from tests.conftest import SmallLake


def test_dagster_home_lives_in_the_data_dir_without_telemetry(tmp_path: Path) -> None:
    home = dagster_home(Settings(data_dir=tmp_path))
    assert home == tmp_path.resolve() / "dagster"
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config["telemetry"] == {"enabled": False}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    assert limits == [{"key": "walkout/writer", "value": "warehouse", "limit": 1}]


def test_ui_command_runs_dagster_dev_on_that_instance(tmp_path: Path) -> None:
    command = dagster_ui_command(Settings(data_dir=tmp_path), port=3123)
    assert command.argv[1:5] == ["-m", "dagster", "dev", "-m"]
    assert "orchestration.definitions" in command.argv
    assert command.env == {
        "DAGSTER_HOME": str(tmp_path.resolve() / "dagster"),
        "WALKOUT_DATA_DIR": str(tmp_path.resolve()),
    }
    assert command.url == "http://127.0.0.1:3123"


def test_an_empty_lake_is_reported_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="has no files; land events first"):
        build_warehouse(Settings(data_dir=tmp_path))


def test_a_partition_must_be_a_lake_date(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match=r"'18\.11\.2026' is not a lake date"):
        build_warehouse(Settings(data_dir=tmp_path), partition="18.11.2026")


@pytest.mark.slow
def test_a_build_evaluates_every_check_of_what_it_built_once_and_counts_them(
    small_lake: SmallLake, warehouse: WarehouseBuild
) -> None:
    job = build_definitions(small_lake.settings).resolve_job_def("warehouse")
    checks = job.asset_layer.asset_graph.asset_check_keys
    with dg.DagsterInstance.from_config(str(dagster_home(small_lake.settings))) as instance:
        logs = instance.all_logs(
            warehouse.run_id,
            of_type={dg.DagsterEventType.ASSET_CHECK_EVALUATION, dg.DagsterEventType.ASSET_MATERIALIZATION},
        )
    events = [entry.get_dagster_event() for entry in logs]
    built = {event.asset_key for event in events if event.is_step_materialization}
    evaluated = [
        f"{data.asset_key.to_user_string()}:{data.check_name}"
        for data in (
            event.asset_check_evaluation_data
            for event in events
            if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        )
    ]
    # the forecasts (and their check) skip a history too short for a backtest; every other check runs
    assert sorted(evaluated) == sorted(key.to_user_string() for key in checks if key.asset_key in built)
    assert warehouse.checks_passed + len(warehouse.warnings) == len(evaluated)
    # the singular test that reads two models is a check on the one it guards, not an observation
    assert "marts/fct_sales_daily:assert_daily_sales_equal_receipts" in evaluated
