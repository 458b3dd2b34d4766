"""The walkout command line, run as a user runs it: a subprocess with WALKOUT_* variables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMAND_TIMEOUT_S = 1500  # the demo, on a loaded 2-core machine
COMMANDS = [
    [],
    ["config"],
    ["broker"],
    ["broker", "start"],
    ["broker", "stop"],
    ["broker", "status"],
    ["topics"],
    ["topics", "create"],
    ["topics", "list"],
    ["land", "backfill"],
    ["warehouse"],
    ["warehouse", "build"],
    ["ui"],
    ["demo"],
]


def walkout(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "WALKOUT_DATA_DIR": str(data_dir), "COLUMNS": "200", **env}
    if "WALKOUT_KAFKA_BOOTSTRAP" not in env:
        environment.pop("WALKOUT_KAFKA_BOOTSTRAP", None)
    return subprocess.run(
        [sys.executable, "-m", "walkout", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=COMMAND_TIMEOUT_S,
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command) or "walkout")
def test_every_command_has_help(command: list[str], tmp_path: Path) -> None:
    result = walkout(*command, "--help", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_config_prints_the_effective_settings(tmp_path: Path) -> None:
    result = walkout("config", data_dir=tmp_path, WALKOUT_TOPIC_PARTITIONS="7")
    assert result.returncode == 0, result.stderr
    assert "WALKOUT_TOPIC_PARTITIONS" in result.stdout
    assert str(tmp_path) in result.stdout


def test_bad_setting_is_one_line_and_non_zero(tmp_path: Path) -> None:
    result = walkout("config", data_dir=tmp_path, WALKOUT_TOPIC_PARTITIONS="lots")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "WALKOUT_TOPIC_PARTITIONS" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["warehouse", "build"], "has no files; land events first"),
        (["warehouse", "build", "--date", "1999-01-01"], "is not a lake date"),
        (["land", "backfill", "--days", "0"], "--days must be 1..366"),
    ],
)
def test_batch_commands_explain_bad_requests_in_one_line(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = walkout(*args, data_dir=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stderr.strip().count("\n") == 0


@pytest.mark.parametrize("command", [["ads", "serve"], ["ads", "keys"]], ids=" ".join)
@pytest.mark.parametrize("key", [{}, {"WALKOUT_AD_API_KEY": ""}], ids=["unset", "empty"])
def test_the_ad_api_refuses_to_run_on_no_key_in_one_line(
    command: list[str], key: dict[str, str], tmp_path: Path
) -> None:
    result = walkout(*command, data_dir=tmp_path, WALKOUT_DEMO_KEYS="0", **key)
    assert result.returncode == 1
    assert "WALKOUT_AD_API_KEY" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert result.stdout == ""  # nothing announced, nothing started


def test_ads_keys_labels_the_public_demo_keys(tmp_path: Path) -> None:
    demo = walkout("ads", "keys", data_dir=tmp_path, WALKOUT_DEMO_KEYS="1")
    store = walkout("ads", "keys", data_dir=tmp_path, WALKOUT_AD_API_KEY="a-secret-from-the-secret-store")
    assert demo.returncode == store.returncode == 0, demo.stderr + store.stderr
    assert "PUBLIC DEMO" in demo.stdout
    assert "PUBLIC DEMO" not in store.stdout
    assert "member app" in store.stdout


def test_no_broker_is_a_clear_error(tmp_path: Path) -> None:
    result = walkout("topics", "list", data_dir=tmp_path)
    assert result.returncode == 1
    assert "walkout broker start" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.kafka
def test_broker_lifecycle_and_topics(tmp_path: Path) -> None:
    assert walkout("broker", "status", data_dir=tmp_path).returncode == 3
    started = walkout("broker", "start", data_dir=tmp_path)
    try:
        assert started.returncode == 0, started.stderr
        assert walkout("broker", "status", data_dir=tmp_path).returncode == 0
        created = walkout("topics", "create", data_dir=tmp_path)
        assert "created 9 topics" in created.stdout, created.stdout + created.stderr
        listed = walkout("topics", "list", data_dir=tmp_path)
        for topic in (
            "gate.scans",
            "shelf.events",
            "camera.tracks",
            "visits",
            "dwell_paths",
            "purchases",
            "carts",
            "ad.impressions",
            "deadletter",
        ):
            assert topic in listed.stdout
    finally:
        stopped = walkout("broker", "stop", data_dir=tmp_path)
    assert "broker stopped" in stopped.stdout
    assert walkout("broker", "status", data_dir=tmp_path).returncode == 3


@pytest.mark.kafka
@pytest.mark.slow
@pytest.mark.timeout(COMMAND_TIMEOUT_S + 60)
def test_demo_runs_end_to_end_and_stops_its_broker(tmp_path: Path) -> None:
    result = walkout("demo", data_dir=tmp_path, WALKOUT_DEMO_HISTORY_DAYS="2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gate.scans" in result.stdout
    assert "dead-lettered" in result.stdout
    assert "4 store-days backfilled" in result.stdout
    assert "fct_purchase_lines" in result.stdout
    assert (tmp_path / "warehouse" / "published.duckdb").exists()
    assert walkout("broker", "status", data_dir=tmp_path).returncode == 3
