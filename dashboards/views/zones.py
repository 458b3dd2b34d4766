"""Zone heatmap: the store's floor plan to scale with zones coloured by a measure, the floor-grid occupancy
heatmap and the hour-of-day by zone matrix, for a store, dates, weekdays, hours and shopper group."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import streamlit as st

from dashboards.charts import Dimension, Measure, matrix
from dashboards.data import AGE_BANDS, GENDERS, Slice, Warehouse, available_period, require_rows
from dashboards.floor import floor_plans, occupancy_grid, zone_map
from dashboards.format import Column, Kind, in_plain_words, plain, zone_name
from dashboards.page import (
    chart,
    needed,
    open_page,
    pick_period,
    pick_store,
    pick_weekdays_and_hours,
    section,
    table,
)

MEASURES = {
    "Visitors": Measure("visitors", "Visitors (visits entering the zone)"),
    "Dwell": Measure("average_dwell_s", "Average time in the zone (seconds per visitor)", ",.0f"),
    "Stops": Measure("stops", "Stops (stays where shoppers stood still)"),
    "Conversion": Measure("conversion", "Conversion (share of visitors who bought from the zone)", ".0%"),
    "Revenue per visitor": Measure("revenue_per_visitor_krw", "Revenue per visitor (₩)"),
}
# Measures the warehouse keeps for everyone only (its zone heatmap is not split by shopper group).
WITHOUT_DEMOGRAPHICS = ("Conversion", "Revenue per visitor")
GROUPLESS_COLUMNS = frozenset({"conversion", "revenue_krw", "revenue_per_visitor_krw"})
OCCUPANCY = Measure("person_minutes", "Time shoppers spent in the cell (person-minutes)", ",.1f")
ZONE_COLUMNS = [
    Column("zone", "Zone"),
    Column("visitors", "Visitors", Kind.COUNT, "Visits that entered the zone"),
    Column("stops", "Stops", Kind.COUNT, "Stays where a shopper stood still"),
    Column("dwell_minutes", "Time in the zone (minutes)", Kind.DECIMAL),
    Column("average_dwell_s", "Average time per visitor (s)", Kind.DECIMAL),
    Column("conversion", "Conversion", Kind.SHARE, "Share of visitors who bought a product kept in the zone"),
    Column("revenue_krw", "Revenue", Kind.KRW, "What visitors paid for the zone's products"),
    Column("revenue_per_visitor_krw", "Revenue per visitor", Kind.KRW),
    Column("status", "Shown as", help="Suppressed: too few shoppers of the group to show (see the caption)"),
]
HOUR_COLUMNS = [Column("local_hour", "Hour of day", Kind.HOUR), *ZONE_COLUMNS]
CELL_COLUMNS = [
    Column("zone", "Zone"),
    Column("x0_m", "Cell left edge (m)", Kind.DECIMAL),
    Column("y0_m", "Cell front edge (m)", Kind.DECIMAL),
    Column("cell_m", "Cell size (m)", Kind.DECIMAL),
    Column("average_people", "Average people in the cell", Kind.DECIMAL),
    Column("person_minutes", "Person-minutes in the cell", Kind.DECIMAL),
]


@dataclass(frozen=True)
class Group:
    """Shoppers of some age bands and genders (of the paying member); empty tuples mean everyone."""

    age_bands: tuple[str, ...] = ()
    genders: tuple[str, ...] = ()

    @property
    def everyone(self) -> bool:
        return not self.age_bands and not self.genders


def zone_figures(warehouse: Warehouse, scope: Slice, group: Group, by_hour: bool) -> pl.DataFrame:
    """Per zone (and hour) of one store: visitors, stops, dwell, conversion and revenue per visitor."""
    keys = "zone_id, local_hour" if by_hour else "zone_id"
    frame = (
        _for_everyone(warehouse, scope, keys) if group.everyone else _for_group(warehouse, scope, group, keys)
    )
    return frame.with_columns(zone=in_plain_words("zone_id", zone_name))


def _for_everyone(warehouse: Warehouse, scope: Slice, keys: str) -> pl.DataFrame:
    where, params = scope.where()
    return warehouse.query(
        f"""
        select {keys},
            sum(visitors) as visitors,
            sum(stops) as stops,
            sum(total_dwell_s) / 60 as dwell_minutes,
            sum(total_dwell_s) / nullif(sum(visitors), 0) as average_dwell_s,
            sum(converted_visitors) / nullif(sum(visitors), 0) as conversion,
            sum(revenue_krw) as revenue_krw,
            sum(revenue_krw) / nullif(sum(visitors), 0) as revenue_per_visitor_krw,
            'shown' as status
        from marts.zone_heatmap
        where {where}
        group by {keys} order by {keys}
        """,
        params,
    )


def _for_group(warehouse: Warehouse, scope: Slice, group: Group, keys: str) -> pl.DataFrame:
    """The group's zone stays; a zone (hour) behind fewer than k shoppers is suppressed, never shown."""
    where, params = scope.where()
    figures = ["visitors", "stops", "dwell_minutes", "average_dwell_s"]
    return warehouse.query(
        f"""
        with stays as (
            select {keys},
                count(distinct visit_id) as visitors,
                count(distinct shopper_id) as shoppers,
                count(*) filter (where is_stop) as stops,
                sum(dwell_s) / 60 as dwell_minutes,
                sum(dwell_s) / nullif(count(distinct visit_id), 0) as average_dwell_s
            from marts.fct_dwell_segments
            inner join marts.dim_shoppers using (shopper_id)
            where {where} and list_contains(?, age_band) and list_contains(?, gender)
            group by {keys}
        )
        select {keys},
            {", ".join(f"case when shoppers >= k_anonymity then {name} end as {name}" for name in figures)},
            null::double as conversion,
            null::bigint as revenue_krw,
            null::double as revenue_per_visitor_krw,
            case when shoppers >= k_anonymity then 'shown' else 'suppressed' end as status
        from stays cross join marts.privacy_rules order by {keys}
        """,
        (*params, group.age_bands or AGE_BANDS, group.genders or GENDERS),
    )


def floor_cells(warehouse: Warehouse, scope: Slice) -> pl.DataFrame:
    """Per floor cell: average people present over the slice's store-hours, and person-minutes."""
    where, params = scope.where()
    return warehouse.query(
        f"""
        with cells as (select * from marts.floor_heatmap where {where}),
        hours as (select count(distinct (local_date, local_hour)) as hours from cells)
        select x0_m::double as x0_m, y0_m::double as y0_m,
            any_value(cell_m)::double as cell_m, any_value(zone_id) as zone_id,
            sum(person_seconds) / 3600 / any_value(hours) as average_people,
            sum(person_seconds) / 60 as person_minutes
        from cells, hours
        group by x0_m, y0_m order by y0_m, x0_m
        """,
        params,
    ).with_columns(zone=in_plain_words("zone_id", zone_name))


def pick_group(key: str) -> Group:
    """Sidebar: age bands and genders of the paying member (none chosen = everyone)."""
    st.sidebar.markdown("**Shopper group**")
    bands = st.sidebar.multiselect(
        "Age bands",
        AGE_BANDS,
        placeholder="Everyone",
        key=f"{key}-ages",
    )
    genders = st.sidebar.multiselect(
        "Genders",
        GENDERS,
        format_func=plain,
        placeholder="Everyone",
        key=f"{key}-genders",
    )
    return Group(tuple(bands), tuple(genders))


def columns_for(group: Group, columns: list[Column]) -> list[Column]:
    """The table's columns without the figures the warehouse keeps for everyone only."""
    if group.everyone:
        return columns
    return [column for column in columns if column.name not in GROUPLESS_COLUMNS]


def pick_measure(warehouse: Warehouse, group: Group) -> Measure:
    names = [name for name in MEASURES if group.everyone or name not in WITHOUT_DEMOGRAPHICS]
    if not group.everyone:
        st.caption(
            "For a shopper group: visitors, dwell and stops of the paying member's visits; zones behind "
            f"fewer than {warehouse.k_anonymity()} shoppers are suppressed. Conversion and revenue are kept "
            "for everyone."
        )
    choice = st.segmented_control(
        "Colour zones by", names, default=names[0], required=True, key="zones-measure"
    )
    return MEASURES[choice or names[0]]


def render() -> None:
    warehouse = open_page(
        "Zone heatmap",
        "Where shoppers go, stop and buy on the floor: the plan is drawn to scale, entrance at the bottom.",
    )
    store_id, store_name = pick_store(warehouse, "zone_heatmap", "zones-store")
    period = needed(
        lambda: pick_period(
            available_period(warehouse, "zone_heatmap", "local_date", "zone visits"), "zones-dates"
        )
    )
    weekdays, hours = pick_weekdays_and_hours("zones")
    group = pick_group("zones")
    scope = Slice((store_id,), period, weekdays, hours)
    plan = floor_plans()[store_id]
    measure = pick_measure(warehouse, group)
    with section(
        "Zones on the floor plan",
        f"{store_name}, {period}. Grey zones had no visitors (or are suppressed).",
    ):
        zones = require_rows(zone_figures(warehouse, scope, group, by_hour=False), "zone visits")
        chart(zone_map(plan, zones.filter(pl.col("status") == "shown"), measure), stretch=False)
        table(zones, columns_for(group, ZONE_COLUMNS), f"zones-{store_id}")
    with section("Hour of day by zone", "The hour a visit first entered the zone (store time)."):
        by_hour = require_rows(zone_figures(warehouse, scope, group, by_hour=True), "zone visits")
        order = [zone_name(zone.zone_id) for zone in plan.zones]
        chart(
            matrix(
                by_hour,
                Dimension("local_hour", "Hour of day", "O"),
                Dimension("zone", "Zone"),
                measure,
                row_sort=order,
            )
        )
        with st.expander("Figures per zone and hour"):
            table(by_hour, columns_for(group, HOUR_COLUMNS), f"zones-by-hour-{store_id}")
    with section(
        "Floor occupancy",
        "From the camera tracks of everyone in the store (tracks carry no shopper group): time spent in "
        "each square of the floor grid over the chosen dates and hours.",
    ):
        cells = require_rows(floor_cells(warehouse, scope), "camera tracks")
        chart(occupancy_grid(plan, cells, OCCUPANCY), stretch=False)
        with st.expander("Figures per floor cell"):
            table(cells, CELL_COLUMNS, f"floor-cells-{store_id}")


if __name__ == "__main__":
    render()
