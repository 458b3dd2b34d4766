"""Disputes become review cases: a lake with shoppers' disputes (a line of a flagged receipt not taken,
a product missing from another receipt, a wrong quantity; one filed twice, one forged by someone else)
builds into open `disputed` cases with the money at stake, beside the flagged receipt's own case, with
a flagged receipt's evidence; an adjustment carrying a dispute's case id decides it. The review console
offers a disputed case's product first."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from streamlit.testing.v1 import AppTest

from orchestration.build import build_warehouse
from realtime.lander import land_offline
from review.decisions import Charge, Decision, add_line
from review.operators import operator_key
from review.published import reading
from review.queue import open_cases
from walkout.catalog import load_catalog
from walkout.contracts import DisputeKind, Purchase, ReceiptAdjustment, ReceiptDispute, dispute_id
from walkout.settings import Settings, get_settings

if TYPE_CHECKING:  # fixtures come from conftest.py, which is not importable as a module
    from tests.conftest import SmallLake

pytestmark = pytest.mark.slow
CATALOG = load_catalog()


def disputed(
    receipt: Purchase,
    product_id: str,
    kind: DisputeKind,
    quantity: int,
    after: timedelta,
    note: str = "",
    shopper_id: str | None = None,
) -> ReceiptDispute:
    return ReceiptDispute(
        event_id=dispute_id(receipt.event_id, product_id, kind),
        store_id=receipt.store_id,
        ts=receipt.ts + after,
        purchase_id=receipt.event_id,
        visit_id=receipt.visit_id,
        shopper_id=shopper_id or receipt.shopper_id,
        product_id=product_id,
        kind=kind,
        quantity=quantity,
        note=note,
    )


@dataclass(frozen=True)
class DisputedLake:
    """The small lake with the disputes below landed (and one decided), and its review file."""

    settings: Settings
    flagged: Purchase  # a line of it disputed as not taken: two cases
    not_taken: ReceiptDispute
    missing: ReceiptDispute  # decided: the operator adds the line
    wrong: ReceiptDispute
    miscounted: Purchase  # the receipt of the wrong quantity
    forged: ReceiptDispute  # filed in another shopper's name: no case
    decision: list[ReceiptAdjustment]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory, small_lake: SmallLake) -> DisputedLake:
    settings = Settings(data_dir=tmp_path_factory.mktemp("disputed") / "data")
    shutil.copytree(small_lake.settings.data_dir, settings.data_dir)
    shutil.rmtree(settings.paths.warehouse_dir, ignore_errors=True)
    receipts = small_lake.of_type(Purchase)
    flagged = next(receipt for receipt in receipts if receipt.needs_review)
    short, miscounted, other = [receipt for receipt in receipts if receipt is not flagged][:3]
    line = flagged.lines[0]
    not_taken = disputed(flagged, line.product_id, DisputeKind.NOT_TAKEN, line.quantity, timedelta(hours=2))
    absent = next(p for p in sorted(CATALOG.products) if p not in {ln.product_id for ln in short.lines})
    missing = disputed(short, absent, DisputeKind.MISSING, 2, timedelta(hours=1), "  two of them, unpaid ")
    counted = miscounted.lines[0]
    wrong = disputed(
        miscounted, counted.product_id, DisputeKind.WRONG_QUANTITY, counted.quantity + 2, timedelta(days=1)
    )
    stranger = next(m for m in sorted(CATALOG.members) if m != other.shopper_id)
    forged = disputed(
        other, other.lines[0].product_id, DisputeKind.NOT_TAKEN, 1, timedelta(hours=1), shopper_id=stranger
    )
    decision = add_line(
        Charge.of_receipt(short),
        absent,
        2,
        Decision(
            f"dispute:{missing.event_id}", 1, "OP0001", missing.ts + timedelta(hours=3), "shopper right"
        ),
    )
    land_offline(settings, [not_taken, missing, wrong, forged, *decision])
    # Filed again later, with other words: the same dispute, as first filed.
    land_offline(
        settings, [missing.model_copy(update={"ts": missing.ts + timedelta(minutes=30), "note": "?"})]
    )
    build_warehouse(settings)
    return DisputedLake(settings, flagged, not_taken, missing, wrong, miscounted, forged, decision)


def test_each_dispute_is_a_case_of_its_own_with_its_money_at_stake(lake: DisputedLake) -> None:
    with reading(lake.settings.paths.published_review_file) as con:
        rows = con.execute(
            "select case_id, store_id, visit_id, purchase_id, product_id, quantity, at_stake_krw, opened_at, "
            "state, review_reasons from review.review_cases where kind = 'disputed'"
        ).fetchall()
        flagged_kinds = con.execute(
            "select kind from review.review_cases where purchase_id = ? order by kind",
            [lake.flagged.event_id],
        ).fetchall()
    cases = {case_id: tuple(case) for case_id, *case in rows}
    line = lake.flagged.lines[0]
    wrongly = lake.miscounted.lines[0]
    price = CATALOG.product(lake.missing.product_id).price_krw

    def case(dispute: ReceiptDispute, at_stake: int, state: str, reason: str) -> tuple[object, ...]:
        return (
            dispute.store_id,
            dispute.visit_id,
            dispute.purchase_id,
            dispute.product_id,
            dispute.quantity,
            at_stake,
            dispute.ts,
            state,
            [f"disputed by the shopper: {dispute.product_id} x{dispute.quantity} {reason}"],
        )

    assert cases == {
        f"dispute:{lake.not_taken.event_id}": case(lake.not_taken, line.amount_krw, "open", "not taken"),
        f"dispute:{lake.missing.event_id}": case(
            lake.missing,
            2 * price,
            "decided",
            'taken, missing from the receipt: "two of them, unpaid"',
        ),
        f"dispute:{lake.wrong.event_id}": case(
            lake.wrong,
            2 * wrongly.unit_price_krw,
            "open",
            f"taken in all, charged x{wrongly.quantity}",
        ),
    }
    assert [line.amount_delta_krw for line in lake.decision[0].lines] == [2 * price]
    assert flagged_kinds == [("disputed",), ("flagged",)]  # the flagged receipt's own case stays


def test_a_disputed_receipt_shows_its_evidence_and_charges_like_a_flagged_one(lake: DisputedLake) -> None:
    flagged = f"receipt:{lake.flagged.event_id}"
    contested = f"dispute:{lake.not_taken.event_id}"
    with reading(lake.settings.paths.published_review_file) as con:
        evidence = {
            case_id: {
                take
                for (take,) in con.execute(
                    "select shelf_event_id from review.review_evidence where case_id = ?", [case_id]
                ).fetchall()
            }
            for case_id in (flagged, contested)
        }
        charged = con.execute(
            "select product_id, units from review.review_charges where visit_id = ?", [lake.flagged.visit_id]
        ).fetchall()
    assert evidence[contested]
    assert evidence[contested] == evidence[flagged]
    assert dict(charged) == {line.product_id: line.quantity for line in lake.flagged.lines}


def test_the_queue_lists_the_open_disputes_and_not_the_decided_one(lake: DisputedLake) -> None:
    listed = {
        case.case_id: case
        for case in open_cases(lake.settings.paths.published_review_file, lake.wrong.ts + timedelta(days=1))
    }
    assert f"dispute:{lake.not_taken.event_id}" in listed
    assert f"dispute:{lake.wrong.event_id}" in listed
    assert f"dispute:{lake.missing.event_id}" not in listed
    assert f"dispute:{lake.forged.event_id}" not in listed
    shown = listed[f"dispute:{lake.not_taken.event_id}"]
    assert (shown.kind, shown.visit_id, shown.product_id) == (
        "disputed",
        lake.flagged.visit_id,
        lake.not_taken.product_id,
    )


def test_the_console_offers_the_disputed_product_first(
    lake: DisputedLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WALKOUT_DATA_DIR", str(lake.settings.data_dir))
    monkeypatch.setenv("WALKOUT_DEMO_KEYS", "1")
    get_settings.cache_clear()
    try:
        console = Path(__file__).resolve().parents[2] / "console" / "app.py"
        app = AppTest.from_file(str(console), default_timeout=180).run()
        app.text_input[0].input("OP0001")
        app.text_input[1].input(operator_key(get_settings(), "OP0001"))
        app = app.button[0].click().run()
        (case_picker,) = [box for box in app.selectbox if box.label == "Case"]
        case_picker.select(f"dispute:{lake.not_taken.event_id}").run()
        app.radio[0].set_value("Remove a line").run()
        (line_picker,) = [box for box in app.selectbox if box.label == "Line"]
        assert line_picker.value == lake.not_taken.product_id
        app.radio[0].set_value("Add a line the sensors missed").run()
        (product_picker,) = [box for box in app.selectbox if box.label == "Product"]
        assert product_picker.value == lake.not_taken.product_id
        assert not app.exception
    finally:
        get_settings.cache_clear()
