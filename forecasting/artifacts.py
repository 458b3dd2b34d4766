"""Forecast outputs as files a reader can trust, under a data directory's ``forecasts_dir``
(``models/forecasts/``, see :class:`walkout.data_dir.DataDir`):

- ``<table>/<version>.parquet`` (or ``.json``): every version, the newest :data:`KEEP_VERSIONS` kept;
- ``latest/<table>.parquet``: the newest version, swapped in with one rename, what dashboards read.

Versions are written whole and pruned by :mod:`walkout.versions`; ``latest/`` holds hard links to
them, each swapped in with one rename. Every table carries its ``version`` column.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from forecasting.errors import ForecastError
from walkout.files import write_atomically
from walkout.versions import write_version

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
    target = write_version(root / name, version, suffix, write, KEEP_VERSIONS)
    write_atomically(latest_path(root, name, suffix), lambda path: os.link(target, path))
    return target
