"""A receipt says which calibration scored it, and so does the warehouse: the small lake's day charged by a
checkout that loaded a calibration builds into purchases and visits that name its version, and the same
day charged without one names none."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pytest

from orchestration.build import WarehouseBuild, build_warehouse
from realtime.checkout.replay import replay_checkout
from realtime.lander import land_offline
from walkout.calibration import Calibration
from walkout.catalog import load_catalog
from walkout.contracts import Purchase
from walkout.settings import Settings

if TYPE_CHECKING:  # fixtures come from conftest.py, which is not importable as a module
    from tests.conftest import SmallLake

pytestmark = pytest.mark.slow

CALIBRATION = Calibration("20261208T000000000000Z-test", (0.5, 1.0), (0.4, 1.0), 0.6, 0.001, {"lines": 2})


def test_purchases_and_visits_name_the_calibration_that_scored_the_receipt(
    small_lake: SmallLake, warehouse: WarehouseBuild, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = Settings(data_dir=tmp_path_factory.mktemp("calibrated") / "data")
    store_day = small_lake.store_day
    edge = [event for _, event in store_day.events]
    charged = replay_checkout(load_catalog(), store_day.store_id, edge, calibration=CALIBRATION)
    land_offline(settings, edge + charged)
    build_warehouse(settings)
    receipts = {event.visit_id for event in charged if isinstance(event, Purchase)}

    def versions(data: Settings) -> dict[str, str | None]:
        with duckdb.connect(str(data.paths.published_warehouse_file), read_only=True) as con:
            rows = con.execute(
                "select visit_id, calibration_version from marts.fct_visits where receipt_total_krw > 0"
            ).fetchall()
        return dict(rows)

    assert set(versions(settings)) == receipts
    assert set(versions(settings).values()) == {CALIBRATION.version}
    assert set(versions(small_lake.settings).values()) == {None}  # charged by review_below
