"""The lake assets survey a topic's files: rows and duplicates, and columns against the contract
(a drifted file fails a blocking check, so dbt never reads it). The catalog asset exports the catalog."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import polars as pl

from orchestration.defs.lake import catalog_tables, lake_topic_asset, survey_topic
from orchestration.resources import WarehouseResource
from realtime.lander import land_offline
from walkout.catalog.export import TABLES as CATALOG_TABLES
from walkout.contracts import DwellSegment, Visit, VisitStatus, make_event_id
from walkout.data_dir import DataDir
from walkout.lake import LAKE_SCHEMAS, partition_dir
from walkout.settings import Settings

DAY = date(2026, 11, 18)
AT = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


def segment_rows(visit_ids: list[str]) -> pl.DataFrame:
    segments = [
        DwellSegment(
            event_id=make_event_id("dwell", visit_id),
            store_id="S002",
            ts=AT,
            visit_id=visit_id,
            shopper_id="M000001",
            zone_id="S002-snacks",
            entered_at=AT,
            exited_at=AT,
            dwell_s=0.0,
            stopped=False,
        ).model_dump()
        | {"landed_at": AT, "kafka_partition": 0, "kafka_offset": 0}
        for visit_id in visit_ids
    ]
    return pl.DataFrame(segments, schema=LAKE_SCHEMAS[DwellSegment.TOPIC])


def write(lake: Path, frame: pl.DataFrame, name: str) -> None:
    folder = partition_dir(lake, DwellSegment.TOPIC, DAY)
    folder.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(folder / name)


def materialize(data_dir: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [lake_topic_asset(DwellSegment.TOPIC)],
        partition_key=DAY.isoformat(),
        resources={"warehouse": WarehouseResource(data_dir=str(data_dir))},
        raise_on_error=False,
    )


def test_survey_counts_rows_duplicates_and_dates(tmp_path: Path) -> None:
    write(tmp_path, segment_rows(["v1", "v2"]), "part-1.parquet")
    write(tmp_path, segment_rows(["v2"]), "part-2.parquet")  # v2 again: a compaction caught mid-way
    survey = survey_topic(tmp_path, DwellSegment.TOPIC, [DAY, date(2026, 11, 19)])
    assert (survey.files, survey.rows, survey.duplicate_event_ids) == (2, 3, 1)
    assert survey.dates_with_files == ["2026-11-18"]
    assert survey.schema_problems == []


def test_a_drifted_file_fails_the_blocking_contract_check(tmp_path: Path) -> None:
    write(
        DataDir(tmp_path).lake_dir,
        segment_rows(["v1"]).drop("stopped").with_columns(pl.col("dwell_s").cast(pl.Int64)),
        "p.parquet",
    )
    result = materialize(tmp_path)
    (check,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "matches_contract"]
    assert not check.passed
    problems = str(check.metadata["problems"].value)
    assert "missing column stopped" in problems
    assert "dwell_s is Int64, the contract says Float64" in problems


def test_a_file_landed_before_an_optional_field_was_added_passes(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    opened = Visit(
        event_id=make_event_id("visit", "V1"),
        store_id="S001",
        ts=AT,
        visit_id="V1",
        shopper_id="M000001",
        status=VisitStatus.OPENED,
        group_size=1,
        entered_at=AT,
    )
    land_offline(settings, [opened])
    (landed,) = partition_dir(settings.paths.lake_dir, Visit.TOPIC, DAY).glob("*.parquet")
    older = pl.read_parquet(landed).drop("demographic_source", "demographic_confidence")
    older.write_parquet(landed)
    assert survey_topic(settings.paths.lake_dir, Visit.TOPIC, [DAY]).schema_problems == []
    older.drop("event_type", "visit_id").write_parquet(landed)  # the envelope and required fields still count
    assert survey_topic(settings.paths.lake_dir, Visit.TOPIC, [DAY]).schema_problems == [
        f"{landed.name}: missing column event_type",
        f"{landed.name}: missing column visit_id",
    ]


def test_an_empty_lake_date_is_surveyed_as_empty(tmp_path: Path) -> None:
    result = materialize(tmp_path)
    assert result.success
    (materialization,) = result.asset_materializations_for_node("lake__dwell_paths")
    assert materialization.metadata["dagster/row_count"].value == 0


def test_catalog_tables_are_exported_for_dbt(tmp_path: Path) -> None:
    result = dg.materialize(
        [catalog_tables], resources={"warehouse": WarehouseResource(data_dir=str(tmp_path))}
    )
    assert result.success
    assert {path.stem for path in DataDir(tmp_path).catalog_dir.glob("*.parquet")} == set(CATALOG_TABLES)
