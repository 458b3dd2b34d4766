"""A case's evidence as the operator reads it: the charge as it stands, each contested take with what the
plate measured and whom the checkout weighed, and where those people walked around the take, on the
store's floor plan with the plate marked."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards.floor import floor_plans, walks_on_plan
from review.cases import CaseFile, ContestedTake, Weighed

NOT_ADMITTED = "not admitted"


def show_case(case: CaseFile) -> None:
    head = case.case
    columns = st.columns(4)
    columns[0].metric("At stake", "?" if head.at_stake_krw is None else f"₩{head.at_stake_krw:,}")
    columns[1].metric("Waiting", f"{head.age.total_seconds() / 3600:.1f} h")
    columns[2].metric("Kind", head.kind)
    columns[3].metric("Store", head.store_id)
    st.write("Why: " + ("; ".join(head.review_reasons) or "—"))
    if head.visit_id is not None:
        charge = case.charges.get(head.visit_id)
        st.subheader(f"Charge of visit {head.visit_id}")
        lines = (
            [
                {
                    "Product": product,
                    "Units": units,
                    "Unit price (KRW)": charge.unit_prices[product],
                    "Amount (KRW)": units * charge.unit_prices[product],
                }
                for product, units in sorted(charge.units.items())
            ]
            if charge
            else []
        )
        if lines:
            st.dataframe(lines, hide_index=True)
        else:
            st.write("Charged nothing.")
    st.subheader("Contested takes")
    if not case.takes:
        st.info("The checkout published no takes for this case (landed before it published them).")
        return
    for take in case.takes:
        _show_take(take, case)


def _show_take(take: ContestedTake, case: CaseFile) -> None:
    what = take.product_name or take.product_id or "an unknown product"
    verb = "picked" if take.action == "pick" else "put back"
    with st.expander(
        f"{take.quantity} x {what} {verb} at plate {take.plate_id}, {take.detected_at:%H:%M:%S} UTC",
        expanded=True,
    ):
        charged = take.charged_visit_id or "nobody"
        here = " (this receipt)" if take.charged_to_case else ""
        st.write(
            f"Charged to **{charged}**{here}"
            + ("" if take.confidence is None else f", {take.confidence:.0%} sure")
            + (f"; moved {take.swaps_undone}x when an id swap was undone" if take.swaps_undone else "")
        )
        expected = "?" if take.expected_weight_g is None else f"{take.expected_weight_g:.0f} g"
        st.write(
            f"The plate changed by {_grams(take.weight_delta_g)}; {take.quantity} x {what} weigh {expected}"
            + ("" if take.plate_confidence is None else f" (the plate was {take.plate_confidence:.0%} sure)")
        )
        if take.weighed:
            st.dataframe([_weighed_row(weighed) for weighed in take.weighed], hide_index=True)
        else:
            st.write("Nobody stood within reach of the plate when it settled.")
        _plan(take, case)


def _weighed_row(weighed: Weighed) -> dict[str, object]:
    return {
        "Visit": weighed.visit_id or NOT_ADMITTED,
        "Likelihood": f"{weighed.likelihood:.0%}",
        "From the plate (m)": weighed.distance_m,
        "Stood before (s)": weighed.stood_s,
        "Walked away after (s)": "stayed"
        if weighed.moved_on_s is None and not weighed.lost_at_plate
        else weighed.moved_on_s,
        "Lost at the plate": weighed.lost_at_plate,
    }


def _plan(take: ContestedTake, case: CaseFile) -> None:
    walks = case.walks.filter(pl.col("shelf_event_id") == take.shelf_event_id)
    store = floor_plans()[case.case.store_id]
    if walks.is_empty():
        st.caption("No camera track within 20 s of the take.")
        return
    walks = walks.with_columns(
        who=pl.coalesce(pl.col("visit_id"), pl.lit(NOT_ADMITTED + " · ") + pl.col("track_id")),
        seconds=pl.col("seconds_from_take"),
    )
    plate = store.plate(take.plate_id)
    marks = pl.DataFrame(
        {"x_m": [plate.reach_point[0]], "y_m": [plate.reach_point[1]], "label": [f"plate {take.plate_id}"]}
    )
    st.altair_chart(walks_on_plan(store, walks, marks), width="content")
    st.caption("Walks from 20 s before the take to 20 s after; dots where each was as the plate settled.")


def _grams(value: float | None) -> str:
    return "?" if value is None else f"{value:+.0f} g"
