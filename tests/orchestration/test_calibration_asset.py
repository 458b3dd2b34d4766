"""The calibration asset after the published warehouse: fitted from decided review cases (and audited
visits, which outrank them) in small published copies, written as a version the checkout loads; skipped
when they found too few wrong lines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.definitions import build_definitions
from orchestration.defs.review import line_calibration
from orchestration.resources import WarehouseResource
from review.audits import write_audit
from walkout.calibration import newest_calibration_file, read_calibration
from walkout.data_dir import DataDir
from walkout.settings import Settings

CALIBRATION = dg.AssetKey(["published", "line_calibration"])


def publish_decisions(data_dir: Path, wrong: int) -> None:
    """Ten flagged receipts with one line at 0.6, ``wrong`` of them corrected (a unit removed) and the
    rest confirmed; fifty receipts of two lines at 0.99 nobody flagged."""
    paths = DataDir(data_dir)
    paths.warehouse_dir.mkdir(parents=True)
    with duckdb.connect(str(paths.published_warehouse_file)) as marts:
        marts.execute("create schema marts")
        marts.execute(
            "create table marts.fct_purchase_lines as "
            "select 'V' || v as visit_id, 'P' || p as product_id, 1 as quantity, "
            "case when v < 10 then 0.6 else 0.99 end as line_confidence "
            "from range(60) as visits(v), range(2) as products(p) where v >= 10 or p = 0"
        )
        marts.execute(
            "create table marts.fct_receipt_adjustment_lines as "
            f"select 'V' || v as visit_id, 'P0' as product_id, -1 as quantity_delta "
            f"from range({wrong}) as t(v)"
        )
    with duckdb.connect(str(paths.published_review_file)) as review:
        review.execute("create schema review")
        review.execute(
            "create table review.review.review_cases as select 'V' || v as visit_id, 'flagged' as kind, "
            "'decided' as state, ['low attribution confidence'] as review_reasons from range(10) as t(v)"
        )


def materialize(data_dir: Path) -> dg.ExecuteInProcessResult:
    resources = {"warehouse": WarehouseResource(data_dir=str(data_dir), review_target=0.001)}
    return dg.materialize([line_calibration], resources=resources)


def test_the_warehouse_job_refits_it_after_the_published_copy(tmp_path: Path) -> None:
    defs = build_definitions(Settings(data_dir=tmp_path))
    graph = defs.resolve_asset_graph()
    assert dg.AssetKey(["published", "warehouse"]) in graph.get(CALIBRATION).parent_keys
    assert "published__line_calibration" in defs.resolve_job_def("warehouse").graph.node_dict


@pytest.mark.slow
def test_decided_cases_calibrate_and_choose_the_threshold(tmp_path: Path) -> None:
    publish_decisions(tmp_path, wrong=6)
    assert materialize(tmp_path).success
    written = newest_calibration_file(DataDir(tmp_path).calibration_dir)
    assert written is not None
    calibration = read_calibration(written)
    assert calibration.calibrated(0.6) == pytest.approx(0.4)  # 4 of the 10 lines at 0.6 were right
    assert calibration.calibrated(0.99) == 1.0
    assert calibration.flags(0.6)  # no wrong receipt may go unflagged: 0.1 % of 60 visits is none
    assert not calibration.flags(0.99)
    assert calibration.fitted_on == {
        "lines": 110,
        "receipts": 60,
        "decided_lines": 10,
        "presumed_right_lines": 100,
    }


@pytest.mark.slow
def test_too_few_wrong_lines_write_nothing(tmp_path: Path) -> None:
    publish_decisions(tmp_path, wrong=2)
    result = materialize(tmp_path)
    assert result.success
    assert newest_calibration_file(DataDir(tmp_path).calibration_dir) is None
    metadata = result.asset_materializations_for_node("published__line_calibration")[0].metadata
    assert "fewer than the 5" in str(metadata["skipped"].value)


@pytest.mark.slow
def test_audited_visits_outrank_the_decisions_and_make_a_fit_possible(tmp_path: Path) -> None:
    """Two wrong lines decided are too few; an audit of the ten flagged visits finds six of their
    single-unit lines were not taken, which is enough, and replaces what was decided about them."""
    publish_decisions(tmp_path, wrong=2)
    audited = {f"V{v}": ({} if v < 6 else {"P0": 1}) for v in range(10)}
    write_audit(DataDir(tmp_path).audits_dir, "S001", date(2026, 11, 18), audited)
    assert materialize(tmp_path).success
    written = newest_calibration_file(DataDir(tmp_path).calibration_dir)
    assert written is not None
    calibration = read_calibration(written)
    assert calibration.calibrated(0.6) == pytest.approx(0.4)  # the audit's 4 of 10, not the decisions' 8
    assert calibration.flags(0.6)
    assert calibration.fitted_on == {
        "lines": 110,
        "receipts": 60,
        "decided_lines": 0,
        "presumed_right_lines": 100,
        "audited_lines": 10,
    }
