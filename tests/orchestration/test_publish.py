"""Publishing swaps a read-only copy of the marts in with one rename: a reader of the old copy keeps
reading it, and only the marts are copied."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.publish import publish_schema


def build(warehouse: Path, revenue: int) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create schema if not exists staging")
        con.execute(f"create or replace table marts.fct_sales_daily as select {revenue} as revenue_krw")
        con.execute("create or replace table staging.stg_purchases as select 1 as purchase_id")


def test_only_the_marts_are_published_read_only(tmp_path: Path) -> None:
    build(tmp_path / "walkout.duckdb", 100)
    rows = publish_schema(tmp_path / "walkout.duckdb", tmp_path / "published.duckdb")
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
    publish_schema(warehouse, published)
    with duckdb.connect(str(published), read_only=True) as reader:
        build(warehouse, 200)
        publish_schema(warehouse, published)
        assert reader.execute("select revenue_krw from marts.fct_sales_daily").fetchall() == [(100,)]
    with duckdb.connect(str(published), read_only=True) as fresh:
        assert fresh.execute("select revenue_krw from marts.fct_sales_daily").fetchall() == [(200,)]
    assert not list(tmp_path.glob(".*.tmp"))


def test_publishing_needs_a_built_warehouse(tmp_path: Path) -> None:
    with pytest.raises(duckdb.Error):
        publish_schema(tmp_path / "missing.duckdb", tmp_path / "published.duckdb")
    assert not (tmp_path / "published.duckdb").exists()


def test_a_named_schema_is_published_alone_even_into_a_file_named_after_it(tmp_path: Path) -> None:
    build(tmp_path / "walkout.duckdb", 100)
    with duckdb.connect(str(tmp_path / "walkout.duckdb")) as con:
        con.execute("create schema review")
        con.execute("create table review.review_cases as select 'receipt:1' as case_id")
    rows = publish_schema(tmp_path / "walkout.duckdb", tmp_path / "review.duckdb", "review")
    assert rows == {"review_cases": 1}
    with duckdb.connect() as con:
        con.execute(f"attach '{tmp_path / 'review.duckdb'}' as published (read_only)")
        tables = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() where database_name = 'published'"
        ).fetchall()
    assert tables == [("review.review_cases",)]
