"""Publishing swaps a read-only copy of the marts in with one rename: a reader of the old copy keeps
reading it, and only the marts are copied."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.publish import publish_marts


def build(warehouse: Path, revenue: int) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create schema if not exists staging")
        con.execute(f"create or replace table marts.fct_sales_daily as select {revenue} as revenue_krw")
        con.execute("create or replace table staging.stg_purchases as select 1 as purchase_id")


def test_only_the_marts_are_published_read_only(tmp_path: Path) -> None:
    build(tmp_path / "walkout.duckdb", 100)
    rows = publish_marts(tmp_path / "walkout.duckdb", tmp_path / "published.duckdb")
    assert rows == {"fct_sales_daily": 1}
    assert (tmp_path / "published.duckdb").stat().st_mode & 0o222 == 0
    with duckdb.connect(str(tmp_path / "published.duckdb"), read_only=True) as con:
        schemas = {
            name for (name,) in con.execute("select distinct schema_name from duckdb_tables()").fetchall()
        }
    assert schemas == {"marts"}


def test_a_reader_keeps_its_copy_while_a_new_one_is_published(tmp_path: Path) -> None:
    warehouse, published = tmp_path / "walkout.duckdb", tmp_path / "published.duckdb"
    build(warehouse, 100)
    publish_marts(warehouse, published)
    with duckdb.connect(str(published), read_only=True) as reader:
        build(warehouse, 200)
        publish_marts(warehouse, published)
        assert reader.execute("select revenue_krw from marts.fct_sales_daily").fetchall() == [(100,)]
    with duckdb.connect(str(published), read_only=True) as fresh:
        assert fresh.execute("select revenue_krw from marts.fct_sales_daily").fetchall() == [(200,)]
    assert not list(tmp_path.glob(".*.tmp"))


def test_publishing_needs_a_built_warehouse(tmp_path: Path) -> None:
    with pytest.raises(duckdb.Error):
        publish_marts(tmp_path / "missing.duckdb", tmp_path / "published.duckdb")
    assert not (tmp_path / "published.duckdb").exists()
