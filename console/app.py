"""The operators' review console: ``walkout review console`` runs this file with Streamlit.

An operator signs in with their key, takes the open cases oldest first (then the most money at stake),
reads the evidence of one (what the plate measured, whom the checkout weighed, how they walked, on the
floor plan) and decides. A decision goes to Kafka as receipt adjustments; the lander lands them and the
next warehouse build nets them into the books and closes the case. Single receipts are shown here only:
this app alone opens the published review file, and it shows visits, never the shoppers behind them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from console.decide import decision_panel, sent_decisions
from console.evidence import show_case
from review.cases import case_file
from review.operators import SignInError, sign_in
from review.published import ReviewDataError
from review.queue import OpenCase, open_cases
from walkout.settings import get_settings

OPERATOR = "operator"


def main() -> None:
    st.set_page_config(page_title="walkout review", page_icon=":material/fact_check:", layout="wide")
    operator = signed_in()
    if operator is None:
        st.stop()
        return
    st.title("Review")
    st.caption(
        "Receipts the checkout was unsure of and takes it could charge to nobody, oldest first, then the "
        "most money at stake. A decision closes its case at the next warehouse build."
    )
    settings = get_settings()
    try:
        cases = open_cases(settings.paths.published_review_file, datetime.now(UTC))
    except ReviewDataError as problem:
        st.info(str(problem), icon=":material/info:")
        st.stop()
    sent = sent_decisions()
    waiting = [case for case in cases if case.case_id not in sent]
    stores = sorted({case.store_id for case in waiting})
    store = st.sidebar.selectbox("Store", ["All stores", *stores])
    if store != "All stores":
        waiting = [case for case in waiting if case.store_id == store]
    st.sidebar.caption(f"{len(sent)} decided in this session, waiting for the next build")
    if not waiting:
        st.success("No open cases: nothing to review.", icon=":material/task_alt:")
        st.stop()
    st.subheader(f"{len(waiting)} open cases")
    st.dataframe(
        [_queue_row(case) for case in waiting], hide_index=True, height=min(36 * len(waiting) + 38, 300)
    )
    by_id = {case.case_id: case for case in waiting}
    chosen = st.selectbox("Case", list(by_id), format_func=lambda case_id: _label(by_id[case_id]))
    case = case_file(settings.paths.published_review_file, by_id[chosen])
    show_case(case)
    decision_panel(case, operator)


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
