"""The command-line entry points: the instance under the data directory, the UI command, and the
errors of a build that cannot start."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

from orchestration.build import WarehouseError, build_warehouse
from orchestration.instance import dagster_home, dagster_ui_command
from walkout.settings import Settings


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
