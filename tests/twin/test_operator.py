"""The twin plays the operator: deciding the small lake's open cases from the ground truth makes every
reviewed receipt what its visit truly took and closes every case, once the decisions land and the
warehouse is built again; a careless operator only confirms; and ``walkout review simulate`` sends the
decisions through Kafka."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pytest

from orchestration.build import WarehouseBuild, build_warehouse
from realtime.lander import land_offline
from review.audits import read_audits
from review.published import reading
from review.queue import open_cases
from twin.operator import OperatorHabits, simulate_review
from twin.truth import GroundTruth
from walkout.catalog import load_catalog
from walkout.contracts import Purchase
from walkout.kafka import bootstrap_servers
from walkout.settings import Settings

if TYPE_CHECKING:
    from tests.conftest import SmallLake

pytestmark = pytest.mark.slow

NOW = datetime(2026, 12, 1, tzinfo=UTC)  # after the small lake's day: delays fit before it


def with_truth(small_lake: SmallLake, folder: Path) -> Settings:
    """A copy of the small lake's data directory (warehouse built) with the twin's ground truth of its day."""
    settings = Settings(data_dir=folder / "data")
    shutil.copytree(small_lake.settings.data_dir, settings.data_dir)
    GroundTruth(settings.paths.ground_truth_dir).write(small_lake.store_day.truth)
    return settings


def test_deciding_from_the_truth_makes_every_reviewed_receipt_right(
    warehouse: WarehouseBuild, small_lake: SmallLake, tmp_path: Path
) -> None:
    settings = with_truth(small_lake, tmp_path)
    opened = open_cases(settings.paths.published_review_file, NOW)
    review = simulate_review(settings, load_catalog(), NOW, OperatorHabits(mean_delay=timedelta(minutes=20)))
    receipt_cases = [case for case in opened if case.kind == "flagged"]
    assert sum(review.outcomes.values()) == len(opened)
    assert review.outcomes.get("corrected", 0) + review.outcomes.get("confirmed right", 0) == len(
        receipt_cases
    )
    assert review.outcomes.get("corrected", 0) >= 1, "some flagged receipt was wrong"
    assert all(adjustment.decided_by == "twin-operator" for adjustment in review.adjustments)
    assert all(adjustment.ts > NOW - timedelta(days=30) for adjustment in review.adjustments)

    land_offline(settings, review.adjustments)
    build_warehouse(settings)

    truth = small_lake.store_day.truth.receipts
    true_totals = dict(
        truth.group_by("visit_id")
        .agg((pl.col("quantity") * pl.col("unit_price_krw")).sum().alias("total"))
        .iter_rows()
    )
    visits = [case.visit_id for case in receipt_cases]
    with duckdb.connect(str(settings.paths.published_warehouse_file), read_only=True) as con:
        net = dict(
            con.execute(
                "select visit_id, net_total_krw from marts.fct_visits where visit_id in ?", [visits]
            ).fetchall()
        )
    assert net == {visit: true_totals.get(visit, 0) for visit in visits}
    with reading(settings.paths.published_review_file) as con:
        still_open = con.sql(
            "select kind, count(*) from review.review_cases where state = 'open' group by kind"
        ).fetchall()
    assert still_open == []  # a take no visit took is written off: nothing is left open
    assert review.outcomes.get("written off", 0) >= 1


def test_a_careless_operator_confirms_every_receipt(
    warehouse: WarehouseBuild, small_lake: SmallLake, tmp_path: Path
) -> None:
    settings = with_truth(small_lake, tmp_path)
    review = simulate_review(settings, load_catalog(), NOW, OperatorHabits(mistake_rate=1.0))
    assert {adjustment.kind for adjustment in review.adjustments} <= {"confirm", "add_line", "write_off"}
    assert review.outcomes.get("corrected", 0) == 0
    assert review.outcomes.get("confirmed wrong (a mistake)", 0) >= 1


@pytest.mark.kafka
def test_walkout_review_simulate_sends_the_decisions_to_kafka(
    warehouse: WarehouseBuild, small_lake: SmallLake, kafka_settings: Settings, tmp_path: Path
) -> None:
    settings = with_truth(small_lake, tmp_path)
    env = {
        **os.environ,
        "WALKOUT_DATA_DIR": str(settings.data_dir),
        "WALKOUT_KAFKA_BOOTSTRAP": bootstrap_servers(kafka_settings),
    }
    done = subprocess.run(
        [sys.executable, "-m", "walkout", "review", "simulate", "--limit", "3", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    report = json.loads(done.stdout)
    assert sum(report["cases"].values()) == 3
    assert report["adjustments_sent"] >= 3 - report["cases"].get("left open", 0)


def test_the_twin_audits_every_visit_by_the_checkouts_visit_id(small_lake: SmallLake, tmp_path: Path) -> None:
    """The truth written with an audits folder audits every visit under the id the checkout gave it: each
    receipt's visit is audited, and nearly every receipt charges what its audit says."""
    truth = small_lake.store_day.truth
    GroundTruth(tmp_path / "truth", tmp_path / "audits").write(truth)
    audits = read_audits(tmp_path / "audits")
    assert len(audits) == truth.visits.height
    receipts = small_lake.of_type(Purchase)
    assert {receipt.visit_id for receipt in receipts} <= set(audits)
    exact = sum(audits[r.visit_id] == {line.product_id: line.quantity for line in r.lines} for r in receipts)
    assert exact / len(receipts) > 0.9
    assert any(not taken for taken in audits.values())  # a visit that took nothing is audited too
