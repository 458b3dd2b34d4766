"""The lake and the catalog as Dagster assets: what dbt reads, checked before it does.

One asset per topic, partitioned by the lake's UTC dates: materializing a date surveys its files
(rows, duplicates, columns against the contract). The lander writes the files; these assets only
look, so a run never blocks it. The catalog asset exports the store catalog for dbt's sources.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl

from orchestration.resources import WarehouseResource
from walkout.catalog import load_catalog, write_catalog_tables
from walkout.catalog.export import TABLES as CATALOG_TABLES
from walkout.contracts import EARLIEST_TS, TOPICS
from walkout.lake import LAKE_SCHEMAS, added_later, parquet_files, partition_dir, partition_lock, table_name

LAKE_DATES = dg.DailyPartitionsDefinition(start_date=EARLIEST_TS.date().isoformat(), end_offset=1)
"""UTC dates of the lake's ``date=`` folders (today included, as the lander fills it)."""
LAKE_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(days=1), warn_window=timedelta(hours=2))
"""The lander writes all day: a lake date not surveyed for hours means the sensor or the lake is stuck."""
IO_RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)
"""For file work that can race the lander (a compaction replacing files) or a reader."""
SHOWN_PROBLEMS = 10


def topic_asset_key(topic: str) -> dg.AssetKey:
    """``lake/<table>``, the key dbt's ``lake`` source tables map to."""
    return dg.AssetKey(["lake", table_name(topic)])


@dataclass
class TopicSurvey:
    """What a topic's files hold on some dates."""

    files: int = 0
    rows: int = 0
    duplicate_event_ids: int = 0
    dates_with_files: list[str] = field(default_factory=list)
    schema_problems: list[str] = field(default_factory=list)


def _schema_problems(file: Path, expected: pl.Schema, optional: frozenset[str]) -> list[str]:
    """What does not match the contract; a file landed before an optional field was added may lack it."""
    actual = pl.read_parquet_schema(file)
    problems = [
        f"{file.name}: missing column {name}"
        for name in expected
        if name not in actual and name not in optional
    ]
    problems += [
        f"{file.name}: {name} is {actual[name]}, the contract says {dtype}"
        for name, dtype in expected.items()
        if name in actual and actual[name] != dtype
    ]
    return problems


def survey_topic(lake_dir: Path, topic: str, days: Sequence[date]) -> TopicSurvey:
    """Count files, rows and duplicate event ids, and check columns, of ``topic`` on ``days``."""
    survey = TopicSurvey()
    optional = added_later(topic)
    for day in days:
        directory = partition_dir(lake_dir, topic, day)
        if not directory.is_dir():
            continue
        with partition_lock(directory, exclusive=False):  # a compaction cannot swap files meanwhile
            files = parquet_files(directory)
            if not files:
                continue
            for file in files:
                survey.schema_problems += _schema_problems(file, LAKE_SCHEMAS[topic], optional)
            ids = pl.read_parquet(files, columns=["event_id"], hive_partitioning=False)["event_id"]
        survey.files += len(files)
        survey.rows += ids.len()
        survey.duplicate_event_ids += ids.len() - ids.n_unique()
        survey.dates_with_files.append(day.isoformat())
    return survey


def lake_topic_asset(topic: str) -> dg.AssetsDefinition:
    """The asset of one topic's lake folder, with its contract and duplicate checks."""
    key = topic_asset_key(topic)
    matches_contract = dg.AssetCheckSpec(
        "matches_contract",
        asset=key,
        blocking=True,
        description=f"Every {topic} file has the columns and types of the {topic} contract.",
    )
    unique_event_ids = dg.AssetCheckSpec(
        "unique_event_ids",
        asset=key,
        description="No event_id twice (staging deduplicates, but the lander should never land one twice).",
    )

    @dg.asset(
        key=key,
        group_name="lake",
        kinds={"parquet"},
        description=f"The lander's Parquet files of the {topic} topic, by UTC date.",
        partitions_def=LAKE_DATES,
        freshness_policy=LAKE_FRESHNESS,
        retry_policy=IO_RETRY,
        check_specs=[matches_contract, unique_event_ids],
    )
    def lake_topic(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult[None]]:
        days = [date.fromisoformat(key) for key in context.partition_keys]
        survey = survey_topic(warehouse.paths.lake_dir, topic, days)
        yield dg.MaterializeResult(
            metadata={
                "dagster/row_count": survey.rows,
                "files": survey.files,
                "dates_with_files": ", ".join(survey.dates_with_files) or "none",
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="matches_contract",
                    passed=not survey.schema_problems,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={"problems": "\n".join(survey.schema_problems[:SHOWN_PROBLEMS]) or "none"},
                ),
                dg.AssetCheckResult(
                    check_name="unique_event_ids",
                    passed=survey.duplicate_event_ids == 0,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"duplicate_event_ids": survey.duplicate_event_ids},
                ),
            ],
        )

    return lake_topic


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["catalog", table],
            group_name="catalog",
            kinds={"parquet"},
            description=f"The store catalog's {table} table, exported for dbt.",
        )
        for table in CATALOG_TABLES
    ],
    retry_policy=IO_RETRY,
)
def catalog_tables(warehouse: WarehouseResource) -> Iterator[dg.MaterializeResult[None]]:
    """Export the store catalog (products, stores, floor plans, members) as Parquet for dbt."""
    for table, path in write_catalog_tables(load_catalog(), warehouse.paths.catalog_dir).items():
        yield dg.MaterializeResult(
            asset_key=["catalog", table],
            metadata={
                "dagster/row_count": pl.scan_parquet(path).select(pl.len()).collect().item(),
                "path": str(path),
            },
        )


lake_topics = [lake_topic_asset(topic) for topic in TOPICS]

defs = dg.Definitions(assets=[*lake_topics, catalog_tables])
