"""The books follow the decisions: a lake with operators' adjustments of three receipts (a line
removed a day later, a quantity changed, a confirmation), one of them landed twice and one lying in the
lake twice, builds into net lines and revenue that differ from the gross by exactly the adjustments,
once, on the day of the charge they correct. The same warehouse holds the review cases of the day: the
confirmation decides its flagged receipt's case, and `walkout review queue` lists the others."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from orchestration.build import WarehouseBuild, build_warehouse
from realtime.lander import land_offline
from review.decisions import Charge, Decision, change_quantity, confirm_receipt, remove_line
from review.published import reading
from walkout.catalog import load_catalog
from walkout.contracts import (
    Attribution,
    DeadLetter,
    Purchase,
    ReceiptAdjustment,
    ShelfAction,
    ShelfEvent,
    dead_letter,
    make_event_id,
)
from walkout.settings import Settings

if TYPE_CHECKING:  # fixtures come from conftest.py, which is not importable as a module
    from tests.conftest import SmallLake

pytestmark = pytest.mark.slow


def decided(case: Purchase, after: timedelta, reason: str) -> Decision:
    return Decision(f"receipt:{case.event_id}", 1, "OP0001", case.ts + after, reason)  # its review case's id


@dataclass(frozen=True)
class AdjustedBooks:
    """The small lake with the decisions below landed, and its warehouse."""

    settings: Settings
    receipts: list[Purchase]
    removed_from: Purchase
    changed_on: Purchase
    confirmed: Purchase  # a receipt flagged for review: confirming it decides its case
    adjustments: list[ReceiptAdjustment]
    built: WarehouseBuild


def forged_takes(beside: Purchase) -> list[DeadLetter]:
    """Dead letters anyone able to write the topic could forge, claiming a pick charged to nobody:
    bytes that are not UTF-8, not base64, and JSON naming a shelf event the lake never had. None may
    open a case or stop the build."""
    template = dead_letter(b"", ShelfEvent.TOPIC, "unattributable: forged", "checkout", beside.store_id)
    unknown = {"event_id": "forged-take-0001", "action": "pick", "product_id": "P0001", "quantity": -5}
    originals = [
        base64.b64encode(b"\xff\xfe not a shelf event").decode(),
        "!!! not base64",
        base64.b64encode(json.dumps(unknown).encode()).decode(),
    ]
    return [
        template.model_copy(
            update={"event_id": make_event_id("forged", index), "ts": beside.ts, "original_b64": original}
        )
        for index, original in enumerate(originals)
    ]


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory, small_lake: SmallLake) -> AdjustedBooks:
    settings = Settings(data_dir=tmp_path_factory.mktemp("adjusted") / "data")
    shutil.copytree(small_lake.settings.data_dir, settings.data_dir)
    shutil.rmtree(settings.paths.warehouse_dir, ignore_errors=True)
    receipts = small_lake.of_type(Purchase)
    confirmed = next(receipt for receipt in receipts if receipt.needs_review)
    removed_from, changed_on = [receipt for receipt in receipts if receipt is not confirmed][:2]
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
    land_offline(settings, forged_takes(confirmed))
    (landed,) = settings.paths.lake_dir.glob(f"receipt.adjustments/date={adjustments[0].ts.date()}/*.parquet")
    shutil.copy(landed, landed.with_name(f"again-{landed.name}"))  # in the lake twice: staging drops it
    built = build_warehouse(settings)
    return AdjustedBooks(settings, receipts, removed_from, changed_on, confirmed, adjustments, built)


def test_net_lines_and_revenue_move_by_exactly_the_adjustments_once(books: AdjustedBooks) -> None:
    receipts, adjustments, built = books.receipts, books.adjustments, books.built
    removed_from, changed_on, confirmed = books.removed_from, books.changed_on, books.confirmed
    removed_line, changed_line = removed_from.lines[0], changed_on.lines[0]

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


def review_cases(books: AdjustedBooks, kind: str) -> dict[str, tuple[object, ...]]:
    with reading(books.settings.paths.published_review_file) as con:
        rows = con.execute(
            "select case_id, store_id, visit_id, product_id, quantity, at_stake_krw, opened_at "
            "from review.review_cases where kind = ?",
            [kind],
        ).fetchall()
    return {case_id: tuple(case) for case_id, *case in rows}


def test_the_review_cases_are_the_flagged_receipts_and_the_takes_charged_to_nobody(
    books: AdjustedBooks, small_lake: SmallLake
) -> None:
    flagged = [receipt for receipt in books.receipts if receipt.needs_review]
    assert flagged, "the simulated day flags receipts for review"
    assert review_cases(books, "flagged") == {
        f"receipt:{receipt.event_id}": (
            receipt.store_id,
            receipt.visit_id,
            None,
            None,
            receipt.total_krw,
            receipt.ts,
        )
        for receipt in flagged
    }
    takes = [  # the forged dead letters of the lake name none
        ShelfEvent.model_validate_json(letter.original())
        for letter in small_lake.of_type(DeadLetter)
        if letter.source_topic == ShelfEvent.TOPIC and letter.reason.startswith("unattributable")
    ]
    catalog = load_catalog()
    assert review_cases(books, "unattributed") == {
        f"take:{take.event_id}": (
            take.store_id,
            None,
            take.product_id,
            take.quantity,
            catalog.product(take.product_id).price_krw * take.quantity,
            take.ts,
        )
        for take in takes
        if take.action is ShelfAction.PICK
    }


def published_tables(path: Path) -> set[str]:
    with duckdb.connect() as con:
        con.execute(f"attach '{path}' as published (read_only)")
        return {
            f"{schema}.{table}"
            for schema, table in con.sql(
                "select schema_name, table_name from duckdb_tables() where database_name = 'published'"
            ).fetchall()
        }


def test_the_review_cases_are_published_apart_from_the_marts(books: AdjustedBooks) -> None:
    """The marketers' app and the ad API open the marts file: the cases (single receipts, who took what)
    must not be in it; the review console's file holds them and nothing else."""
    marts = published_tables(books.built.published_path)
    review = published_tables(books.settings.paths.published_review_file)
    assert "marts.fct_sales_daily" in marts
    assert not any(table.startswith("review.") for table in marts)
    assert "review.review_cases" in review
    assert {table.split(".")[0] for table in review} == {"review"}


def test_a_decision_on_a_case_decides_it_and_the_queue_lists_the_others(books: AdjustedBooks) -> None:
    with reading(books.settings.paths.published_review_file) as con:
        states = {
            case_id: (state, decided_at)
            for case_id, state, decided_at in con.sql(
                "select case_id, state, decided_at from review.review_cases"
            ).fetchall()
        }
        oldest_first = [
            case_id
            for (case_id,) in con.sql(
                "select case_id from review.review_cases where state = 'open' "
                "order by opened_at, at_stake_krw desc nulls last, case_id"
            ).fetchall()
        ]
    case = f"receipt:{books.confirmed.event_id}"
    assert states.pop(case) == ("decided", books.confirmed.ts + timedelta(minutes=5))
    assert {state for state, _ in states.values()} == {"open"}  # the other decisions name no flagged case

    listed = subprocess.run(
        [sys.executable, "-m", "walkout", "review", "queue", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "WALKOUT_DATA_DIR": str(books.settings.data_dir)},
        timeout=120,
        check=True,
    )
    queue = json.loads(listed.stdout)["open_cases"]
    assert (
        [open_case["case_id"] for open_case in queue]
        == oldest_first
        == sorted(states, key=oldest_first.index)
    )
    assert all(open_case["age_s"] > 0 for open_case in queue)


def test_each_case_shows_its_contested_takes_with_whom_they_were_weighed_and_their_walks(
    books: AdjustedBooks, small_lake: SmallLake
) -> None:
    """The evidence of a flagged receipt is every take charged to its visit and every take of another
    visit it was weighed for, as the checkout published them; the floor plan gets the tracks of the
    visits shown, 20 s either side of the take."""
    attributions = small_lake.of_type(Attribution)
    flagged = {
        f"receipt:{receipt.event_id}": receipt.visit_id for receipt in books.receipts if receipt.needs_review
    }
    expected = {
        (case_id, taken.shelf_event_id, taken.visit_id == visit_id)
        for case_id, visit_id in flagged.items()
        for taken in attributions
        if taken.visit_id == visit_id or any(c.visit_id == visit_id for c in taken.candidates)
    }
    assert any(not charged_here for _, _, charged_here in expected), (
        "some receipt is flagged for another's take"
    )
    with reading(books.settings.paths.published_review_file) as con:
        evidence = con.sql(
            "select case_id, shelf_event_id, charged_to_case, candidates, weight_delta_g, expected_weight_g "
            "from review.review_evidence where case_id like 'receipt:%'"
        ).fetchall()
        walks = con.sql(
            "select case_id, shelf_event_id, visit_id, min(seconds_from_take), max(seconds_from_take), "
            "count(*) from review.review_tracks group by all"
        ).fetchall()
    assert {(case_id, take, here) for case_id, take, here, *_ in evidence} == expected
    by_take = {taken.shelf_event_id: taken for taken in attributions}
    for _, take, _, candidates, weight, expected_weight in evidence:
        assert [c["visit_id"] for c in candidates] == [c.visit_id for c in by_take[take].candidates]
        assert weight is not None
        assert expected_weight > 0
    shown = {(case_id, take, visit) for case_id, take, visit, *_ in walks if case_id in flagged}
    wanted = {
        (case_id, take, visit)
        for case_id, take, *_ in evidence
        for visit in {by_take[take].visit_id} | {c.visit_id for c in by_take[take].candidates}
        if visit is not None
    }
    assert shown <= wanted
    assert len(wanted & shown) == len(wanted)
    assert all(first >= -20 and last <= 20 and samples > 10 for *_, first, last, samples in walks)


def test_the_charges_under_review_stand_as_the_receipts_and_decisions_left_them(books: AdjustedBooks) -> None:
    """The console decides on review_charges: a flagged receipt's lines as charged, and a receipt with a
    line removed a day later, without it (were it under review)."""
    with reading(books.settings.paths.published_review_file) as con:
        charges = con.sql(
            "select visit_id, product_id, units, unit_price_krw, purchase_id from review.review_charges"
        ).fetchall()
    by_visit: dict[str, dict[str, tuple[int, int]]] = {}
    for visit_id, product_id, units, price, _ in charges:
        by_visit.setdefault(visit_id, {})[product_id] = (units, price)
    confirmed = books.confirmed
    assert by_visit[confirmed.visit_id] == {
        line.product_id: (line.quantity, line.unit_price_krw) for line in confirmed.lines
    }
    for receipt in (books.removed_from, books.changed_on):
        if receipt.visit_id in by_visit:  # only if some case shows it
            assert by_visit[receipt.visit_id] != {
                line.product_id: (line.quantity, line.unit_price_krw) for line in receipt.lines
            }


def test_the_review_figures_count_the_cases_decisions_and_late_charges(books: AdjustedBooks) -> None:
    """Per store-day and cause: every case once, the confirmed one decided without changing the charge;
    per store-day: every receipt, and the two a decision changed after the exit, one a day later."""
    with reading(books.settings.paths.published_review_file) as con:
        (cases,) = con.sql("select count(*) from review.review_cases").fetchall()
        figures = con.sql(
            "select sum(cases), sum(decided), sum(still_open), sum(changed_charge) from review.review_daily"
        ).fetchall()
        times = con.sql(
            "select sum(receipts), sum(receipts_changed_later), max(max_minutes_to_final_charge) "
            "from review.review_charge_times"
        ).fetchall()
    assert figures == [(cases[0], 1, cases[0] - 1, 0)]
    assert times == [(len(books.receipts), 2, 24 * 60.0)]  # the removal, decided a day after the exit
