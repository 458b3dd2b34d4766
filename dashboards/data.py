"""Read-only access to the published warehouse: the copy of the marts that each warehouse build swaps in.

Every query attaches the published DuckDB file read-only and closes it again, so a build replacing the
file (by rename) never waits for the dashboards, and a reader never sees half a build. Results are
cached per version of the file (inode, modification time, size): the next publish is picked up by the
next query. Nothing here writes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import duckdb
import polars as pl

from walkout.errors import WalkoutError
from walkout.settings import Settings
from walkout.vocabulary import AgeBand, Gender

MARTS_SCHEMA = "marts"
BUILD_HINT = "build it with `walkout warehouse build` (or `make demo`)"
ALL_WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)
"""ISO weekdays, 1 = Monday."""
ALL_HOURS = (0, 23)
AGE_BANDS = tuple(band.value for band in AgeBand if band is not AgeBand.UNKNOWN)
GENDERS = tuple(gender.value for gender in Gender if gender is not Gender.UNKNOWN)
"""The shopper groups the warehouse reports (members always have a known age band and gender)."""
_MART_REFERENCE = re.compile(rf"\b{MARTS_SCHEMA}\.(\w+)")

Param = str | int | float | bool | date | tuple[str, ...] | tuple[int, ...]


class DataUnavailableError(WalkoutError):
    """What a page needs is not in the warehouse (yet); the message says what is missing and what to do."""


class WarehouseNotBuiltError(DataUnavailableError):
    """No published warehouse at all."""


class MartMissingError(DataUnavailableError):
    """The published warehouse lacks a mart a page needs."""


class NoDataError(DataUnavailableError):
    """A mart has no rows for what the page asked."""


@dataclass(frozen=True)
class FileVersion:
    """Identifies one published copy: a new publish (write, then rename) changes at least one field."""

    inode: int
    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: Path) -> FileVersion | None:
        """The file's version; None when there is no file."""
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        return cls(stat.st_ino, stat.st_mtime_ns, stat.st_size)


@dataclass(frozen=True)
class Warehouse:
    """The published warehouse file of a data directory, opened read-only for each query."""

    path: Path

    @classmethod
    def of(cls, settings: Settings) -> Warehouse:
        return cls(settings.paths.published_warehouse_file)

    def version(self) -> FileVersion:
        """The current copy's version; raises :class:`WarehouseNotBuiltError` when there is none."""
        version = FileVersion.of(self.path)
        if version is None:
            raise WarehouseNotBuiltError(
                f"The warehouse has not been built yet (no {self.path}): {BUILD_HINT}."
            )
        return version

    def published_at(self) -> datetime:
        return datetime.fromtimestamp(self.version().mtime_ns / 1e9, tz=UTC)

    def marts(self) -> frozenset[str]:
        """Names of the published marts."""
        names = self.query("select table_name from duckdb_tables() where schema_name = ?", (MARTS_SCHEMA,))
        return frozenset(names["table_name"].to_list())

    def k_anonymity(self) -> int:
        """A figure about a shopper group behind fewer distinct shoppers is never shown: the warehouse's
        own rule, published with the marts (``marts.privacy_rules``)."""
        rule = require_rows(self.query("select k_anonymity from marts.privacy_rules"), "privacy rules")
        return int(rule.item())

    def query(self, sql: str, params: Sequence[Param] = ()) -> pl.DataFrame:
        """Run a read-only query; a mart it names (``marts.<name>``) that is not published raises
        :class:`MartMissingError`."""
        version = self.version()
        try:
            return _read(self.path, version, sql, tuple(params))
        except duckdb.CatalogException:
            missing = sorted(set(_MART_REFERENCE.findall(sql)) - self.marts())
            if not missing:
                raise
            raise MartMissingError(
                f"The warehouse has no {', '.join(missing)} table yet: it appears after a warehouse build "
                f"that includes it; {BUILD_HINT}."
            ) from None


@lru_cache(maxsize=256)
def _read(path: Path, version: FileVersion, sql: str, params: tuple[Param, ...]) -> pl.DataFrame:
    """One query on one version of the file (``version`` is part of the cache key only)."""
    bound = [list(value) if isinstance(value, tuple) else value for value in params]
    # An in-memory database of its own attaching the file: DuckDB shares a database opened by path
    # between connections, and a shared one could still be the copy a new publish just replaced.
    with duckdb.connect() as connection:
        connection.execute(f"attach '{_quoted(path)}' as published (read_only)")
        connection.execute("use published")
        frame: pl.DataFrame = connection.sql(sql, params=bound).pl()
    return frame


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def published_table(path: Path, missing: str) -> pl.DataFrame:
    """A Parquet table another area publishes by atomic rename (e.g. forecasts), read once per version
    of the file; :class:`NoDataError` with the message ``missing`` when it is not there."""
    version = FileVersion.of(path)
    if version is None:
        raise NoDataError(missing)
    return _read_parquet(path, version)


@lru_cache(maxsize=16)
def _read_parquet(path: Path, version: FileVersion) -> pl.DataFrame:
    """One version of a Parquet file (``version`` is part of the cache key only)."""
    return pl.read_parquet(path)


@dataclass(frozen=True)
class Period:
    """Local dates from ``first`` to ``last``, both included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first} to {self.last}"


@dataclass(frozen=True)
class Slice:
    """Which stores, local dates, weekdays and hours a page looks at: what its filters chose."""

    stores: tuple[str, ...]
    period: Period
    weekdays: tuple[int, ...] = ALL_WEEKDAYS
    hours: tuple[int, int] = ALL_HOURS

    def where(
        self, date_column: str = "local_date", hour_column: str | None = "local_hour"
    ) -> tuple[str, tuple[Param, ...]]:
        """A SQL condition (with its parameters) selecting this slice's rows."""
        conditions = [
            "list_contains(?, store_id)",
            f"{date_column} between ? and ?",
            f"list_contains(?, isodow({date_column}))",
        ]
        params: list[Param] = [self.stores, self.period.first, self.period.last, self.weekdays]
        if hour_column is not None:
            conditions.append(f"{hour_column} between ? and ?")
            params += list(self.hours)
        return " and ".join(conditions), tuple(params)

    def before(self) -> Slice:
        """The same stores, weekdays and hours over the previous period."""
        return Slice(self.stores, self.period.previous(), self.weekdays, self.hours)


def require_rows(frame: pl.DataFrame, what: str) -> pl.DataFrame:
    """``frame`` if it has rows; else :class:`NoDataError` saying there is no ``what`` for the filters."""
    if frame.is_empty():
        raise NoDataError(f"No {what} for the chosen filters.")
    return frame


def available_period(warehouse: Warehouse, mart: str, column: str, what: str) -> Period:
    """The first and last local date of ``column`` in a mart; :class:`NoDataError` when it is empty."""
    first, last = warehouse.query(f"select min({column}), max({column}) from {MARTS_SCHEMA}.{mart}").row(0)
    if first is None:
        raise NoDataError(f"No {what} in the warehouse yet: land events, then {BUILD_HINT}.")
    return Period(first, last)
