"""What the operator decides on a case, sent to Kafka as receipt adjustments.

A flagged or disputed receipt may be confirmed, lose a line, have a quantity changed, have a line moved
to another visit the evidence shows, or gain a line the sensors missed (a disputed case offers its
product first); a pick charged to nobody may be charged to a visit that walked near the plate, or written
off when none of them took it (someone not admitted, a plate's false alarm). Decisions
are built by :mod:`review.decisions` (which refuses what the charge cannot take, in one line) and sent
with :func:`review.decisions.publish_adjustments`; nothing is shown as decided until Kafka acknowledged
every adjustment. A case decided in this session leaves the list; its decisions are numbered one after
another, so a second decision on a case is a new event while the same decision sent again is the same
one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import streamlit as st

from review.cases import CaseFile
from review.decisions import (
    Charge,
    Decision,
    add_line,
    change_quantity,
    confirm_receipt,
    move_line,
    publish_adjustments,
    remove_line,
    write_off,
)
from walkout.catalog import load_catalog
from walkout.contracts import MAX_QUANTITY, ReceiptAdjustment
from walkout.errors import WalkoutError
from walkout.kafka import Outbox, bootstrap_servers, make_producer
from walkout.settings import get_settings

SENT = "sent"
CONFIRM, REMOVE, CHANGE, MOVE, ADD, CHARGE, WRITE_OFF = (
    "Confirm as charged",
    "Remove a line",
    "Change a quantity",
    "Move a line to another visit",
    "Add a line the sensors missed",
    "Charge a visit that was near the plate",
    "Write off: no visit took it",
)
Build = Callable[[Decision], list[ReceiptAdjustment]]


def sent_decisions() -> dict[str, list[ReceiptAdjustment]]:
    """The adjustments sent in this session, by case."""
    sent: dict[str, list[ReceiptAdjustment]] = st.session_state.setdefault(SENT, {})
    return sent


@st.cache_resource(show_spinner=False)
def _outbox(bootstrap: str) -> Outbox:
    """One producer per cluster for every session of the server: ``bootstrap`` (where the settings find
    Kafka now) keys it, so a broker started elsewhere gets a producer of its own."""
    return Outbox(make_producer(get_settings()))


def decision_panel(case: CaseFile, operator: str) -> None:
    st.subheader("Decision")
    head = case.case
    charge = case.charges.get(head.visit_id) if head.visit_id else None
    others = sorted(visit for visit in case.charges if visit != head.visit_id)
    if charge is not None:
        build = _receipt_decision(charge, [case.charges[visit] for visit in others], head.product_id)
    else:
        build = _charge_a_visit(case, [case.charges[visit] for visit in others])
    if build is None:
        return
    reason = st.text_input("Reason (what the evidence showed)", key=f"reason-{head.case_id}")
    if st.button("Send the decision", type="primary", disabled=not reason.strip()):
        number = len(sent_decisions().get(head.case_id, [])) + 1
        decision = Decision(head.case_id, number, operator, datetime.now(UTC), reason.strip())
        try:
            adjustments = build(decision)
            publish_adjustments(_outbox(bootstrap_servers(get_settings())), adjustments)
        except WalkoutError as refused:
            _outbox.clear()  # a producer that lost its broker is made again for the next try
            st.error(str(refused))
            return
        sent_decisions().setdefault(head.case_id, []).extend(adjustments)
        delta = sum(adjustment.amount_delta_krw for adjustment in adjustments)
        st.success(
            f"Sent: {len(adjustments)} adjustment(s), {delta:+,} KRW. The case closes at the next build."
        )
        st.rerun()


def _receipt_decision(charge: Charge, others: list[Charge], disputed: str | None = None) -> Build | None:
    """``disputed``: the product a shopper disputes, shown first where it can be chosen."""
    kinds = [CONFIRM, REMOVE, CHANGE, MOVE, ADD] if charge.units else [ADD]
    kind = st.radio("Decision", kinds, horizontal=True, key=f"kind-{charge.visit_id}")
    if kind == CONFIRM:
        return lambda decision: confirm_receipt(charge, decision)
    if kind == ADD:
        products = sorted(load_catalog().products)
        product = st.selectbox("Product", products, _index(products, disputed), key=f"add-{charge.visit_id}")
        units = _units("Units to add", 1, key=f"add-units-{charge.visit_id}")
        return lambda decision: add_line(charge, product, units, decision)
    lines = sorted(charge.units)
    product = st.selectbox("Line", lines, _index(lines, disputed), key=f"line-{charge.visit_id}")
    charged = charge.units[product]
    if kind == REMOVE:
        units = _units("Units to take off", charged, key=f"remove-{charge.visit_id}")
        return lambda decision: remove_line(charge, product, decision, units)
    if kind == CHANGE:
        units = _units("Units it should be", charged, key=f"change-{charge.visit_id}")
        return lambda decision: change_quantity(charge, product, units, decision)
    if not others:
        st.info("The evidence shows no other visit to move the line to.")
        return None
    to = st.selectbox("To visit", [other.visit_id for other in others], key=f"to-{charge.visit_id}")
    units = _units("Units to move", charged, key=f"move-{charge.visit_id}")
    target = next(other for other in others if other.visit_id == to)
    return lambda decision: move_line(charge, product, units, target, decision)


def _charge_a_visit(case: CaseFile, near: list[Charge]) -> Build:
    head = case.case
    product, quantity = head.product_id, head.quantity
    if not near:
        st.caption("No visit walked near the plate: whoever took it was not admitted.")
    chargeable = bool(near) and product is not None and quantity is not None
    kinds = [CHARGE, WRITE_OFF] if chargeable else [WRITE_OFF]
    kind = st.radio("Decision", kinds, horizontal=True, key=f"kind-{head.case_id}")
    if kind == WRITE_OFF or product is None or quantity is None:
        return lambda decision: write_off(head.store_id, decision)
    to = st.selectbox("Visit", [visit.visit_id for visit in near], key=f"visit-{head.case_id}")
    units = _units("Units", quantity, key=f"units-{head.case_id}")
    target = next(visit for visit in near if visit.visit_id == to)
    return lambda decision: add_line(target, product, units, decision)


def _units(label: str, value: int, key: str) -> int:
    return int(st.number_input(label, min_value=1, max_value=MAX_QUANTITY, value=value, step=1, key=key))


def _index(choices: list[str], preferred: str | None) -> int:
    return choices.index(preferred) if preferred in choices else 0
