"""Settings come from WALKOUT_* variables, then an optional env file, then defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from walkout.settings import DEMO_KEYS, SettingsError, get_settings


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in (
        "WALKOUT_DATA_DIR",
        "WALKOUT_KAFKA_BOOTSTRAP",
        "WALKOUT_TOPIC_PARTITIONS",
        "WALKOUT_ENV_FILE",
        "WALKOUT_DEMO_KEYS",
        "WALKOUT_GATE_KEY",
        "WALKOUT_EDGE_KEY",
        "WALKOUT_AD_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()


def test_defaults_run_a_fresh_checkout() -> None:
    settings = get_settings()
    assert settings.data_dir == Path("data")
    assert settings.uses_embedded_broker
    assert settings.paths.lake_dir == Path("data/lake")


def test_environment_variables_with_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALKOUT_DATA_DIR", "/srv/walkout")
    monkeypatch.setenv("WALKOUT_KAFKA_BOOTSTRAP", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("WALKOUT_TOPIC_PARTITIONS", "12")
    settings = get_settings()
    assert settings.data_dir == Path("/srv/walkout")
    assert settings.kafka_bootstrap == "kafka-1:9092,kafka-2:9092"
    assert not settings.uses_embedded_broker
    assert settings.topic_partitions == 12


def test_env_file_is_read_and_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "walkout.env").write_text("WALKOUT_DATA_DIR=/from/file\nWALKOUT_TOPIC_PARTITIONS=2\n")
    monkeypatch.setenv("WALKOUT_TOPIC_PARTITIONS", "6")
    settings = get_settings()
    assert settings.data_dir == Path("/from/file")
    assert settings.topic_partitions == 6


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WALKOUT_TOPIC_PARTITIONS", "zero"),
        ("WALKOUT_TOPIC_PARTITIONS", "0"),
        ("WALKOUT_KAFKA_BOOTSTRAP", "nohost"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        get_settings()


def test_an_unset_key_is_refused_unless_the_demo_keys_are_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingsError, match=r"WALKOUT_EDGE_KEY is not set.*WALKOUT_DEMO_KEYS=1"):
        get_settings().secret("edge_key")
    monkeypatch.setenv("WALKOUT_DEMO_KEYS", "1")
    get_settings.cache_clear()
    assert get_settings().secret("edge_key") == DEMO_KEYS["edge_key"]


def test_a_configured_key_wins_over_the_demo_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALKOUT_DEMO_KEYS", "1")
    monkeypatch.setenv("WALKOUT_GATE_KEY", "a-chain-secret-from-the-vault")
    assert get_settings().secret("gate_key") == b"a-chain-secret-from-the-vault"


@pytest.mark.parametrize("value", ["", "   ", "short"])
def test_an_empty_or_short_key_is_an_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("WALKOUT_AD_API_KEY", value)
    with pytest.raises(SettingsError, match=r"WALKOUT_AD_API_KEY: .*at least 16 characters"):
        get_settings()


def test_config_shows_whether_a_key_is_set_never_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALKOUT_EDGE_KEY", "a-chain-secret-from-the-vault")
    shown = {variable: value for variable, value, _ in get_settings().as_rows()}
    assert shown["WALKOUT_AD_API_KEY"] == "(unset)"
    assert "vault" not in shown["WALKOUT_EDGE_KEY"]
    monkeypatch.setenv("WALKOUT_DEMO_KEYS", "1")
    get_settings.cache_clear()
    assert {v: value for v, value, _ in get_settings().as_rows()}["WALKOUT_AD_API_KEY"] == "(demo key)"
