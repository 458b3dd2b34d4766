"""Store floor plans drawn to scale: the catalog's zones, shelves, gates and ad screens, with zones or
floor cells coloured by a measure. The entrance is at the bottom, the back wall at the top."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import altair as alt
import polars as pl

from dashboards.charts import Figure, Measure
from dashboards.format import zone_name

if TYPE_CHECKING:
    from walkout.catalog import Store

PLAN_WIDTH_PX = 640
NO_DATA_COLOR = "#f0f0f0"
GATE_DEPTH_M = 0.2
SHELF, GATE, SCREEN = "Shelf or fridge", "QR gate", "Ad screen"


@lru_cache(maxsize=1)
def floor_plans() -> Mapping[str, Store]:
    """Every store's floor plan (the catalog's stores, loaded once per process)."""
    from walkout.catalog import load_products, load_stores  # ~1 s: only the pages with a floor plan

    return load_stores(load_products())


def zones_of(store: Store) -> pl.DataFrame:
    """The store's zones with their plain names, rectangles (m) and centres."""
    return pl.DataFrame(
        [
            {
                "zone_id": zone.zone_id,
                "zone": zone_name(zone.zone_id),
                "x0": zone.x0,
                "y0": zone.y0,
                "x1": zone.x1,
                "y1": zone.y1,
                "cx": (zone.x0 + zone.x1) / 2,
                "cy": (zone.y0 + zone.y1) / 2,
            }
            for zone in store.zones
        ]
    )


def fixtures_of(store: Store) -> pl.DataFrame:
    """Shelves, gates and ad screens as rectangles (m), each with what it is in plain words."""
    rows: list[dict[str, Any]] = [
        {"fixture": SHELF, "x0": g.x0, "y0": g.y0, "x1": g.x1, "y1": g.y1} for g in store.gondolas
    ]
    rows += [
        {
            "fixture": GATE,
            "x0": gate.x_m - gate.width_m / 2,
            "y0": gate.y_m - GATE_DEPTH_M / 2,
            "x1": gate.x_m + gate.width_m / 2,
            "y1": gate.y_m + GATE_DEPTH_M / 2,
        }
        for gate in store.gates
    ]
    rows += [
        {"fixture": SCREEN, "x0": s.x_m - 0.15, "y0": s.y_m - 0.08, "x1": s.x_m + 0.15, "y1": s.y_m + 0.08}
        for s in store.ad_screens
    ]
    return pl.DataFrame(rows)


def _axes(store: Store) -> dict[str, Any]:
    """x and y channels in metres over the whole floor, so the plan keeps its proportions."""
    return {
        "x": alt.X("x0:Q", title="Width (m)", scale=alt.Scale(domain=[0, store.width_m], nice=False)),
        "x2": "x1:Q",
        "y": alt.Y(
            "y0:Q",
            title="Depth from the entrance (m)",
            scale=alt.Scale(domain=[0, store.depth_m], nice=False),
        ),
        "y2": "y1:Q",
    }


def _to_scale(layers: list[alt.Chart], store: Store) -> Figure:
    """The layers at a fixed size whose proportions are the floor's."""
    height = round(PLAN_WIDTH_PX * store.depth_m / store.width_m)
    figure: Figure = (
        alt.layer(*layers)
        .resolve_scale(color="independent")
        .properties(width=PLAN_WIDTH_PX, height=height, autosize=alt.AutoSizeParams(type="pad"))
    )
    return figure


def _fixtures_layer(store: Store) -> alt.Chart:
    """Shelves, gates and ad screens, with a legend of what they are."""
    colours = alt.Scale(domain=[SHELF, GATE, SCREEN], range=["#8c8c8c", "#222222", "#d62728"])
    layer: alt.Chart = (
        alt.Chart(fixtures_of(store))
        .mark_rect(opacity=0.55, stroke="white", strokeWidth=0.5)
        .encode(
            **_axes(store),
            fill=alt.Fill("fixture:N", title="On the floor", scale=colours),
            tooltip=["fixture:N"],
        )
    )
    return layer


def _zone_layers(store: Store, values: pl.DataFrame, measure: Measure) -> list[alt.Chart]:
    """Zones coloured by ``measure`` (grey without a value), the fixtures, and the zone names."""
    zones = zones_of(store).join(values.select("zone_id", measure.name), on="zone_id", how="left")
    axes = _axes(store)
    tooltip = [alt.Tooltip("zone:N", title="Zone"), measure.tooltip()]
    has_value = f"isValid(datum['{measure.name}'])"
    filled = (
        alt.Chart(zones)
        .transform_filter(has_value)
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(**axes, color=measure.encode(alt.Color, scale=alt.Scale(scheme="oranges")), tooltip=tooltip)
    )
    empty = (
        alt.Chart(zones)
        .transform_filter(f"!{has_value}")
        .mark_rect(color=NO_DATA_COLOR, stroke="white", strokeWidth=1)
        .encode(**axes, tooltip=tooltip)
    )
    labels = alt.Chart(zones).mark_text(fontSize=10, color="#222").encode(x="cx:Q", y="cy:Q", text="zone:N")
    return [empty, filled, _fixtures_layer(store), labels]


def zone_map(store: Store, values: pl.DataFrame, measure: Measure) -> Figure:
    """The floor plan with each zone coloured by ``measure`` (``values``: zone_id and the measure)."""
    return _to_scale(_zone_layers(store, values, measure), store)


def occupancy_grid(store: Store, cells: pl.DataFrame, measure: Measure) -> Figure:
    """Floor cells (``x0_m``, ``y0_m``, ``cell_m`` and the measure) as a heat map over the zone outlines."""
    grid = cells.with_columns(
        x0=pl.col("x0_m"),
        y0=pl.col("y0_m"),
        x1=pl.col("x0_m") + pl.col("cell_m"),
        y1=pl.col("y0_m") + pl.col("cell_m"),
    )
    axes = _axes(store)
    colours = alt.Scale(scheme="inferno", reverse=True)
    heat = (
        alt.Chart(grid)
        .mark_rect()
        .encode(**axes, color=measure.encode(alt.Color, scale=colours), tooltip=[measure.tooltip()])
    )
    outlines = (
        alt.Chart(zones_of(store))
        .mark_rect(fillOpacity=0, stroke="#666", strokeWidth=0.8)
        .encode(**axes, tooltip=[alt.Tooltip("zone:N", title="Zone")])
    )
    shelves = (
        alt.Chart(fixtures_of(store).filter(pl.col("fixture") == SHELF))
        .mark_rect(fillOpacity=0, stroke="#999", strokeDash=[2, 2])
        .encode(**axes)
    )
    return _to_scale([heat, outlines, shelves], store)


def people_on_plan(
    store: Store, zone_counts: pl.DataFrame, positions: pl.DataFrame, measure: Measure
) -> Figure:
    """The plan with zones coloured by ``measure`` and a dot per person (``positions``: x_m, y_m, zone)."""
    dots = (
        alt.Chart(positions)
        .mark_circle(size=60, color="#1f77b4", opacity=0.85)
        .encode(x="x_m:Q", y="y_m:Q", tooltip=[alt.Tooltip("zone:N", title="Zone")])
    )
    layers = [*_zone_layers(store, zone_counts, measure), dots]
    return _to_scale(layers, store)


def walks_on_plan(store: Store, walks: pl.DataFrame, marks: pl.DataFrame) -> Figure:
    """The plan's zones and fixtures with walks drawn over it: ``walks`` (``who``, ``track_id``, ``x_m``,
    ``y_m``, ``seconds`` in time order) as a line each, a dot where each one was at second 0, and
    ``marks`` (``x_m``, ``y_m``, ``label``) as stars, e.g. the plate a hand was on."""
    x = alt.X("x_m:Q", title="Width (m)", scale=alt.Scale(domain=[0, store.width_m], nice=False))
    y = alt.Y(
        "y_m:Q", title="Depth from the entrance (m)", scale=alt.Scale(domain=[0, store.depth_m], nice=False)
    )
    who = alt.Color("who:N", title="Who")
    outlines = (
        alt.Chart(zones_of(store))
        .mark_rect(fillOpacity=0, stroke="#999", strokeWidth=0.8)
        .encode(**_axes(store), tooltip=[alt.Tooltip("zone:N", title="Zone")])
    )
    tooltip = [alt.Tooltip("who:N", title="Who"), alt.Tooltip("seconds:Q", title="Seconds from the take")]
    lines = (
        alt.Chart(walks)
        .mark_line(strokeWidth=2, opacity=0.8)
        .encode(x=x, y=y, color=who, detail="track_id:N", order="seconds:Q", tooltip=tooltip)
    )
    at_zero = walks.filter(pl.col("seconds").abs() == pl.col("seconds").abs().min().over("who", "track_id"))
    dots = alt.Chart(at_zero).mark_circle(size=90, opacity=1).encode(x=x, y=y, color=who, tooltip=tooltip)
    stars = (
        alt.Chart(marks)
        .mark_point(shape="diamond", size=160, filled=True, color="#111")
        .encode(x=x, y=y, tooltip=[alt.Tooltip("label:N", title="")])
    )
    return _to_scale([outlines, _fixtures_layer(store), lines, dots, stars], store)
