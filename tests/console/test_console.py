"""The operators' review console under Streamlit's AppTest, on the small lake's published review file:
nothing shows before an operator signs in with their key, the queue is the open cases in order, a case
shows its evidence (whom the checkout weighed, the walks on the floor plan with the plate marked), and a
decision sent from it reaches Kafka, lands, and closes its case at the next warehouse build."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from orchestration.build import WarehouseBuild, build_warehouse
from realtime.lander import land_offline
from review.cases import case_file
from review.decisions import Decision, confirm_receipt, remove_line, write_off
from review.operators import operator_key
from review.published import reading
from review.queue import open_cases
from walkout.contracts import ReceiptAdjustment, parse_event
from walkout.kafka import bootstrap_servers, drain, make_consumer
from walkout.settings import Settings, get_settings

if TYPE_CHECKING:
    from tests.conftest import SmallLake

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[2] / "console" / "app.py"
OpenConsole = Callable[..., AppTest]


@pytest.fixture
def open_console(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenConsole]:
    """Run the console on a data directory (and a Kafka cluster, if given), with the public demo keys."""

    def open_(settings: Settings, kafka_bootstrap: str | None = None) -> AppTest:
        monkeypatch.setenv("WALKOUT_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("WALKOUT_DEMO_KEYS", "1")
        if kafka_bootstrap is not None:
            monkeypatch.setenv("WALKOUT_KAFKA_BOOTSTRAP", kafka_bootstrap)
        get_settings.cache_clear()
        return AppTest.from_file(str(APP), default_timeout=180).run()

    yield open_
    get_settings.cache_clear()


def sign_in(app: AppTest, operator: str, key: str | None = None) -> AppTest:
    app.text_input[0].input(operator)
    app.text_input[1].input(key if key is not None else operator_key(get_settings(), operator))
    return app.button[0].click().run()


def send_decision(app: AppTest, reason: str) -> None:
    """Give the decision on screen its reason and send it."""
    app.text_input[0].input(reason).run()
    (send,) = [button for button in app.button if button.label == "Send the decision"]
    send.click().run()


def shown(app: AppTest) -> str:
    parts = [*app.title, *app.subheader, *app.markdown, *app.caption, *app.info, *app.success, *app.error]
    return "\n".join(str(part.value) for part in parts)


def test_nothing_shows_before_an_operator_signs_in_with_their_own_key(
    warehouse: WarehouseBuild, small_lake: SmallLake, open_console: OpenConsole
) -> None:
    app = open_console(small_lake.settings)
    assert not app.exception
    assert not app.dataframe
    assert not app.metric
    sign_in(app, "OP0001", key=operator_key(get_settings(), "OP0002"))  # another operator's key
    assert [error.value for error in app.error] == ["that is not the key of operator OP0001"]
    assert not app.dataframe
    sign_in(app, "OP0001")
    assert not app.exception
    assert "Signed in as **OP0001**" in [markdown.value for markdown in app.sidebar.markdown]
    assert app.dataframe


def test_the_queue_is_the_open_cases_in_order_and_a_case_shows_whom_the_checkout_weighed(
    warehouse: WarehouseBuild, small_lake: SmallLake, open_console: OpenConsole
) -> None:
    settings = small_lake.settings
    expected = open_cases(settings.paths.published_review_file, datetime.now(UTC))
    with reading(settings.paths.published_review_file) as con:
        contested = con.sql(
            "select case_id, plate_id, candidates from review.review_evidence "
            "where len(candidates) > 1 order by case_id limit 1"
        ).fetchall()
    ((case_id, plate_id, candidates),) = contested
    app = sign_in(open_console(settings), "OP0001")

    assert f"{len(expected)} open cases" in shown(app)
    assert list(app.dataframe[0].value["Case"]) == [case.case_id for case in expected]
    (case_picker,) = [box for box in app.selectbox if box.label == "Case"]
    case_picker.select(case_id).run()
    assert not app.exception
    weighed = [
        frame.value
        for frame in app.dataframe
        if "Likelihood" in frame.value.columns and len(frame.value) == len(candidates)
    ]
    assert weighed, "the contested take's candidates are listed"
    assert list(weighed[0]["Visit"]) == [c["visit_id"] or "not admitted" for c in candidates]
    assert list(weighed[0]["Likelihood"]) == [f"{c['likelihood']:.0%}" for c in candidates]
    drawn = chart_rows(app)
    assert f"plate {plate_id}" in {row["label"] for row in drawn if "label" in row}, "the plate is marked"
    walkers = {row["who"] for row in drawn if "who" in row}
    assert {c["visit_id"] for c in candidates if c["visit_id"]} <= walkers, "each candidate's walk is drawn"


def chart_rows(app: AppTest) -> list[dict[str, object]]:
    """Every row of data the page's charts draw (Streamlit sends each chart's data as Arrow)."""
    return [
        row
        for chart in app.get("vega_lite_chart")
        for dataset in chart.proto.datasets  # type: ignore[attr-defined]
        for row in pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()
    ]


@pytest.mark.kafka
def test_a_decision_sent_from_the_console_reaches_kafka_lands_and_closes_its_case(
    warehouse: WarehouseBuild,
    small_lake: SmallLake,
    kafka_settings: Settings,
    open_console: OpenConsole,
    tmp_path: Path,
) -> None:
    """An operator removes one unit of a flagged receipt's first line. The adjustment is on the topic
    (with the operator's id, nothing of the shopper's), lands as the lander lands it, and the next
    build nets it and closes the case, which leaves the console's list at once."""
    settings = Settings(data_dir=tmp_path / "data")
    shutil.copytree(small_lake.settings.data_dir, settings.data_dir)
    bootstrap = bootstrap_servers(kafka_settings)
    operator = f"OP-{uuid.uuid4().hex[:8]}"  # this test's decisions, whatever else the topic holds
    opened = open_cases(settings.paths.published_review_file, datetime.now(UTC))
    case = next(case for case in opened if case.kind == "flagged")
    app = sign_in(open_console(settings, bootstrap), operator)
    (case_picker,) = [box for box in app.selectbox if box.label == "Case"]
    case_picker.select(case.case_id).run()
    app.radio[0].set_value("Remove a line").run()
    (line_picker,) = [box for box in app.selectbox if box.label == "Line"]
    product = line_picker.value
    app.number_input[0].set_value(1).run()
    send_decision(app, "the plate drifted: nobody took the second")
    assert not app.exception
    assert not app.error, [error.value for error in app.error]
    assert f"{len(opened) - 1} open cases" in shown(app)  # decided here: gone from the list

    sent = sent_by(operator, bootstrap, tmp_path)
    (adjustment,) = sent
    assert (adjustment.case_id, adjustment.kind, adjustment.visit_id) == (
        case.case_id,
        "remove_line",
        case.visit_id,
    )
    (line,) = adjustment.lines
    assert (line.product_id, line.quantity_delta) == (product, -1)

    land_offline(settings, sent)
    build_warehouse(settings)
    with reading(settings.paths.published_review_file) as con:
        state = con.execute(
            "select state from review.review_cases where case_id = ?", [case.case_id]
        ).fetchall()
    assert state == [("decided",)]
    with duckdb.connect(str(settings.paths.published_warehouse_file), read_only=True) as con:
        net = con.execute(
            "select receipt_total_krw, net_total_krw from marts.fct_visits where visit_id = ?",
            [case.visit_id],
        ).fetchall()
    assert net == [(case.at_stake_krw, case.at_stake_krw + line.amount_delta_krw)]


def sent_by(operator: str, bootstrap: str, folder: Path, expected: int = 1) -> list[ReceiptAdjustment]:
    """The receipt adjustments on the topic that ``operator`` decided, in the order they were sent."""
    consumer = make_consumer(
        Settings(data_dir=folder / "reader", kafka_bootstrap=bootstrap),
        f"console-test-{operator}",
        [ReceiptAdjustment.TOPIC],
        auto_offset_reset="earliest",
    )
    try:
        return [
            event
            for record in drain(consumer, expected=10**6, idle_timeout_s=5)
            if isinstance(event := parse_event(record.value), ReceiptAdjustment)
            and event.decided_by == operator
        ]
    finally:
        consumer.close()


def choose(app: AppTest, label: str, value: object) -> None:
    (box,) = [box for box in app.selectbox if box.label == label]
    box.select(value).run()


KINDS = {
    "Confirm as charged": ("confirm",),
    "Remove a line": ("remove_line",),
    "Change a quantity": ("change_quantity",),
    "Move a line to another visit": ("move_line_out", "move_line_in"),
    "Add a line the sensors missed": ("add_line",),
}


@pytest.mark.kafka
@pytest.mark.parametrize("kind", list(KINDS))
def test_each_decision_kind_sends_its_adjustments(
    kind: str,
    warehouse: WarehouseBuild,
    small_lake: SmallLake,
    kafka_settings: Settings,
    open_console: OpenConsole,
    tmp_path: Path,
) -> None:
    """Each kind of decision on a flagged receipt whose evidence shows another visit, as the console sends
    it: one adjustment (two for a move, out of this visit and into the other), carrying the case and the
    operator, with the amount the charge's prices give."""
    settings = small_lake.settings
    bootstrap = bootstrap_servers(kafka_settings)
    operator = f"OP-{uuid.uuid4().hex[:8]}"
    with reading(settings.paths.published_review_file) as con:
        ((case_id,),) = con.sql(
            "select distinct evidence.case_id from review.review_evidence as evidence "
            "join review.review_cases as cases using (case_id) "
            "where cases.kind = 'flagged' and cases.state = 'open' and ("
            "evidence.charged_visit_id <> cases.visit_id "
            "or len([c for c in evidence.candidates if c.visit_id <> cases.visit_id]) > 0) "
            "order by evidence.case_id limit 1"
        ).fetchall()
    app = sign_in(open_console(settings, bootstrap), operator)
    choose(app, "Case", case_id)
    app.radio[0].set_value(kind).run()
    if kind == "Change a quantity":
        app.number_input[0].set_value(app.number_input[0].value + 1).run()
    send_decision(app, f"{kind}: as the evidence showed")
    assert not app.exception
    assert not app.error, [error.value for error in app.error]

    sent = sent_by(operator, bootstrap, tmp_path)
    assert tuple(adjustment.kind for adjustment in sent) == KINDS[kind]
    assert {adjustment.case_id for adjustment in sent} == {case_id}
    assert all(adjustment.reason == f"{kind}: as the evidence showed" for adjustment in sent)
    if kind == "Move a line to another visit":
        out, into = sent
        assert out.amount_delta_krw == -into.amount_delta_krw < 0
        assert into.visit_id != out.visit_id


@pytest.mark.kafka
def test_a_take_charged_to_nobody_is_written_off_with_no_visit(
    warehouse: WarehouseBuild,
    small_lake: SmallLake,
    kafka_settings: Settings,
    open_console: OpenConsole,
    tmp_path: Path,
) -> None:
    settings = small_lake.settings
    bootstrap = bootstrap_servers(kafka_settings)
    operator = f"OP-{uuid.uuid4().hex[:8]}"
    case = next(
        case
        for case in open_cases(settings.paths.published_review_file, datetime.now(UTC))
        if case.kind == "unattributed"
    )
    app = sign_in(open_console(settings, bootstrap), operator)
    choose(app, "Case", case.case_id)
    (kind,) = [radio for radio in app.radio if radio.label == "Decision"]
    assert kind.options[-1] == "Write off: no visit took it"
    kind.set_value("Write off: no visit took it").run()
    send_decision(app, "a stranger walked in behind a shopper")
    assert not app.exception
    assert not app.error, [error.value for error in app.error]

    (written_off,) = sent_by(operator, bootstrap, tmp_path)
    assert (written_off.kind, written_off.case_id, written_off.store_id) == (
        "write_off",
        case.case_id,
        case.store_id,
    )
    assert (written_off.visit_id, written_off.shopper_id, written_off.lines) == (None, None, ())


def test_a_decision_without_a_broker_says_so_in_one_line_and_keeps_the_case(
    warehouse: WarehouseBuild, small_lake: SmallLake, open_console: OpenConsole
) -> None:
    app = sign_in(open_console(small_lake.settings, "127.0.0.1:9"), "OP0001")  # nothing listens there
    cases = next(box for box in app.selectbox if box.label == "Case").options
    send_decision(app, "as charged")
    assert not app.exception
    (error,) = app.error
    assert "127.0.0.1:9" in error.value
    assert "\n" not in error.value
    assert next(box for box in app.selectbox if box.label == "Case").options == cases


@pytest.fixture(scope="module")
def all_decided(small_lake: SmallLake, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The small lake with every case decided: the first flagged receipt loses a unit 90 minutes after the
    exit, the other receipts are confirmed, takes charged to nobody written off; landed and built again."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("all-decided") / "data")
    shutil.copytree(small_lake.settings.data_dir, settings.data_dir)
    build_warehouse(settings)
    published = settings.paths.published_review_file
    decided: list[ReceiptAdjustment] = []
    for case in open_cases(published, datetime.now(UTC)):
        decision = Decision(case.case_id, 1, "OP0001", datetime.now(UTC), "looked at it")
        if case.visit_id is None:
            decided += write_off(case.store_id, decision)
            continue
        charge = case_file(published, case).charges[case.visit_id]
        if case.kind == "flagged" and not any(a.kind == "remove_line" for a in decided):
            later = replace(decision, decided_at=case.opened_at + timedelta(minutes=90))
            decided += remove_line(charge, sorted(charge.units)[0], later, units=1)
        else:
            decided += confirm_receipt(charge, decision)
    assert any(adjustment.kind == "write_off" for adjustment in decided), "the lake has takes to write off"
    land_offline(settings, decided)
    build_warehouse(settings)
    return settings


def test_an_empty_queue_says_so_and_the_figures_show_each_store_days_time_to_the_final_charge(
    all_decided: Settings, open_console: OpenConsole
) -> None:
    published = all_decided.paths.published_review_file
    with reading(published) as con:
        charge_times = con.sql(
            "select store_id, charged_date, receipts, receipts_changed_later, max_minutes_to_final_charge "
            "from review.review_charge_times order by charged_date desc, store_id"
        ).fetchall()
        ((written_off, still_open),) = con.execute(
            "select (select sum(at_stake_krw) from review.review_cases where kind = 'unattributed'), "
            "(select count(*) from review.review_cases where state = 'open')"
        ).fetchall()
    assert still_open == 0
    assert charge_times
    assert all(receipts > 0 for _, _, receipts, _, _ in charge_times)

    app = sign_in(open_console(all_decided), "OP0001")
    assert not app.exception
    assert "No open cases: nothing to review." in shown(app)
    assert [tab.label for tab in app.tabs] == ["Queue", "Figures"]
    figures = app.tabs[1]
    times, days = (frame.value for frame in figures.dataframe)
    times["charged_date"] = times["charged_date"].dt.date
    shown_times = times[
        ["store_id", "charged_date", "receipts", "receipts_changed_later", "max_minutes_to_final_charge"]
    ]
    assert [tuple(row) for row in shown_times.itertuples(index=False)] == charge_times
    assert times["receipts_changed_later"].sum() == 1
    assert times["max_minutes_to_final_charge"].max() == pytest.approx(90.0)
    assert days["decided"].sum() == days["cases"].sum() > 0
    assert days["still_open"].sum() == 0
    assert days["changed_charge"].sum() == 1  # confirmations and write-offs change no charge
    assert days["written_off_krw"].sum() == written_off > 0
