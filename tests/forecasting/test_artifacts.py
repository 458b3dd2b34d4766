"""Published forecast files: versioned, the latest swapped in with one rename, old versions pruned."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from forecasting import artifacts
from forecasting.artifacts import (
    latest_path,
    publish_summary,
    publish_table,
    read_latest,
    read_latest_summary,
)
from forecasting.errors import ForecastError
from walkout.data_dir import DataDir


def test_each_version_is_kept_and_the_latest_is_the_newest(tmp_path: Path) -> None:
    root = DataDir(tmp_path).forecasts_dir
    first = publish_table(root, "demand_forecasts", "20261118T070000Z-aaaa", pl.DataFrame({"units": [1.0]}))
    publish_table(root, "demand_forecasts", "20261119T070000Z-bbbb", pl.DataFrame({"units": [2.0]}))
    assert pl.read_parquet(first).to_dicts() == [{"version": "20261118T070000Z-aaaa", "units": 1.0}]
    assert read_latest(root, "demand_forecasts").to_dicts() == [
        {"version": "20261119T070000Z-bbbb", "units": 2.0}
    ]
    assert not list(root.rglob(".*.tmp"))


def test_a_reader_of_the_latest_keeps_its_file_while_a_new_one_is_published(tmp_path: Path) -> None:
    root = DataDir(tmp_path).forecasts_dir
    publish_table(root, "reorder_suggestions", "v1", pl.DataFrame({"units": [1]}))
    with latest_path(root, "reorder_suggestions").open("rb") as reader:
        publish_table(root, "reorder_suggestions", "v2", pl.DataFrame({"units": [2]}))
        assert pl.read_parquet(reader)["version"].to_list() == ["v1"]
    assert read_latest(root, "reorder_suggestions")["version"].to_list() == ["v2"]


def test_old_versions_are_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(artifacts, "KEEP_VERSIONS", 2)
    root = DataDir(tmp_path).forecasts_dir
    for version in ("v1", "v2", "v3"):
        publish_summary(root, "backtest_summary", version, {"series": 1})
    assert sorted(path.name for path in (root / "backtest_summary").iterdir()) == ["v2.json", "v3.json"]
    assert read_latest_summary(root, "backtest_summary") == {"version": "v3", "series": 1}


def test_nothing_published_yet_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ForecastError, match="walkout warehouse build"):
        read_latest(DataDir(tmp_path).forecasts_dir, "demand_forecasts")
