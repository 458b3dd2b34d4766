"""Reading interaction logs: the accepted formats and a clear error for each kind of bad file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from recsys import RecsysError
from recsys.interactions import read_interactions, user_items

HEADER = "shopper_id,product_id,ts,quantity"


def write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_times_in_iso_or_epoch_ms_become_utc_and_weight_defaults_to_quantity(tmp_path: Path) -> None:
    log = read_interactions(
        write(
            tmp_path,
            f"{HEADER}\nM1,P1,2026-11-23T08:00:00Z,2\nM1,P2,2026-11-23T17:00:00+09:00,1\n"
            "M2,P1,2026-11-23 08:00:00,1\nM2,P3,1795420800000,3\n",
        )
    )
    assert log["ts"].to_list() == [datetime(2026, 11, 23, 8, tzinfo=UTC)] * 4
    assert log["weight"].to_list() == [2.0, 1.0, 1.0, 3.0]


def test_parquet_with_weights_and_naive_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pl.DataFrame(
        {
            "shopper_id": ["M1", "M1"],
            "product_id": ["P1", "P2"],
            "ts": [datetime(2026, 11, 23, 8), datetime(2026, 11, 23, 9)],
            "quantity": [1, 0],
            "weight": [1.0, 0.3],
        }
    ).write_parquet(path)
    log = read_interactions(path)
    assert log["ts"][0] == datetime(2026, 11, 23, 8, tzinfo=UTC)
    matrices = user_items(log, ["M1"], ["P1", "P2", "P9"])
    assert matrices.confidence.toarray().tolist() == [[pytest.approx(1.0), pytest.approx(0.3), 0.0]]
    assert matrices.bought.toarray().tolist() == [[1.0, 0.0, 0.0]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shopper_id,product_id,quantity\nM1,P1,1\n", "missing column.*ts; need shopper_id"),
        (f"{HEADER}\n", "no interactions"),
        (f"{HEADER}\nM1,P1,yesterday,1\n", "ts 'yesterday' on row 0 is not a time"),
        (f"{HEADER}\nM1,P1,2026-11-23T08:00:00Z,two\n", "quantity 'two' on row 0 is not a whole number"),
        (f"{HEADER}\nM1,P1,2026-11-23T08:00:00Z,-1\n", "quantity must not be negative, row 0"),
        (f"{HEADER},weight\nM1,P1,2026-11-23T08:00:00Z,1,nan\n", "weight 'nan' on row 0 is not a number"),
        (f"{HEADER}\n,P1,2026-11-23T08:00:00Z,1\n", "shopper_id is empty on row 0"),
    ],
)
def test_bad_content_names_the_column_and_row(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RecsysError, match=message):
        read_interactions(write(tmp_path, text))


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(RecsysError, match="does not exist"):
        read_interactions(tmp_path / "missing.csv")
    with pytest.raises(RecsysError, match=r"must be \.csv or \.parquet, not \.json"):
        read_interactions(write(tmp_path, "{}", "log.json"))
    with pytest.raises(RecsysError, match="cannot read"):
        read_interactions(write(tmp_path, "not parquet", "log.parquet"))
