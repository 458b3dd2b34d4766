"""Daily sales as forecasting reads them: a checked sales file or the warehouse's ``fct_sales_daily``
(the digital twin's true receipts, weeks of known demand for tests and benchmarks: :mod:`twin.sales`).

Either becomes a :class:`SalesHistory`: one zero-filled daily series per store x product (or per
``series_id`` of a file), in statsforecast's long format ``unique_id, ds, y``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from forecasting.errors import ForecastError

SERIES, DAY, UNITS = "unique_id", "ds", "y"
"""statsforecast's column names: series id, date, units sold."""
FILE_FORMATS = {".csv": "CSV", ".parquet": "Parquet", ".pq": "Parquet"}
SHOWN_ROWS = 3


@dataclass(frozen=True)
class SalesHistory:
    """Zero-filled daily units per series (``unique_id, ds, y``) and what each series is (``keys``)."""

    series: pl.DataFrame
    keys: pl.DataFrame

    @property
    def last_day(self) -> date:
        last: date = self.series[DAY].max()  # type: ignore[assignment]
        return last

    @property
    def days(self) -> int:
        """Days from the first to the last date of the history."""
        first: date = self.series[DAY].min()  # type: ignore[assignment]
        return (self.last_day - first).days + 1


def daily_series(sales: pl.DataFrame, *, from_first_day: bool = False) -> pl.DataFrame:
    """Units per series and day, summed, each series running to the last day of all from its own first
    day (or the first of all, ``from_first_day``); days without a row sold nothing."""
    totals = sales.group_by(SERIES, DAY).agg(pl.col(UNITS).sum().cast(pl.Float64))
    first = pl.lit(totals[DAY].min()) if from_first_day else pl.col(DAY).min()
    days = totals.group_by(SERIES).agg(pl.date_ranges(first, pl.lit(totals[DAY].max())).first().alias(DAY))
    return (
        days.explode(DAY)
        .join(totals, on=[SERIES, DAY], how="left")
        .with_columns(pl.col(UNITS).fill_null(0.0))
        .sort(SERIES, DAY)
    )


def read_sales_file(path: Path) -> SalesHistory:
    """A CSV or Parquet file of daily sales: ``series_id`` or ``product_id`` [+ ``store_id``], ``date``,
    ``quantity``; several rows of a series and day add up, and a series sold nothing on the file's days
    it has no row for."""
    raw = _read_table(path)
    missing = [name for name in ("date", "quantity") if name not in raw.columns]
    if "series_id" not in raw.columns and "product_id" not in raw.columns:
        missing.insert(0, "series_id or product_id")
    if missing:
        raise ForecastError(
            f"{path.name}: missing column(s) {', '.join(missing)} (has {', '.join(raw.columns) or 'none'})"
        )
    sales = raw.with_row_index("row", offset=2 if path.suffix.lower() == ".csv" else 1).select(
        "row",
        _series_key(raw.columns).alias(SERIES),
        _parsed_dates(raw.schema["date"]).alias(DAY),
        pl.col("quantity").cast(pl.Float64, strict=False).alias(UNITS),
        pl.col("date").cast(pl.String).alias("date_text"),
        pl.col("quantity").cast(pl.String).alias("quantity_text"),
    )
    _check_rows(path, sales)
    series = daily_series(sales, from_first_day=True)
    if series[DAY].n_unique() < 2:
        day: date = series[DAY].min()  # type: ignore[assignment]
        raise ForecastError(f"{path.name}: a single day of history ({day}); a backtest needs weeks of sales")
    return SalesHistory(series, series.select(SERIES).unique().sort(SERIES))


def read_warehouse_sales(published: Path) -> SalesHistory:
    """``marts.fct_sales_daily`` of the published (read-only) warehouse, one series per store x product."""
    if not published.exists():
        raise ForecastError(
            f"no published warehouse at {published}; build it first (walkout warehouse build)"
        )
    with duckdb.connect(str(published), read_only=True) as con:
        sales: pl.DataFrame = con.sql(
            f"select store_id, product_id, category, sales_date as {DAY}, units_sold as {UNITS} "
            "from marts.fct_sales_daily"
        ).pl()
    sales = sales.with_columns(store_product_series())
    keys = sales.select(SERIES, "store_id", "product_id", "category").unique().sort(SERIES)
    return SalesHistory(daily_series(sales.select(SERIES, DAY, UNITS)), keys)


def store_product_series() -> pl.Expr:
    """The series id of a store x product: ``<store_id>/<product_id>``."""
    return pl.concat_str(
        pl.col("store_id").cast(pl.String), pl.col("product_id").cast(pl.String), separator="/"
    ).alias(SERIES)


def _read_table(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise ForecastError(f"no sales file at {path}")
    kind = FILE_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ForecastError(f"{path.name}: unknown file type; sales must be {' or '.join(FILE_FORMATS)}")
    try:
        return pl.read_csv(path, infer_schema=False) if kind == "CSV" else pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ForecastError(f"{path.name} is not a readable {kind} file: {first_line}") from None


def _series_key(columns: list[str]) -> pl.Expr:
    if "series_id" in columns:
        return pl.col("series_id").cast(pl.String)
    if "store_id" in columns:
        return store_product_series()
    return pl.col("product_id").cast(pl.String)


def _parsed_dates(dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Date:
        return pl.col("date")
    if isinstance(dtype, pl.Datetime):
        return pl.col("date").dt.date()
    return pl.col("date").cast(pl.String).str.strip_chars().str.to_date("%Y-%m-%d", strict=False)


def _check_rows(path: Path, sales: pl.DataFrame) -> None:
    """Raise naming the first rows with no series, an unparseable date or a bad quantity."""
    problems = {
        "no series id": pl.col(SERIES).is_null(),
        "unparseable date (use YYYY-MM-DD)": pl.col(DAY).is_null(),
        "quantity that is not a number": pl.col(UNITS).is_null() | pl.col(UNITS).is_nan(),
        "negative quantity": pl.col(UNITS) < 0,
    }
    for problem, condition in problems.items():
        bad = sales.filter(condition)
        if bad.height:
            shown = ", ".join(
                f"row {row['row']} (date {row['date_text']!r}, quantity {row['quantity_text']!r})"
                for row in bad.head(SHOWN_ROWS).iter_rows(named=True)
            )
            more = f" and {bad.height - SHOWN_ROWS} more" if bad.height > SHOWN_ROWS else ""
            raise ForecastError(f"{path.name}: {problem} in {shown}{more}")
