"""Implicit feedback as recsys reads it: an interaction log and the shopper x product matrices built from it.

The log has one row per purchase line or other signal: ``shopper_id``, ``product_id``, ``ts`` (UTC),
``quantity`` (units bought; 0 for a signal that is not a purchase) and ``weight`` (the confidence it
adds; the quantity when a file has no weight). It comes from a CSV or Parquet file (``walkout recsys
evaluate``, so the method can be checked on data walkout did not generate) or from the published
warehouse: ``marts.fct_purchase_lines`` carries each purchase's time, for the time split, and
``marts.interactions`` (purchases, put-backs and dwell, weighted by the dbt project) trains the served model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys import RecsysError

REQUIRED_COLUMNS = ("shopper_id", "product_id", "ts", "quantity")


@dataclass(frozen=True)
class UserItems:
    """Shopper x product matrices over fixed id orders: summed weights and summed units bought."""

    shoppers: tuple[str, ...]
    products: tuple[str, ...]
    confidence: sp.csr_matrix
    bought: sp.csr_matrix

    def rows_of(self, shopper_ids: Sequence[str]) -> np.ndarray:
        """Row numbers of shoppers (all must be known)."""
        index = {shopper: row for row, shopper in enumerate(self.shoppers)}
        return np.array([index[shopper] for shopper in shopper_ids], dtype=np.int64)


def read_interactions(path: Path) -> pl.DataFrame:
    """Read and check an interaction log (CSV or Parquet); :class:`RecsysError` names what is wrong."""
    if not path.is_file():
        raise RecsysError(f"interactions file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".parquet"}:
        raise RecsysError(f"interactions file {path} must be .csv or .parquet, not {suffix or 'no suffix'}")
    try:
        frame = pl.read_csv(path, infer_schema=False) if suffix == ".csv" else pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise RecsysError(f"cannot read {path}: {error}") from None
    return check_interactions(frame, str(path))


def check_interactions(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """The log with typed columns (``ts`` UTC, ``weight`` filled), or :class:`RecsysError` for bad data."""
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise RecsysError(
            f"{source}: missing column(s) {', '.join(missing)}; "
            f"need {', '.join(REQUIRED_COLUMNS)} (weight is optional)"
        )
    if frame.height == 0:
        raise RecsysError(f"{source}: no interactions (the file has a header but no rows)")
    if "weight" not in frame.columns:
        frame = frame.with_columns(weight=pl.col("quantity"))
    log = frame.select(
        _text(frame, "shopper_id", source),
        _text(frame, "product_id", source),
        _timestamp(frame, source),
        _number(frame, "quantity", pl.Int64, source),
        _number(frame, "weight", pl.Float64, source),
    )
    for column in ("quantity", "weight"):
        row = _first_row(log[column] < 0)
        if row is not None:
            raise RecsysError(f"{source}: {column} must not be negative, row {row} has {log[column][row]}")
    return log


def _first_row(mask: pl.Series) -> int | None:
    rows = mask.arg_true()
    return int(rows[0]) if len(rows) else None


def _text(frame: pl.DataFrame, column: str, source: str) -> pl.Series:
    values = frame[column].cast(pl.String, strict=False).str.strip_chars()
    row = _first_row(values.is_null() | (values == ""))
    if row is not None:
        raise RecsysError(f"{source}: {column} is empty on row {row}")
    return values


def _number(frame: pl.DataFrame, column: str, dtype: type[pl.Int64 | pl.Float64], source: str) -> pl.Series:
    original = frame[column]
    text = original.cast(pl.String, strict=False).str.strip_chars()
    values = (text if original.dtype == pl.String else original).cast(dtype, strict=False)
    bad = values.is_null() | (~values.is_finite() if dtype == pl.Float64 else False)
    row = _first_row(bad)
    if row is not None:
        kind = "a whole number" if dtype == pl.Int64 else "a number"
        raise RecsysError(f"{source}: {column} {text[row]!r} on row {row} is not {kind}")
    return values.alias(column)


def _timestamp(frame: pl.DataFrame, source: str) -> pl.Series:
    """``ts`` as UTC: ISO-8601 text (naive means UTC), epoch milliseconds, or a Parquet timestamp."""
    original = frame["ts"]
    if isinstance(original.dtype, pl.Datetime):
        values = (
            original.dt.replace_time_zone("UTC")
            if original.dtype.time_zone is None
            else original.dt.convert_time_zone("UTC")
        )
    elif original.dtype.is_integer():
        values = original.cast(pl.Int64).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC")
    else:
        values = pl.Series("ts", [_parse_ts(text) for text in original.cast(pl.String, strict=False)])
    values = values.cast(pl.Datetime("ms", "UTC")).alias("ts")
    row = _first_row(values.is_null())
    if row is not None:
        raise RecsysError(
            f"{source}: ts {original[row]!r} on row {row} is not a time "
            "(use ISO-8601 such as 2026-11-23T08:00:00Z, or epoch milliseconds)"
        )
    return values


def _parse_ts(text: str | None) -> datetime | None:
    if text is None:
        return None
    text = text.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def user_items(frame: pl.DataFrame, shoppers: Sequence[str], products: Sequence[str]) -> UserItems:
    """Sum ``weight`` and ``quantity`` per shopper x product into matrices over the given id orders.

    Rows of unknown shoppers or products are left out (a product dropped from the catalog, a
    shopper seen only after the training window).
    """
    rows = pl.DataFrame({"shopper_id": list(shoppers), "row": np.arange(len(shoppers))})
    columns = pl.DataFrame({"product_id": list(products), "column": np.arange(len(products))})
    pairs = (
        frame.join(rows, on="shopper_id")
        .join(columns, on="product_id")
        .group_by("row", "column")
        .agg(pl.col("weight").sum(), pl.col("quantity").sum())
    )
    shape = (len(shoppers), len(products))
    index = (pairs["row"].to_numpy(), pairs["column"].to_numpy())

    def matrix(values: pl.Series) -> sp.csr_matrix:
        return sp.csr_matrix((values.cast(pl.Float32).to_numpy(), index), shape=shape, dtype=np.float32)

    return UserItems(tuple(shoppers), tuple(products), matrix(pairs["weight"]), matrix(pairs["quantity"]))


def _query(published: Path, sql: str) -> pl.DataFrame:
    if not published.is_file():
        raise RecsysError(f"no published warehouse at {published}: build it first (walkout warehouse build)")
    with duckdb.connect(str(published), read_only=True) as connection:
        try:
            frame: pl.DataFrame = connection.sql(sql).pl()
        except duckdb.Error as error:
            raise RecsysError(f"published warehouse {published}: {error}") from None
    return frame


def published_purchases(published: Path) -> pl.DataFrame:
    """Every purchase line of the published marts as an interaction log (weight = units)."""
    frame = _query(
        published,
        "select shopper_id, product_id, purchased_at as ts, quantity, quantity as weight "
        "from marts.fct_purchase_lines",
    )
    return check_interactions(frame, f"{published}: marts.fct_purchase_lines") if frame.height else frame


def published_pairs(published: Path) -> pl.DataFrame:
    """The interactions mart: per shopper x product, its weight and the units bought."""
    return _query(
        published,
        "select shopper_id, product_id, cast(weight as double) as weight, "
        "cast(units_bought as bigint) as quantity, last_interaction_at as ts from marts.interactions",
    )


def published_demographics(published: Path) -> pl.DataFrame:
    """Each member's age band and gender from the published shopper dimension."""
    return _query(
        published,
        "select shopper_id, age_band, gender from marts.dim_shoppers",
    )
