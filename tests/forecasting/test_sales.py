"""Daily sales files become zero-filled daily series."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl

from forecasting.sales import DAY, SERIES, UNITS, read_sales_file


def test_a_csv_of_store_products_is_summed_per_day_and_zero_filled(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_text(
        "store_id,product_id,date,quantity\n"
        "S1,P1,2026-01-01,2\n"
        "S1,P1,2026-01-01,1\n"
        "S1,P1,2026-01-04,5\n"
        "S2,P1,2026-01-02,1\n"
    )
    history = read_sales_file(path)
    assert history.series.to_dicts() == [
        {SERIES: "S1/P1", DAY: date(2026, 1, 1), UNITS: 3.0},
        {SERIES: "S1/P1", DAY: date(2026, 1, 2), UNITS: 0.0},
        {SERIES: "S1/P1", DAY: date(2026, 1, 3), UNITS: 0.0},
        {SERIES: "S1/P1", DAY: date(2026, 1, 4), UNITS: 5.0},
        {SERIES: "S2/P1", DAY: date(2026, 1, 1), UNITS: 0.0},
        {SERIES: "S2/P1", DAY: date(2026, 1, 2), UNITS: 1.0},
        {SERIES: "S2/P1", DAY: date(2026, 1, 3), UNITS: 0.0},
        {SERIES: "S2/P1", DAY: date(2026, 1, 4), UNITS: 0.0},
    ]
    assert history.days == 4
    assert history.last_day == date(2026, 1, 4)


def test_a_parquet_file_may_carry_series_ids_and_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "sales.parquet"
    pl.DataFrame(
        {
            "series_id": ["a", "a"],
            "date": [datetime(2026, 1, 1, 9), datetime(2026, 1, 3, 18)],
            "quantity": [1, 2],
        }
    ).write_parquet(path)
    assert read_sales_file(path).series[UNITS].to_list() == [1.0, 0.0, 2.0]
