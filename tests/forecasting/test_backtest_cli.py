"""``walkout forecast backtest`` through the CLI's entry point: one JSON object on good sales, one line
and exit code 1 on bad ones."""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from cli.app import main

DAYS = 35


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``walkout forecast backtest ARGS``."""
    monkeypatch.setattr(sys, "argv", ["walkout", "forecast", "backtest", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


def assert_one_line_error(code: int, out: str, err: str, message: str) -> None:
    assert code == 1
    assert out == ""
    assert err.startswith("walkout: error: "), err
    assert message in err, err
    assert err.count("\n") == 1, err


def sales(days: int = DAYS, products: int = 4) -> pl.DataFrame:
    """Poisson daily sales with a weekend peak; days without sales left out (they count as zero)."""
    rng = np.random.default_rng(3)
    rows = [
        {"store_id": "S1", "product_id": f"P{p}", "date": str(day), "quantity": int(quantity)}
        for p in range(products)
        for day in (date(2026, 1, 5) + timedelta(days=d) for d in range(days))
        if (quantity := rng.poisson((p + 1) * (1.6 if day.weekday() >= 5 else 1.0)))
    ]
    return pl.DataFrame(rows)


def test_json_has_every_model_and_the_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sales.parquet"
    sales().write_parquet(path)
    code, out, err = run_cli(
        monkeypatch, capsys, "--sales", str(path), "--horizon", "7", "--folds", "3", "--json"
    )
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert (result["series"], result["horizon"], result["folds"]) == (4, 7, 3)
    assert set(result["models"]) == {
        "seasonal_naive",
        "auto_ets",
        "theta",
        "croston_optimized",
        "adida",
        "imapa",
    }
    assert set(result["chosen"]) == {"mase", "wape"}
    assert all(figures["wape"] > 0 for figures in result["models"].values())
    assert sum(result["chosen_models"].values()) == 4
    assert set(result["interval_coverage"]) == {"80", "95"}


def test_a_table_without_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sales.csv"
    sales().write_csv(path)
    code, out, _ = run_cli(monkeypatch, capsys, "--sales", str(path))
    assert code == 0
    assert "seasonal_naive (baseline)" in out
    assert "chosen" in out


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("product_id,day,quantity\nP1,2026-01-01,1\n", [], "missing column(s) date"),
        ("date,quantity\n2026-01-01,1\n", [], "missing column(s) series_id or product_id"),
        ("product_id,date,quantity\nP1,2026-01-01,1\nP1,2026-01-02,-2\n", [], "negative quantity in row 3"),
        ("product_id,date,quantity\nP1,01/02/2026,1\n", [], "unparseable date (use YYYY-MM-DD) in row 2"),
        ("product_id,date,quantity\nP1,2026-01-01,lots\n", [], "quantity that is not a number in row 2"),
        ("product_id,date,quantity\nP1,2026-01-01,1\nP2,2026-01-01,3\n", [], "a single day of history"),
        ("product_id,date,quantity\nP1,2026-01-01,1\nP1,2026-01-20,3\n", [], "too little history"),
        (
            "product_id,date,quantity\nP1,2026-01-01,1\nP1,2026-03-20,3\n",
            ["--folds", "1"],
            "at least 2 folds",
        ),
        (
            "product_id,date,quantity\nP1,2026-01-01,1\nP1,2026-03-20,3\n",
            ["--horizon", "0"],
            "at least 1 day",
        ),
    ],
)
def test_bad_sales_are_one_line_and_exit_1(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: str,
    args: list[str],
    message: str,
) -> None:
    path = tmp_path / "sales.csv"
    path.write_text(content)
    assert_one_line_error(*run_cli(monkeypatch, capsys, "--sales", str(path), *args), message)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no sales file at"),
        ("sales.xlsx", "x", "unknown file type; sales must be .csv or .parquet or .pq"),
        ("sales.parquet", "not parquet", "sales.parquet is not a readable Parquet file"),
    ],
)
def test_unreadable_files_are_one_line_and_exit_1(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    assert_one_line_error(*run_cli(monkeypatch, capsys, "--sales", str(path)), message)
