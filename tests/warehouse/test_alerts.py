"""Alerts in the warehouse: the checkout's alerts of the small lake, plus two landed by hand (one of them
landed again the next day, as a re-sent alert would be), build into stg_alerts once each and into the
daily mart's counts per store, local day and kind."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import duckdb
import pytest

from orchestration.build import WarehouseBuild, build_warehouse
from realtime.lander import land_offline
from walkout.catalog import load_catalog
from walkout.contracts import Alert, AlertItem, AlertKind, AlertSeverity, alert_id
from walkout.settings import Settings

if TYPE_CHECKING:  # fixtures come from conftest.py, which is not importable as a module
    from tests.conftest import SmallLake

pytestmark = pytest.mark.slow
CATALOG = load_catalog()


@dataclass(frozen=True)
class AlertedLake:
    settings: Settings
    built: WarehouseBuild
    alerts: list[Alert]  # every distinct alert landed, the checkout's and ours


def unpaid_exit(lake: SmallLake, after: timedelta) -> Alert:
    product = sorted(CATALOG.products)[0]
    price = CATALOG.product(product).price_krw
    return Alert(
        event_id=alert_id(AlertKind.UNPAID_EXIT, lake.store_day.store_id, "hand-made", str(after)),
        store_id=lake.store_day.store_id,
        ts=lake.landed[0].ts + after,
        kind=AlertKind.UNPAID_EXIT,
        severity=AlertSeverity.HIGH,
        track_ids=("T-hand",),
        evidence="left carrying goods no visit was charged for",
        items=(AlertItem(product_id=product, quantity=9, unit_price_krw=price),),
        value_krw=9 * price,
    )


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory, small_lake: SmallLake) -> AlertedLake:
    settings = Settings(data_dir=tmp_path_factory.mktemp("alerted") / "data")
    shutil.copytree(small_lake.settings.data_dir, settings.data_dir)
    shutil.rmtree(settings.paths.warehouse_dir, ignore_errors=True)
    ours = [unpaid_exit(small_lake, timedelta(hours=2)), unpaid_exit(small_lake, timedelta(hours=3))]
    land_offline(settings, ours)
    # Sent again a day later (a checkout restored from an older snapshot): the same alert, as first raised.
    land_offline(settings, [ours[0].model_copy(update={"ts": ours[0].ts + timedelta(days=1)})])
    return AlertedLake(settings, build_warehouse(settings), [*small_lake.of_type(Alert), *ours])


def rows(lake: AlertedLake, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(lake.built.published_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def local_date(alert: Alert) -> date:
    return alert.ts.astimezone(ZoneInfo(CATALOG.store(alert.store_id).timezone)).date()


def test_the_checkout_raised_alerts_on_the_simulated_day(lake: AlertedLake) -> None:
    assert len(lake.alerts) > 2  # the simulated day's own, besides ours


def test_each_alert_is_counted_once_per_store_day_and_kind(lake: AlertedLake) -> None:
    expected: Counter[tuple[str, date, str]] = Counter()
    high: Counter[tuple[str, date, str]] = Counter()
    value: Counter[tuple[str, date, str]] = Counter()
    for alert in lake.alerts:
        key = (alert.store_id, local_date(alert), alert.kind.value)
        expected[key] += 1
        high[key] += alert.severity is AlertSeverity.HIGH
        value[key] += alert.value_krw
    mart = rows(
        lake,
        "select store_id, alert_date, kind, alerts, high_severity_alerts, value_at_stake_krw "
        "from marts.fct_alerts_daily",
    )
    assert {(s, d, k): (n, h, v) for s, d, k, n, h, v in mart} == {
        key: (expected[key], high[key], value[key]) for key in expected
    }


def test_the_marts_hold_no_individual_alert(lake: AlertedLake) -> None:
    tables = rows(lake, "select table_name from duckdb_tables() where table_name like '%alert%'")
    assert tables == [("fct_alerts_daily",)]
    columns = {
        name
        for (name,) in rows(
            lake, "select column_name from duckdb_columns() where table_name = 'fct_alerts_daily'"
        )
    }
    assert not columns & {"alert_id", "track_ids", "visit_id", "evidence", "items"}
