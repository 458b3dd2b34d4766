"""Read-only access to the published warehouse: the next publish is picked up, a build in progress is
never in the way, and what is missing is named in words a marketer can act on."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from dashboards.data import (
    MartMissingError,
    NoDataError,
    Period,
    Slice,
    Warehouse,
    WarehouseNotBuiltError,
    available_period,
)
from orchestration.publish import publish_schema
from orchestration.resources import WarehouseResource
from walkout.settings import Settings

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml"


def build(path: Path, revenue: int | None) -> None:
    """A warehouse as dbt leaves it: a marts schema with a one-row fact table (no row without revenue)."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.fct_visits as "
            "select 'S001' as store_id, date '2026-11-18' as local_date, 9 as local_hour, ? as revenue_krw "
            "where ? is not null",
            [revenue, revenue],
        )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


def published(settings: Settings, revenue: int | None) -> Warehouse:
    source = settings.paths.warehouse_file
    source.parent.mkdir(parents=True, exist_ok=True)
    build(source, revenue)
    publish_schema(source, settings.paths.published_warehouse_file)
    return Warehouse.of(settings)


def revenue(warehouse: Warehouse) -> int:
    return int(warehouse.query("select revenue_krw from marts.fct_visits").item())


def test_the_published_path_is_the_one_the_warehouse_build_writes(settings: Settings) -> None:
    resource = WarehouseResource(data_dir=str(settings.data_dir))
    assert settings.paths.published_warehouse_file.resolve() == resource.paths.published_warehouse_file


def test_k_anonymity_is_the_warehouse_s_own(demo_data: Settings) -> None:
    """The dashboards suppress shopper groups by the rule the warehouse was built under, published with
    the marts, not by a copy of it."""
    rule = yaml.safe_load(DBT_PROJECT.read_text())["vars"]["k_anonymity"]
    assert Warehouse.of(demo_data).k_anonymity() == rule


def test_a_new_publish_is_picked_up_by_the_next_query(settings: Settings) -> None:
    warehouse = published(settings, 1000)
    assert revenue(warehouse) == 1000
    assert revenue(warehouse) == 1000  # cached, same answer
    published(settings, 2500)
    assert revenue(warehouse) == 2500


def test_a_build_writing_the_warehouse_does_not_block_readers(settings: Settings) -> None:
    warehouse = published(settings, 1000)
    source = settings.paths.warehouse_file
    with duckdb.connect(str(source)) as writer:  # a dbt run holds the write lock on its own file
        writer.execute("update marts.fct_visits set revenue_krw = 7")
        assert revenue(warehouse) == 1000
        assert warehouse.marts() == frozenset({"fct_visits"})


def test_readers_open_the_published_copy_read_only(settings: Settings) -> None:
    warehouse = published(settings, 1000)
    before = settings.paths.published_warehouse_file.stat().st_mtime_ns
    with pytest.raises(duckdb.Error):
        warehouse.query("create table marts.scratch as select 1")
    assert settings.paths.published_warehouse_file.stat().st_mtime_ns == before


def test_no_warehouse_says_how_to_build_it(settings: Settings) -> None:
    with pytest.raises(WarehouseNotBuiltError, match=r"not been built yet .*`walkout warehouse build`"):
        Warehouse.of(settings).query("select 1")


def test_a_missing_mart_is_named(settings: Settings) -> None:
    warehouse = published(settings, 1000)
    with pytest.raises(MartMissingError, match="no zone_heatmap table yet"):
        warehouse.query("select * from marts.fct_visits join marts.zone_heatmap using (store_id)")


def test_the_available_period_spans_the_mart_s_dates(settings: Settings) -> None:
    day = date(2026, 11, 18)
    assert available_period(published(settings, 1000), "fct_visits", "local_date", "visits") == Period(
        day, day
    )
    with pytest.raises(NoDataError, match="No visits in the warehouse yet"):
        available_period(published(settings, None), "fct_visits", "local_date", "visits")


def test_a_slice_selects_stores_dates_weekdays_and_hours(settings: Settings) -> None:
    warehouse = published(settings, 1000)
    day = Period(date(2026, 11, 18), date(2026, 11, 18))  # a Wednesday
    count = "select count(*) from marts.fct_visits where {}"
    for scope, expected in [
        (Slice(("S001",), day), 1),
        (Slice(("S002",), day), 0),
        (Slice(("S001",), day, weekdays=(1, 2)), 0),
        (Slice(("S001",), day, hours=(10, 23)), 0),
        (Slice(("S001",), day.previous()), 0),
    ]:
        where, params = scope.where()
        assert warehouse.query(count.format(where), params).item() == expected, scope


def test_the_previous_period_has_the_same_length() -> None:
    week = Period(date(2026, 11, 12), date(2026, 11, 18))
    assert week.previous() == Period(date(2026, 11, 5), date(2026, 11, 11))
    assert str(week) == "2026-11-12 to 2026-11-18"


def test_a_reader_still_on_the_old_copy_does_not_hide_a_new_publish(settings: Settings) -> None:
    warehouse = published(settings, 1000)
    with duckdb.connect(str(settings.paths.published_warehouse_file), read_only=True) as slow_reader:
        published(settings, 2500)
        assert revenue(warehouse) == 2500
        assert slow_reader.sql("select revenue_krw from marts.fct_visits").fetchall() == [(1000,)]
