"""The walkout command line, run as a user runs it: a subprocess with WALKOUT_* variables."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli import broker
from cli.app import main
from review.published import reading
from walkout.contracts import TOPICS
from walkout.data_dir import DataDir
from walkout.errors import WalkoutError
from walkout.settings import Settings

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
    ["review"],
    ["review", "queue"],
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
@pytest.mark.slow
def test_every_command_has_help(command: list[str], tmp_path: Path) -> None:
    result = walkout(*command, "--help", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_config_prints_the_effective_settings(tmp_path: Path) -> None:
    result = walkout("config", data_dir=tmp_path, WALKOUT_TOPIC_PARTITIONS="7")
    assert result.returncode == 0, result.stderr
    assert "WALKOUT_TOPIC_PARTITIONS" in result.stdout
    assert str(tmp_path) in result.stdout


def config_value(stdout: str, variable: str) -> str:
    """The value column of ``variable``'s row in ``walkout config``'s table."""
    (row,) = [line for line in stdout.splitlines() if f" {variable} " in line]
    return row.split("│")[2].strip()


@pytest.mark.parametrize(
    ("environment", "shown"),
    [
        ({"WALKOUT_DEMO_KEYS": "0"}, "(unset)"),
        ({"WALKOUT_DEMO_KEYS": "1"}, "(demo key)"),
        ({"WALKOUT_AD_API_KEY": "a-store-master-key-0123"}, "**********"),
    ],
    ids=["unset", "demo keys", "set"],
)
@pytest.mark.slow
def test_config_says_how_the_ad_key_is_set_never_none(
    environment: dict[str, str], shown: str, tmp_path: Path
) -> None:
    result = walkout("config", data_dir=tmp_path, **environment)
    assert result.returncode == 0, result.stderr
    assert config_value(result.stdout, "WALKOUT_AD_API_KEY") == shown
    assert "None" not in result.stdout
    assert "a-store-master-key" not in result.stdout


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


@pytest.mark.slow
def test_ads_keys_labels_the_public_demo_keys(tmp_path: Path) -> None:
    demo = walkout("ads", "keys", data_dir=tmp_path, WALKOUT_DEMO_KEYS="1")
    store = walkout("ads", "keys", data_dir=tmp_path, WALKOUT_AD_API_KEY="a-secret-from-the-secret-store")
    assert demo.returncode == store.returncode == 0, demo.stderr + store.stderr
    assert "PUBLIC DEMO" in demo.stdout
    assert "PUBLIC DEMO" not in store.stdout
    assert "member app" in store.stdout


def assert_one_line_error(result: subprocess.CompletedProcess[str], exit_code: int, message: str) -> None:
    assert result.returncode == exit_code, result.stdout + result.stderr
    assert result.stderr.startswith("walkout: error: ")
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dashboard", "--port", "-1"], "'--port': Input should be greater than or equal to 1"),
        (["ads", "serve", "--port", "70000"], "'--port': Input should be less than or equal to 65535"),
        (["ui", "--port", "99999"], "'--port': Input should be less than or equal to 65535"),
        (["vision", "evaluate", "--visits", "-1"], "'--visits': Input should be greater than or equal to 1"),
        (["vision", "render", "--out", "clip", "--seconds", "0"], "'--seconds'"),
        (["simulate", "--seed", "-1"], "'--seed': Input should be greater than or equal to 0"),
        (["recsys", "train", "--k", "0"], "'--k'"),
        (["recsys", "evaluate", "--interactions", "log.csv", "--test-days", "0"], "'--test-days'"),
        (["checkout", "run", "--idle-exit", "-1"], "'--idle-exit'"),
        (["land", "run", "--idle-exit", "-5"], "'--idle-exit'"),
        (["simulate", "--start", "2026-02-30"], "2026-02-30 is not a date: day is out of range for month"),
        (["land", "backfill", "--start", "2026-13-01"], "2026-13-01 is not a date: month must be in 1..12"),
        (["warehouse", "build", "--date", "06.12.2026"], "06.12.2026 is not a date: use YYYY-MM-DD"),
        (["checkout", "evaluate", "--stores"], "Option '--stores' requires an argument"),
    ],
)
@pytest.mark.slow
def test_bad_arguments_are_one_line_naming_the_option(args: list[str], message: str, tmp_path: Path) -> None:
    assert_one_line_error(walkout(*args, data_dir=tmp_path), 2, message)


@pytest.mark.slow
def test_the_review_queue_without_a_warehouse_says_to_build_it(tmp_path: Path) -> None:
    result = walkout("review", "queue", "--json", data_dir=tmp_path)
    assert_one_line_error(result, 1, "the warehouse has not been built yet")
    assert "walkout warehouse build" in result.stderr
    assert result.stdout == ""


def test_a_bare_group_prints_its_help(tmp_path: Path) -> None:
    result = walkout("warehouse", data_dir=tmp_path)
    assert result.returncode == 2
    assert "Usage" in result.stdout
    assert result.stderr == ""


@pytest.mark.slow
def test_building_a_date_the_lake_lacks_names_the_dates_it_has(tmp_path: Path) -> None:
    for topic, day in [("visits", "2026-12-01"), ("visits", "2026-12-02"), ("purchases", "2026-12-04")]:
        (DataDir(tmp_path).lake_dir / topic / f"date={day}").mkdir(parents=True)
    result = walkout("warehouse", "build", "--date", "2020-01-01", data_dir=tmp_path)
    assert_one_line_error(
        result, 1, "the lake has no data for 2020-01-01; its 3 dates: 2026-12-01..2026-12-02, 2026-12-04"
    )


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A socket listening on a free port of 127.0.0.1 that never answers."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        yield listening


@pytest.mark.parametrize("server", [["dashboard"], ["ads", "serve"], ["ui"]], ids=" ".join)
@pytest.mark.slow
def test_a_port_in_use_is_one_line(server: list[str], listener: socket.socket, tmp_path: Path) -> None:
    port = listener.getsockname()[1]
    result = walkout(*server, "--port", str(port), data_dir=tmp_path)
    assert_one_line_error(result, 1, f"cannot listen on 127.0.0.1:{port}: already in use")


@pytest.mark.slow
def test_ctrl_c_exits_130_without_a_traceback(listener: socket.socket, tmp_path: Path) -> None:
    host, port = listener.getsockname()
    environment = {
        **os.environ,
        "WALKOUT_DATA_DIR": str(tmp_path),
        "WALKOUT_KAFKA_BOOTSTRAP": f"{host}:{port}",
    }
    command = [sys.executable, "-m", "walkout", "topics", "list"]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=environment) as process:
        connection, _ = listener.accept()  # the command now waits for the silent "broker"
        with connection:
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr


def test_ctrl_c_caught_by_a_library_still_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def interrupted_request(settings: Settings) -> dict[str, int]:
        try:  # as kafka-python's event loop does with whatever a request raises
            os.kill(os.getpid(), signal.SIGINT)
        except BaseException as error:
            raise WalkoutError(f"cannot reach Kafka: {error!r}") from error
        return {}

    monkeypatch.setattr(broker, "list_topics", interrupted_request)
    monkeypatch.setattr(sys, "argv", ["walkout", "topics", "list"])
    monkeypatch.setenv("WALKOUT_DATA_DIR", str(tmp_path))
    previous = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit) as exit_:
            main()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert exit_.value.code == 130
    assert capsys.readouterr().err == "walkout: error: interrupted\n"


@pytest.mark.slow
def test_an_unexpected_failure_is_one_line_with_the_traceback_on_demand(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "data"
    not_a_directory.touch()
    result = walkout("broker", "start", data_dir=not_a_directory)
    assert_one_line_error(result, 1, "unexpected NotADirectoryError: [Errno 20] Not a directory")
    assert "WALKOUT_LOG_LEVEL=DEBUG shows the traceback" in result.stderr
    debug = walkout("broker", "start", data_dir=not_a_directory, WALKOUT_LOG_LEVEL="DEBUG")
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1].startswith("walkout: error: unexpected NotADirectoryError")


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
        assert f"created {len(TOPICS)} topics" in created.stdout, created.stdout + created.stderr
        listed = walkout("topics", "list", data_dir=tmp_path)
        for topic in TOPICS:  # every contract's topic: the edge's, the checkout's, the review's, alerts
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
    # the checkout decided the streamed days right, however the broker interleaved the stores' partitions
    # (one store's progress once made the other's events too late: 0.66 exact, ~50,000 dead letters)
    exact = re.search(r"exact receipt rate\s*│\s*([0-9.]+)", result.stdout)
    dead = re.search(r"dead-lettered\s*│\s*(\d+) ", result.stdout)
    assert exact, result.stdout
    assert dead, result.stdout
    assert float(exact[1]) >= 0.98  # measured 1.0000 on 2 stores x 1 day
    assert int(dead[1]) <= 50  # the garbled demo message and takes charged to nobody: measured 11
    assert "4 store-days backfilled" in result.stdout
    assert "fct_purchase_lines" in result.stdout
    assert DataDir(tmp_path).published_warehouse_file.exists()
    # the twin decided the older half of the review queue; the console is offered for the rest
    assert re.search(r"\d+ open review cases", result.stdout), result.stdout
    assert "walkout review console" in result.stdout
    assert "line calibration" in result.stdout  # what the rebuild's calibration asset left, or why not
    assert "loss-prevention" in result.stdout  # the streamed days' alerts
    with reading(DataDir(tmp_path).published_review_file) as con:
        states = dict(con.sql("select state, count(*) from review.review_cases group by state").fetchall())
    assert states.get("decided", 0) >= 1
    assert states.get("open", 0) >= 1
    assert walkout("broker", "status", data_dir=tmp_path).returncode == 3


@pytest.mark.parametrize(
    ("command", "key"),
    [
        (["simulate", "--stores", "1", "--days", "1"], "WALKOUT_GATE_KEY"),
        (["land", "backfill", "--stores", "1", "--days", "1"], "WALKOUT_GATE_KEY"),
        (["checkout", "run", "--idle-exit", "1"], "WALKOUT_EDGE_KEY"),
        (["land", "run", "--idle-exit", "1"], "WALKOUT_EDGE_KEY"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_what_signs_or_checks_edge_messages_refuses_the_demo_keys_unless_asked(
    command: list[str], key: str, tmp_path: Path
) -> None:
    """Signing as the store's devices, or trusting what they signed, needs the chain's keys: the public
    demo keys only when asked for (WALKOUT_DEMO_KEYS=1, as `walkout demo` does)."""
    result = walkout(*command, data_dir=tmp_path, WALKOUT_DEMO_KEYS="0")
    assert_one_line_error(result, 1, f"{key} is not set")


def test_an_instance_name_is_a_name_not_a_path(tmp_path: Path) -> None:
    result = walkout("checkout", "run", "--instance", "../../etc/x", data_dir=tmp_path)
    assert_one_line_error(result, 1, "instance name '../../etc/x' must be 1-64 letters, digits, _ or -")
