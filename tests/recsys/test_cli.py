"""``walkout recsys evaluate`` as a user runs it: a subprocess on a file walkout did not write itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest


def walkout(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI in ``cwd``, which is also its data directory."""
    return subprocess.run(
        [sys.executable, "-m", "walkout", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "WALKOUT_DATA_DIR": str(cwd), "COLUMNS": "200"},
        timeout=900,
    )


@pytest.mark.slow
def test_evaluate_prints_one_json_object(purchase_history: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "interactions.csv"
    shoppers = purchase_history["shopper_id"].unique().sort()[:400]
    purchase_history.filter(pl.col("shopper_id").is_in(shoppers.implode())).write_csv(path)
    result = walkout("recsys", "evaluate", "--interactions", str(path), "--k", "5", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    report = json.loads(line)
    assert report["users"] == 400
    assert report["served"] == "als_repurchase"
    assert set(report["models"]["als"]) == {"all", "new_items"}
    assert set(report["models"]["popularity"]["all"]) == {"precision@5", "map@5", "ndcg@5"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interactions", "missing.csv"], "interactions file missing.csv does not exist"),
        (["--interactions", "bad.csv"], "missing column(s) ts, quantity"),
        (["--interactions", "short.csv"], "needs more than 14 days of history"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(args: list[str], message: str, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("shopper_id,product_id\nM1,P1\n")
    (tmp_path / "short.csv").write_text("shopper_id,product_id,ts,quantity\nM1,P1,2026-11-23T08:00:00Z,1\n")
    result = walkout("recsys", "evaluate", *args, cwd=tmp_path)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("walkout: error: ")
    assert message in line
