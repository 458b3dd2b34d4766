"""Plain words and number formats a marketer reads, instead of column names and raw floats.

Tables declare their columns once (:class:`Column`: the mart's name, the label shown, the kind of
number); the same declaration formats the on-screen table and names the CSV download's headers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import polars as pl
import streamlit as st

NO_VALUE = "n/a"


class Kind(Enum):
    """How a column's values are shown: the printf pattern of Streamlit's number columns, or None."""

    TEXT = None
    COUNT = "%,d"
    KRW = "₩%,d"
    SHARE = "percent"
    DECIMAL = "%,.1f"
    INDEX = "%d"
    HOUR = "%02d:00"
    DATE = "date"
    DATETIME = "datetime"


@dataclass(frozen=True)
class Column:
    """A table column: ``name`` in the query result, ``label`` on screen and in the CSV header."""

    name: str
    label: str
    kind: Kind = Kind.TEXT
    help: str | None = None

    def values(self) -> pl.Expr:
        """The column as the table shows it and the CSV holds it: won amounts rounded to whole won."""
        values = pl.col(self.name)
        return values.round(0) if self.kind is Kind.KRW else values

    def config(self) -> Any:
        """Streamlit's column configuration for this column."""
        if self.kind is Kind.DATE:
            return st.column_config.DateColumn(self.label, help=self.help, format="YYYY-MM-DD")
        if self.kind is Kind.DATETIME:
            return st.column_config.DatetimeColumn(self.label, help=self.help, format="YYYY-MM-DD HH:mm")
        if self.kind is Kind.TEXT:
            return st.column_config.TextColumn(self.label, help=self.help)
        return st.column_config.NumberColumn(self.label, help=self.help, format=self.kind.value)


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def krw(amount: float | None) -> str:
    """``₩12,345`` (won have no minor unit, so amounts are rounded to whole won)."""
    return NO_VALUE if amount is None or _missing(amount) else f"₩{round(amount):,}"


def count(value: float | None) -> str:
    return NO_VALUE if value is None or _missing(value) else f"{round(value):,}"


def share(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: 0.123 → ``12.3%``."""
    return NO_VALUE if value is None or _missing(value) else f"{value * 100:.{digits}f}%"


def change(current: float | None, previous: float | None) -> str | None:
    """Relative change for a metric's delta (``+12.3%``); None when there is nothing to compare with."""
    if current is None or previous is None or _missing(current) or _missing(previous) or previous == 0:
        return None
    return f"{(current - previous) / previous * 100:+.1f}%"


def plain(identifier: str) -> str:
    """A snake_case or kebab-case identifier in plain words: ``fresh_food`` → ``Fresh food``."""
    words = identifier.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def in_plain_words(column: str, words: Callable[[str], str] | None = None) -> pl.Expr:
    """A column of identifiers as plain words (``words`` defaults to :func:`plain`)."""
    return pl.col(column).map_elements(words or plain, return_dtype=pl.String)


def zone_name(zone_id: str) -> str:
    """A zone's plain name: ``S002-instant_noodles`` → ``Instant noodles``, ``S002-aisle-1`` → ``Aisle 1``."""
    _, _, local = zone_id.partition("-")
    return plain(local or zone_id).replace("Alcohol tobacco", "Alcohol & tobacco")


def segment_name(segment: str) -> str:
    """An ad segment in words: ``19-29:female`` → ``Female 19-29``, ``60plus:male`` → ``Male 60+``."""
    band, _, gender = segment.partition(":")
    return f"{plain(gender)} {band.replace('plus', '+')}" if gender else plain(segment)
