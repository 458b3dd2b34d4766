"""The books follow the decisions: a lake with operators' adjustments of three receipts (a line
removed a day later, a quantity changed, a confirmation), one of them landed twice and one lying in the
lake twice, builds into net lines and revenue that differ from the gross by exactly the adjustments,
once, on the day of the charge they correct."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from orchestration.build import build_warehouse
from realtime.lander import land_offline
from review.decisions import Charge, Decision, change_quantity, confirm_receipt, remove_line
from walkout.contracts import Purchase, ReceiptAdjustment
from walkout.settings import Settings

if TYPE_CHECKING:  # fixtures come from conftest.py, which is not importable as a module
    from tests.conftest import SmallLake

pytestmark = pytest.mark.slow


def decided(case: Purchase, after: timedelta, reason: str) -> Decision:
    return Decision(f"C-{case.visit_id}", 1, "OP0001", case.ts + after, reason)


def test_net_lines_and_revenue_move_by_exactly_the_adjustments_once(
    tmp_path: Path, small_lake: SmallLake
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    shutil.copytree(small_lake.settings.data_dir, settings.data_dir)
    shutil.rmtree(settings.paths.warehouse_dir, ignore_errors=True)
    receipts = small_lake.of_type(Purchase)
    removed_from, changed_on, confirmed = receipts[:3]
    removed_line, changed_line = removed_from.lines[0], changed_on.lines[0]
    adjustments: list[ReceiptAdjustment] = [
        *remove_line(
            Charge.of_receipt(removed_from),
            removed_line.product_id,
            decided(removed_from, timedelta(days=1), "not taken: the plate drifted"),
        ),
        *change_quantity(
            Charge.of_receipt(changed_on),
            changed_line.product_id,
            changed_line.quantity + 1,
            decided(changed_on, timedelta(minutes=20), "dispute: one more was taken"),
        ),
        *confirm_receipt(
            Charge.of_receipt(confirmed), decided(confirmed, timedelta(minutes=5), "as charged")
        ),
    ]
    land_offline(settings, adjustments)
    land_offline(settings, adjustments[:1])  # sent again: the lander drops what the lake holds
    (landed,) = settings.paths.lake_dir.glob(f"receipt.adjustments/date={adjustments[0].ts.date()}/*.parquet")
    shutil.copy(landed, landed.with_name(f"again-{landed.name}"))  # in the lake twice: staging drops it

    built = build_warehouse(settings)

    delta = {adjustment.visit_id: adjustment.amount_delta_krw for adjustment in adjustments}
    assert delta == {
        removed_from.visit_id: -removed_line.amount_krw,
        changed_on.visit_id: changed_line.unit_price_krw,
        confirmed.visit_id: 0,
    }
    gross = sum(receipt.total_krw for receipt in receipts)
    with duckdb.connect(str(built.published_path), read_only=True) as con:
        sales = con.execute(
            "select sum(units_sold), sum(net_units_sold), sum(gross_revenue_krw), sum(adjustments_krw), "
            "sum(net_revenue_krw) from marts.fct_sales_daily"
        ).fetchone()
        visits = {
            visit_id: totals
            for visit_id, *totals in con.execute(
                "select visit_id, receipt_total_krw, adjustments_krw, net_total_krw from marts.fct_visits "
                "where adjustments_krw <> 0 or visit_id in ?",
                [list(delta)],
            ).fetchall()
        }
        lines = con.sql(
            "select visit_id, product_id, kind, quantity_delta, amount_delta_krw, local_date "
            "from marts.fct_receipt_adjustment_lines order by amount_delta_krw"
        ).fetchall()
        sale_day = dict(
            con.execute(
                "select distinct visit_id, local_date from marts.fct_purchase_lines where visit_id in ?",
                [list(delta)],
            ).fetchall()
        )
    units = sum(line.quantity for receipt in receipts for line in receipt.lines)
    net = gross + sum(delta.values())
    assert sales == (units, units - removed_line.quantity + 1, gross, sum(delta.values()), net)
    assert visits == {
        receipt.visit_id: [
            receipt.total_krw,
            delta[receipt.visit_id],
            receipt.total_krw + delta[receipt.visit_id],
        ]
        for receipt in (removed_from, changed_on, confirmed)
    }
    assert lines == [
        (
            removed_from.visit_id,
            removed_line.product_id,
            "remove_line",
            -removed_line.quantity,
            -removed_line.amount_krw,
            sale_day[removed_from.visit_id],  # the day it was charged, not the day after it was decided
        ),
        (
            changed_on.visit_id,
            changed_line.product_id,
            "change_quantity",
            1,
            changed_line.unit_price_krw,
            sale_day[changed_on.visit_id],
        ),
    ]
