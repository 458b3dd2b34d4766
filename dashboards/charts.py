"""Altair charts with axes, units and legends in plain words; the pages pass a :class:`Measure`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

import altair as alt
import polars as pl

SUPPRESSED_COLOR = "#d9d9d9"
Figure: TypeAlias = alt.Chart | alt.LayerChart | alt.FacetChart
"""What a chart helper returns and :func:`dashboards.page.chart` shows."""
HEIGHT = 320
LEGEND_TITLE_PX = 420
ROW_PX = 26
MIN_HEIGHT = 180
LABEL_PX = 240
SLANTED_LABELS_PX = 90


@dataclass(frozen=True)
class Measure:
    """A number a chart plots: its column, its axis or legend title with the unit, its d3 format."""

    name: str
    title: str
    axis_format: str = ",.0f"
    step: float | None = None
    """Smallest tick step (1 for counts of people, so no tick repeats a whole number)."""

    @property
    def _step(self) -> Any:
        return alt.Undefined if self.step is None else self.step

    def tooltip(self) -> alt.Tooltip:
        return alt.Tooltip(self.name, title=self.title, format=self.axis_format)

    def encode(self, channel: type[Any], **options: Any) -> Any:
        """This measure on an x, y or color channel, titled and formatted."""
        if channel is alt.Color:
            return alt.Color(
                f"{self.name}:Q",
                title=self.title,
                legend=alt.Legend(
                    format=self.axis_format, titleLimit=LEGEND_TITLE_PX, tickMinStep=self._step
                ),
                **options,
            )
        axis = alt.Axis(format=self.axis_format, tickMinStep=self._step)
        return channel(f"{self.name}:Q", title=self.title, axis=axis, **options)


@dataclass(frozen=True)
class Dimension:
    """What a chart breaks a measure down by: a column, its title and its Vega-Lite type."""

    name: str
    title: str
    kind: str = "N"

    @property
    def field(self) -> str:
        return f"{self.name}:{self.kind}"

    def tooltip(self) -> alt.Tooltip:
        return alt.Tooltip(self.field, title=self.title)


def over_time(frame: pl.DataFrame, when: Dimension, measure: Measure, split: Dimension | None) -> Figure:
    """A line per ``split`` (e.g. store) of ``measure`` over dates or hours, with points."""
    tooltips = [when.tooltip(), measure.tooltip()] + ([split.tooltip()] if split else [])
    encoding: dict[str, Any] = {
        "x": alt.X(when.field, title=when.title),
        "y": measure.encode(alt.Y),
        "tooltip": tooltips,
    }
    if split is not None:
        encoding["color"] = alt.Color(split.field, title=split.title)
    lines: Figure = alt.Chart(frame).mark_line(point=True).encode(**encoding).properties(height=HEIGHT)
    return lines


def bars(
    frame: pl.DataFrame,
    category: Dimension,
    measure: Measure,
    split: Dimension | None = None,
    sort: str | list[str] = "-x",
) -> Figure:
    """Horizontal bars of ``measure`` per ``category``; ``split`` puts bars side by side."""
    encoding: dict[str, Any] = {
        "y": alt.Y(
            category.field,
            title=category.title,
            sort=sort,
            axis=alt.Axis(labelOverlap=False, labelLimit=LABEL_PX),
        ),
        "x": measure.encode(alt.X),
        "tooltip": [category.tooltip(), measure.tooltip()] + ([split.tooltip()] if split else []),
    }
    if split is not None:
        encoding["color"] = alt.Color(split.field, title=split.title)
        encoding["yOffset"] = alt.YOffset(split.field)
    rows = frame[category.name].n_unique() * (frame[split.name].n_unique() if split else 1)
    figure: Figure = (
        alt.Chart(frame).mark_bar().encode(**encoding).properties(height=max(MIN_HEIGHT, ROW_PX * rows))
    )
    return figure


def matrix(
    frame: pl.DataFrame,
    columns: Dimension,
    rows: Dimension,
    measure: Measure,
    middle: float | None = None,
    column_sort: list[str] | None = None,
    row_sort: list[str] | None = None,
) -> Figure:
    """A heat map of ``measure`` over two dimensions. Cells whose measure is null are drawn grey and
    labelled by the frame's ``status`` column when it has one (e.g. "suppressed"), never as a number.
    ``middle`` makes the colours diverge around a reference value (100 for an index)."""
    scale = (
        alt.Scale(scheme="redblue", domainMid=middle, reverse=True)
        if middle is not None
        else alt.Scale(scheme="blues")
    )
    x = alt.X(
        columns.field, title=columns.title, sort=column_sort, axis=alt.Axis(labelAngle=-40, labelLimit=140)
    )
    y = alt.Y(rows.field, title=rows.title, sort=row_sort, axis=alt.Axis(labelOverlap=False))
    base = alt.Chart(frame).encode(x=x, y=y)
    status = ["status"] if "status" in frame.columns else []
    tooltips = [columns.tooltip(), rows.tooltip(), measure.tooltip()] + [
        alt.Tooltip(name, title="Shown as") for name in status
    ]
    has_value = f"isValid(datum['{measure.name}'])"
    shown = (
        base.transform_filter(has_value)
        .mark_rect()
        .encode(color=measure.encode(alt.Color, scale=scale), tooltip=tooltips)
    )
    hidden = base.transform_filter(f"!{has_value}")
    layers = [
        shown,
        hidden.mark_rect(color=SUPPRESSED_COLOR).encode(tooltip=tooltips),
    ]
    if status:
        layers.append(hidden.mark_text(fontSize=9, color="#555").encode(text="status:N"))
    height = max(MIN_HEIGHT, ROW_PX * frame[rows.name].n_unique()) + SLANTED_LABELS_PX
    return alt.layer(*layers).properties(height=height)
