"""Forecast outputs as files a reader can trust, under ``<data dir>/models/forecasts/``:

- ``<table>/<version>.parquet`` (or ``.json``): every version, the newest :data:`KEEP_VERSIONS` kept;
- ``latest/<table>.parquet``: the newest version, swapped in with one rename, what dashboards read.

Each file is written under a temporary name, fsynced and renamed (:mod:`walkout.files`), so a reader
sees a whole old file or a whole new one; ``latest/`` holds hard links to versions. Every table
carries its ``version`` column.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from forecasting.errors import ForecastError
from walkout.files import write_atomically

LATEST = "latest"
KEEP_VERSIONS = 30
DEMAND_FORECASTS = "demand_forecasts"
BACKTEST_REPORT = "backtest_report"
BACKTEST_SUMMARY = "backtest_summary"
REORDER_SUGGESTIONS = "reorder_suggestions"
NOT_PUBLISHED = (
    "the warehouse build (walkout warehouse build) publishes it once the lake holds enough days of sales "
    "for a backtest (its log says how many)"
)


def forecasts_root(data_dir: Path) -> Path:
    """Where a data directory keeps its forecasts, backtests and reorder suggestions."""
    return data_dir.resolve() / "models" / "forecasts"


def new_version(run_id: str) -> str:
    """A version name that sorts by time and names the run: ``20261118T070512Z-1a2b3c4d``."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{run_id[:8]}"


def publish_table(root: Path, name: str, version: str, table: pl.DataFrame) -> Path:
    """Write ``table`` (with its ``version``) as ``<name>/<version>.parquet`` and make it the latest."""
    versioned = table.select(pl.lit(version).alias("version"), pl.all())
    return _publish(root, name, version, ".parquet", versioned.write_parquet)


def publish_summary(root: Path, name: str, version: str, summary: dict[str, Any]) -> Path:
    """Write ``summary`` (with its ``version``) as ``<name>/<version>.json`` and make it the latest."""
    text = json.dumps({"version": version, **summary}, indent=2)
    return _publish(root, name, version, ".json", lambda path: path.write_text(text, encoding="utf-8"))


def latest_path(root: Path, name: str, suffix: str = ".parquet") -> Path:
    return root / LATEST / f"{name}{suffix}"


def read_latest(root: Path, name: str) -> pl.DataFrame:
    """The latest version of a table; raises :class:`ForecastError` when none was published yet."""
    path = latest_path(root, name)
    if not path.exists():
        raise ForecastError(f"no {name} at {path} yet: {NOT_PUBLISHED}")
    return pl.read_parquet(path)


def read_latest_summary(root: Path, name: str) -> dict[str, Any]:
    """The latest version of a JSON summary; raises :class:`ForecastError` when none was published yet."""
    path = latest_path(root, name, ".json")
    if not path.exists():
        raise ForecastError(f"no {name} at {path} yet: {NOT_PUBLISHED}")
    summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return summary


def _publish(root: Path, name: str, version: str, suffix: str, write: Callable[[Path], Any]) -> Path:
    versions = root / name
    target = versions / f"{version}{suffix}"
    write_atomically(target, write)
    latest = latest_path(root, name, suffix)
    write_atomically(latest, lambda path: os.link(target, path))
    for old in sorted(versions.glob(f"*{suffix}"))[:-KEEP_VERSIONS]:
        old.unlink()
    return target
