"""The pattern every page follows, so a new page is a title, its filters and a few sections.

* :func:`open_page` titles the page and finds the published warehouse, or explains how to build it
  and stops the page there;
* :func:`section` shows a missing or empty mart as a message in that section, never a traceback;
* :func:`table` shows a table with plain-word headers and offers it as a CSV download;
* the ``pick_*`` helpers are the sidebar filters the pages share.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from typing import TypeVar

import polars as pl
import streamlit as st

from dashboards.charts import Figure
from dashboards.data import (
    ALL_HOURS,
    ALL_WEEKDAYS,
    BUILD_HINT,
    DataUnavailableError,
    NoDataError,
    Period,
    Slice,
    Warehouse,
)
from dashboards.format import Column
from walkout.settings import get_settings

DEFAULT_DAYS = 7
T = TypeVar("T")


def open_page(title: str, caption: str) -> Warehouse:
    """Title the page and return the published warehouse; without one, say how to build it and stop."""
    st.title(title)
    st.caption(caption)
    warehouse = Warehouse.of(get_settings())
    published = needed(warehouse.published_at)
    st.sidebar.caption(f"Warehouse published {published:%Y-%m-%d %H:%M} UTC")
    return warehouse


def needed(get: Callable[[], T]) -> T:
    """What the rest of the page depends on (e.g. its filters); if it is unavailable, say why and stop."""
    try:
        return get()
    except DataUnavailableError as problem:
        explain(problem)
        st.stop()


def explain(problem: DataUnavailableError) -> None:
    """Say what is missing and what to do, where the data would have been."""
    st.info(str(problem), icon=":material/info:")


@contextmanager
def section(title: str, caption: str | None = None) -> Iterator[None]:
    """A titled part of a page; data it cannot find becomes a message here and the page goes on."""
    st.subheader(title)
    if caption:
        st.caption(caption)
    try:
        yield
    except DataUnavailableError as problem:
        explain(problem)


def table(frame: pl.DataFrame, columns: Sequence[Column], file_name: str) -> None:
    """A table with plain-word headers and a button that downloads the same table as CSV."""
    shown = frame.select([column.values().alias(column.label) for column in columns])
    st.dataframe(shown, hide_index=True, column_config={column.label: column.config() for column in columns})
    st.download_button(
        "Download as CSV",
        shown.write_csv(),
        file_name=f"{file_name}.csv",
        mime="text/csv",
        key=f"csv-{file_name}",
        icon=":material/download:",
        on_click="ignore",
    )


def chart(figure: Figure, stretch: bool = True) -> None:
    """A chart as wide as the page, or (``stretch`` False) at its own size, e.g. a floor plan to scale."""
    st.altair_chart(figure, width="stretch" if stretch else "content")


def store_names(warehouse: Warehouse, having: str | None = None) -> dict[str, str]:
    """Store id → name, from the published store dimension; with ``having``, only the stores that
    mart has rows of (:class:`NoDataError` when there is none)."""
    where = f"where store_id in (select store_id from marts.{having})" if having else ""
    stores = warehouse.query(f"select store_id, store_name from marts.dim_stores {where} order by store_id")
    if having and stores.is_empty():
        raise NoDataError(f"No store has data for this page yet: land events, then {BUILD_HINT}.")
    return dict(zip(stores["store_id"].to_list(), stores["store_name"].to_list(), strict=True))


def pick_stores(warehouse: Warehouse, key: str) -> tuple[str, ...]:
    """Sidebar: one or more stores (all by default)."""
    names = store_names(warehouse)
    chosen = st.sidebar.multiselect(
        "Stores", list(names), default=list(names), format_func=names.__getitem__, key=key
    )
    return tuple(chosen) or tuple(names)


def pick_store(warehouse: Warehouse, mart: str, key: str) -> tuple[str, str]:
    """Sidebar: one of the stores ``mart`` has rows of; its id and name. Without any, the page says so
    and stops."""
    names = needed(lambda: store_names(warehouse, having=mart))
    store_id = str(st.sidebar.selectbox("Store", list(names), format_func=names.__getitem__, key=key))
    return store_id, names[store_id]


def pick_period(available: Period, key: str) -> Period:
    """Sidebar: a date range inside ``available`` (the last week of it by default)."""
    default = Period(max(available.first, available.last - timedelta(days=DEFAULT_DAYS - 1)), available.last)
    chosen = st.sidebar.date_input(
        "Dates",
        value=(default.first, default.last),
        min_value=available.first,
        max_value=available.last,
        key=key,
    )
    days = [day for day in (chosen if isinstance(chosen, tuple) else (chosen,)) if isinstance(day, date)]
    return Period(days[0], days[-1]) if days else default


def pick_weekdays_and_hours(key: str) -> tuple[tuple[int, ...], tuple[int, int]]:
    """Sidebar: weekdays (all by default) and an hour-of-day range."""
    weekdays = st.sidebar.multiselect(
        "Weekdays",
        list(ALL_WEEKDAYS),
        default=list(ALL_WEEKDAYS),
        format_func=lambda day: calendar.day_abbr[day - 1],
        key=f"{key}-weekdays",
    )
    first, last = st.sidebar.slider(
        "Hours of the day", 0, 23, value=ALL_HOURS, format="%d:00", key=f"{key}-hours"
    )
    return tuple(weekdays) or ALL_WEEKDAYS, (int(first), int(last))


def pick_slice(warehouse: Warehouse, available: Period, key: str, hours: bool = True) -> Slice:
    """Sidebar: stores, dates and (with ``hours``) weekdays and hours."""
    stores = pick_stores(warehouse, key=f"{key}-stores")
    period = pick_period(available, key=f"{key}-dates")
    if not hours:
        return Slice(stores, period)
    weekdays, hour_range = pick_weekdays_and_hours(key)
    return Slice(stores, period, weekdays, hour_range)
