"""The operators' review console: ``walkout review console`` runs this file with Streamlit.

An operator signs in with their key, takes the open cases oldest first (then the most money at stake),
reads the evidence of one (what the plate measured, whom the checkout weighed, how they walked, on the
floor plan) and decides. A decision goes to Kafka as receipt adjustments; the lander lands them and the
next warehouse build nets them into the books and closes the case. The figures tab shows how long receipts
took from the exit to their final charge and how the review went, per store and day. Single receipts are
shown here only: this app alone opens the published review file, and it shows visits, never the shoppers
behind them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig

from console.decide import decision_panel, sent_decisions
from console.evidence import show_case
from review.cases import case_file
from review.figures import charge_times, review_days
from review.operators import SignInError, sign_in
from review.published import ReviewDataError
from review.queue import OpenCase, open_cases
from walkout.settings import get_settings

OPERATOR = "operator"
ALL_STORES = "All stores"


def main() -> None:
    st.set_page_config(page_title="walkout review", page_icon=":material/fact_check:", layout="wide")
    operator = signed_in()
    if operator is None:
        st.stop()
        return
    st.title("Review")
    published = get_settings().paths.published_review_file
    queue, figures = st.tabs(["Queue", "Figures"])
    try:
        cases = open_cases(published, datetime.now(UTC))
        times, days = charge_times(published), review_days(published)
    except ReviewDataError as problem:
        st.info(str(problem), icon=":material/info:")
        return
    stores = sorted({case.store_id for case in cases} | set(times["store_id"]) | set(days["store_id"]))
    store = st.sidebar.selectbox("Store", [ALL_STORES, *stores])
    if store != ALL_STORES:
        cases = [case for case in cases if case.store_id == store]
        times, days = (frame.filter(pl.col("store_id") == store) for frame in (times, days))
    with queue:
        queue_page(published, cases, operator)
    with figures:
        figures_page(times, days)


def queue_page(published: Path, cases: list[OpenCase], operator: str) -> None:
    """The open cases in the order they are taken, and the one chosen: its evidence and the decision."""
    st.caption(
        "Receipts the checkout was unsure of and takes it could charge to nobody, oldest first, then the "
        "most money at stake. A decision closes its case at the next warehouse build."
    )
    sent = sent_decisions()
    waiting = [case for case in cases if case.case_id not in sent]
    st.sidebar.caption(f"{len(sent)} decided in this session, waiting for the next build")
    if not waiting:
        st.success("No open cases: nothing to review.", icon=":material/task_alt:")
        return
    st.subheader(f"{len(waiting)} open cases")
    st.dataframe(
        [_queue_row(case) for case in waiting], hide_index=True, height=min(36 * len(waiting) + 38, 300)
    )
    by_id = {case.case_id: case for case in waiting}
    chosen = st.selectbox("Case", list(by_id), format_func=lambda case_id: _label(by_id[case_id]))
    case = case_file(published, by_id[chosen])
    show_case(case)
    decision_panel(case, operator)


def figures_page(times: pl.DataFrame, days: pl.DataFrame) -> None:
    """How long receipts took to their final charge, and how the review went, per store and day."""
    st.subheader("From the exit to the final charge")
    st.caption(
        "The checkout charges at the exit; a receipt is final then, unless a decision changed it later. "
        "Per store and day of the exits, as of the last warehouse build."
    )
    st.dataframe(times, hide_index=True, column_config=CHARGE_TIME_COLUMNS)
    st.subheader("Cases by day and cause")
    st.dataframe(days, hide_index=True, column_config=REVIEW_DAY_COLUMNS)


CHARGE_TIME_COLUMNS: dict[str, ColumnConfig | str] = {
    "store_id": "Store",
    "charged_date": st.column_config.DateColumn("Day", format="YYYY-MM-DD"),
    "receipts": "Receipts",
    "receipts_changed_later": st.column_config.NumberColumn(
        "Changed after the exit", help="Receipts a decision changed after the exit"
    ),
    "median_minutes_to_changed_charge": st.column_config.NumberColumn(
        "Median minutes to a changed charge", help="Over the receipts changed after the exit", format="%.0f"
    ),
    "p90_minutes_to_final_charge": st.column_config.NumberColumn(
        "90th percentile (minutes)", help="Over all receipts; 0 while few change", format="%.0f"
    ),
    "max_minutes_to_final_charge": st.column_config.NumberColumn("Longest (minutes)", format="%.0f"),
}
REVIEW_DAY_COLUMNS: dict[str, ColumnConfig | str] = {
    "store_id": "Store",
    "opened_date": st.column_config.DateColumn("Day", format="YYYY-MM-DD"),
    "cause": "Cause",
    "cases": "Cases",
    "decided": "Decided",
    "still_open": "Open",
    "median_hours_to_decision": st.column_config.NumberColumn("Median hours to a decision", format="%.1f"),
    "changed_charge": "Changed a charge",
    "share_changed": st.column_config.NumberColumn("Share changed", format="percent"),
    "net_moved_krw": st.column_config.NumberColumn("Net moved (KRW)", format="localized"),
    "at_stake_krw": st.column_config.NumberColumn("At stake (KRW)", format="localized"),
    "written_off_krw": st.column_config.NumberColumn(
        "Written off (KRW)", help="Takes charged to nobody that no visit took: a loss", format="localized"
    ),
}


def signed_in() -> str | None:
    """The signed-in operator's id; until someone signs in, None and the sign-in form."""
    operator: str | None = st.session_state.get(OPERATOR)
    if operator is not None:
        st.sidebar.write(f"Signed in as **{operator}**")
        if st.sidebar.button("Sign out"):
            del st.session_state[OPERATOR]
            st.rerun()
        return operator
    st.title("Review")
    with st.form("sign-in"):
        st.write("Sign in with your operator id and key (`walkout review keys --operator ID` prints one).")
        operator_id = st.text_input("Operator id")
        key = st.text_input("Key", type="password")
        if st.form_submit_button("Sign in"):
            try:
                st.session_state[OPERATOR] = sign_in(get_settings(), operator_id, key)
            except SignInError as refused:
                st.error(str(refused))
            else:
                st.rerun()
    return None


def _queue_row(case: OpenCase) -> dict[str, object]:
    taken = f"{case.quantity} x {case.product_id}" if case.product_id else ""
    return {
        "Case": case.case_id,
        "Kind": case.kind,
        "Store": case.store_id,
        "Visit or take": case.visit_id or taken,
        "At stake (KRW)": case.at_stake_krw,
        "Opened (UTC)": case.opened_at.strftime("%Y-%m-%d %H:%M"),
        "Waiting (h)": round(case.age.total_seconds() / 3600, 1),
        "Why": "; ".join(case.review_reasons),
    }


def _label(case: OpenCase) -> str:
    stake = "?" if case.at_stake_krw is None else f"₩{case.at_stake_krw:,}"
    return f"{case.case_id} · {case.kind} · {case.store_id} · {stake}"


main()
