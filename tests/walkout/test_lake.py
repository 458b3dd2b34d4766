"""The lake's format: columns from the contracts, the folder layout, the dates and versions it lists."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from walkout.contracts import TOPICS, CameraTrack, Purchase, Visit
from walkout.lake import (
    LAKE_SCHEMAS,
    LakeError,
    dates_present,
    duckdb_type,
    folder_versions,
    lake_schema,
    new_file_name,
    parquet_files,
    partition_dir,
    read_lake,
    schema_of,
)
from walkout.settings import Settings


def test_lake_schema_follows_the_contracts() -> None:
    purchases = lake_schema(Purchase)
    assert purchases["ts"] == pl.Datetime("ms", "UTC")
    assert purchases["lines"] == pl.List(
        pl.Struct(
            {
                "product_id": pl.String,
                "quantity": pl.Int64,
                "unit_price_krw": pl.Int64,
                "amount_krw": pl.Int64,
                "confidence": pl.Float64,
            }
        )
    )
    assert purchases["review_reasons"] == pl.List(pl.String)
    tracks = lake_schema(CameraTrack)
    assert (tracks["age_band"], tracks["gender"], tracks["zone_id"]) == (
        pl.String(),
        pl.String(),
        pl.String(),
    )
    assert lake_schema(Visit)["exited_at"] == pl.Datetime("ms", "UTC")
    for schema in LAKE_SCHEMAS.values():
        assert list(schema)[-3:] == ["landed_at", "kafka_partition", "kafka_offset"]
    assert set(LAKE_SCHEMAS) == set(TOPICS)


def test_read_lake_of_a_topic_never_landed_is_empty_with_its_schema(tmp_path: Path) -> None:
    empty = read_lake(Settings(data_dir=tmp_path), Purchase.TOPIC)
    assert empty.is_empty()
    assert empty.schema == LAKE_SCHEMAS[Purchase.TOPIC]


def test_a_topic_without_a_contract_has_no_schema() -> None:
    with pytest.raises(LakeError, match="not a contract topic"):
        schema_of("orders")


def test_duckdb_reads_nested_columns_as_lists_of_structs() -> None:
    assert duckdb_type(LAKE_SCHEMAS[Purchase.TOPIC]["lines"]) == (
        "struct(product_id varchar, quantity bigint, unit_price_krw bigint, amount_krw bigint, "
        "confidence double)[]"
    )
    assert duckdb_type(LAKE_SCHEMAS[Purchase.TOPIC]["ts"]) == "timestamp with time zone"
    assert duckdb_type(LAKE_SCHEMAS[Purchase.TOPIC]["kafka_partition"]) == "integer"


def test_partitions_are_topic_and_utc_date_folders(tmp_path: Path) -> None:
    assert partition_dir(tmp_path, "ad.impressions", date(2026, 11, 18)) == (
        tmp_path / "ad.impressions" / "date=2026-11-18"
    )
    for topic, day, mtime_ns in [("visits", 18, 1_000), ("purchases", 18, 3_000), ("visits", 19, 2_000)]:
        folder = partition_dir(tmp_path, topic, date(2026, 11, day))
        folder.mkdir(parents=True)
        (folder / new_file_name("part")).write_bytes(b"")
        os.utime(folder, ns=(mtime_ns, mtime_ns))
    (tmp_path / "visits" / "date=someday").mkdir()  # not a folder the lander makes
    assert dates_present(tmp_path) == [date(2026, 11, 18), date(2026, 11, 19)]
    versions = folder_versions(tmp_path)
    assert (versions["2026-11-18"], versions["2026-11-19"]) == (3_000, 2_000)
    (part,) = parquet_files(tmp_path / "visits" / "date=2026-11-18")
    assert part.name.startswith("part-")
    assert parquet_files(part.parent, "compacted") == []
