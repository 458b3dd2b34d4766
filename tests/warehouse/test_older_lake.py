"""A lake landed before a contract gained optional fields (the visits' demographics) still builds:
the contract check lets the older files through and dbt reads the missing columns as null."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pytest

from orchestration.build import build_warehouse
from walkout.settings import Settings

if TYPE_CHECKING:  # fixtures come from conftest.py, which is not importable as a module
    from tests.conftest import SmallLake

pytestmark = pytest.mark.slow


def test_a_lake_of_visits_without_demographics_builds_with_them_unknown(
    tmp_path: Path, small_lake: SmallLake
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    shutil.copytree(small_lake.settings.data_dir, settings.data_dir)
    shutil.rmtree(settings.paths.warehouse_dir, ignore_errors=True)
    for file in settings.paths.lake_dir.glob("visits/date=*/*.parquet"):
        pl.read_parquet(file).drop("demographic_source", "demographic_confidence").write_parquet(file)

    built = build_warehouse(settings)

    assert built.mart_rows["fct_visits"] > 0
    with duckdb.connect(str(built.published_path), read_only=True) as con:
        shoppers = "select demographic_source, count(*) from marts.dim_shoppers where visits > 0 group by all"
        sources = dict(con.sql(shoppers).fetchall())
    assert set(sources) == {"declared", "unknown"}  # no estimate survives without its columns
