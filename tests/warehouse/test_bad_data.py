"""A run for one lake date whose files hold bad data: that date alone is rebuilt, duplicates are
dropped in staging, and a negative stock and a dangling product id fail their checks by name, stop
what depends on them and leave the published marts as they were."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import duckdb
import pytest

from orchestration.build import WarehouseBuild, WarehouseError, build_warehouse
from walkout.catalog import load_catalog
from walkout.contracts import Purchase, ReceiptLine, ShelfAction, ShelfEvent, Visit, make_event_id
from walkout.settings import Settings

if TYPE_CHECKING:  # fixtures come from conftest.py, which is not importable as a module
    from tests.conftest import Land, SmallLake

pytestmark = pytest.mark.slow

UNKNOWN_PRODUCT = "P9999"
DAILY_MODEL = "marts.fct_dwell_segments"


def overdrawn_plate(visit: Visit) -> ShelfEvent:
    """A pick of 50 units from a plate that holds far fewer."""
    catalog = load_catalog()
    plate = catalog.store(visit.store_id).plates[0]
    return ShelfEvent(
        event_id=make_event_id("bad-pick", plate.plate_id),
        store_id=plate.store_id,
        ts=visit.entered_at + timedelta(seconds=30),
        shelf_id=f"{plate.gondola_id}-S{plate.shelf}",
        plate_id=plate.plate_id,
        action=ShelfAction.PICK,
        weight_delta_g=-50.0 * catalog.product(plate.product_id).unit_weight_g,
        product_id=plate.product_id,
        quantity=50,
        confidence=0.9,
    )


def unknown_product_receipt(visit: Visit) -> list[Visit | Purchase]:
    """A visit whose receipt charges a product the catalog does not have."""
    visit = visit.model_copy(update={"event_id": make_event_id("bad-visit"), "visit_id": "S002-bad-visit"})
    line = ReceiptLine(
        product_id=UNKNOWN_PRODUCT, quantity=1, unit_price_krw=1000, amount_krw=1000, confidence=1.0
    )
    receipt = Purchase(
        event_id=make_event_id("bad-purchase"),
        store_id=visit.store_id,
        ts=visit.ts,
        visit_id=visit.visit_id,
        shopper_id=visit.shopper_id,
        lines=(line,),
        total_krw=1000,
        confidence=1.0,
        needs_review=False,
    )
    return [visit, receipt]


@dataclass(frozen=True)
class BadDayRun:
    settings: Settings
    day: str
    failure: str
    rows_built_before: dict[str, int]
    published_before: bytes


def daily_rows(settings: Settings) -> dict[str, int]:
    with duckdb.connect(str(settings.paths.warehouse_file), read_only=True) as con:
        return dict(
            con.execute(f"select lake_date::varchar, count(*) from {DAILY_MODEL} group by all").fetchall()
        )


@pytest.fixture(scope="module")
def bad_day(
    tmp_path_factory: pytest.TempPathFactory, small_lake: SmallLake, land: Land, warehouse: WarehouseBuild
) -> BadDayRun:
    """The good warehouse, copied; then bad files land on its first lake date and a run rebuilds that date."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("bad-day") / "data")
    shutil.copytree(small_lake.settings.data_dir, settings.data_dir)
    built = daily_rows(settings)
    day = min(built)
    visit = next(
        v for v in small_lake.of_type(Visit) if v.ts.date() == v.entered_at.date() == date.fromisoformat(day)
    )
    for file in list(settings.paths.lake_dir.glob(f"purchases/date={day}/*.parquet")):
        shutil.copy(file, file.with_name(f"part-duplicate-{file.name}"))  # a compaction caught mid-way
    land(settings, [overdrawn_plate(visit), *unknown_product_receipt(visit)])
    with duckdb.connect(str(settings.paths.warehouse_file)) as con:
        con.execute(f"delete from {DAILY_MODEL}")  # so that only what the run rebuilds is there
    published = settings.paths.published_warehouse_file
    published_before = published.read_bytes()
    with pytest.raises(WarehouseError) as failure:
        build_warehouse(settings, partition=day)
    return BadDayRun(settings, day, str(failure.value), built, published_before)


def count(settings: Settings, relation: str, where: str = "true") -> int:
    with duckdb.connect(str(settings.paths.warehouse_file), read_only=True) as con:
        (rows,) = con.execute(f"select count(*) from {relation} where {where}").fetchone() or (0,)
    return int(rows)


def test_bad_data_fails_the_matching_checks_by_name(bad_day: BadDayRun) -> None:
    failure = bad_day.failure
    assert "check intermediate/int_plate_stock:no_negative_stock failed on 1 rows" in failure
    assert "check staging/stg_purchase_lines:purchased_product_exists_in_catalog failed on 1 rows" in failure


def test_what_depends_on_bad_data_is_not_rebuilt_nor_published(bad_day: BadDayRun) -> None:
    bad_pick = f"'{make_event_id('bad-pick', load_catalog().store('S002').plates[0].plate_id)}'"
    assert count(bad_day.settings, "intermediate.int_plate_stock", f"shelf_event_id = {bad_pick}") == 1
    assert count(bad_day.settings, "marts.stockouts", f"stockout_id = {bad_pick}") == 0
    assert count(bad_day.settings, "marts.fct_purchase_lines", f"product_id = '{UNKNOWN_PRODUCT}'") == 0
    published = bad_day.settings.paths.published_warehouse_file
    assert published.read_bytes() == bad_day.published_before


def test_duplicated_files_are_deduplicated_in_staging(bad_day: BadDayRun, small_lake: SmallLake) -> None:
    landed = len(small_lake.of_type(Purchase)) + 1  # and the bad receipt
    assert count(bad_day.settings, "staging.stg_purchases") == landed


def test_only_the_runs_lake_date_is_rebuilt(bad_day: BadDayRun) -> None:
    assert len(bad_day.rows_built_before) == 2  # the store's local day spans two UTC lake dates
    assert daily_rows(bad_day.settings) == {bad_day.day: bad_day.rows_built_before[bad_day.day]}
