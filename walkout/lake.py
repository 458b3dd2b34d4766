"""The lake's format, owned once: where each topic's files go, their columns, the partition lock, reads.

The lake is Parquet under ``<data dir>/lake/<topic>/date=YYYY-MM-DD/`` (Hive-style, the UTC date of
each event's ``ts``), one table per contract topic. Its columns are the contract's fields (from
:mod:`walkout.contracts`, nested models as structs, tuples as lists) followed by where and when each row
landed. The lander (:mod:`realtime.lander`) writes it; Dagster surveys it and dbt reads it. dbt's
``lake`` source is generated from the same schemas (:func:`write_dbt_sources`, ``walkout warehouse
sources``), so a contract change reaches the warehouse by regenerating, never by hand.

Writers and readers of one partition share its directory's ``flock``; compaction, which swaps files,
takes it alone (:func:`partition_lock`).
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import polars as pl
import yaml
from polars.datatypes import DataTypeClass
from pydantic import BaseModel

from walkout.contracts import EVENT_TYPE_BY_TOPIC, TOPICS, Event
from walkout.data_dir import LAKE_FOLDER
from walkout.errors import WalkoutError
from walkout.settings import ENV_PREFIX, Settings

PARTITION_COLUMN = "date"  # what Hive-style readers call the UTC date of a partition folder
PARTITION_PREFIX = f"{PARTITION_COLUMN}="
LANDING_COLUMNS: dict[str, pl.DataType] = {
    "landed_at": pl.Datetime("ms", "UTC"),
    "kafka_partition": pl.Int32(),
    "kafka_offset": pl.Int64(),
}
_LANDING_DESCRIPTIONS = {
    "landed_at": "When the lander wrote the row.",
    "kafka_partition": "Kafka partition the row came from.",
    "kafka_offset": "Kafka offset the row came from.",
}
# Checked in order: bool before int and enums before str, as each is a subclass of the next.
_SCALAR_TYPES: tuple[tuple[type, pl.DataType], ...] = (
    (bool, pl.Boolean()),
    (Enum, pl.String()),
    (str, pl.String()),
    (int, pl.Int64()),
    (float, pl.Float64()),
    (datetime, pl.Datetime("ms", "UTC")),
)
DBT_SOURCES_PATH = Path(__file__).resolve().parents[1] / "dbt_project/models/staging/__sources.yml"


class LakeError(WalkoutError):
    """A topic the lake has no table for, or a contract field it cannot store or describe."""


# --- layout ----------------------------------------------------------------------------------


def table_name(topic: str) -> str:
    """A topic's name as a table (dbt source, Dagster asset): dots become underscores."""
    return topic.replace(".", "_")


def partition_dir(lake: Path, topic: str, day: date) -> Path:
    """Where a topic's events of one UTC day land (Hive-style, so readers get a ``date`` column)."""
    return lake / topic / f"{PARTITION_PREFIX}{day.isoformat()}"


def date_folders(lake: Path) -> list[Path]:
    """Every topic's date folders."""
    return sorted(path for path in lake.glob(f"*/{PARTITION_PREFIX}*") if path.is_dir())


def dates_present(lake: Path) -> list[date]:
    """The UTC dates that have a folder in some topic."""
    days = set()
    for folder in date_folders(lake):
        try:
            days.add(date.fromisoformat(folder.name.removeprefix(PARTITION_PREFIX)))
        except ValueError:
            continue  # not a folder the lander made
    return sorted(days)


def folder_versions(lake: Path) -> dict[str, int]:
    """Per lake date, the latest change (ns) of its topic folders: a new or compacted file bumps it."""
    versions: dict[str, int] = {}
    for folder in date_folders(lake):
        day = folder.name.removeprefix(PARTITION_PREFIX)
        versions[day] = max(versions.get(day, 0), folder.stat().st_mtime_ns)
    return versions


def new_file_name(kind: Literal["part", "compacted"]) -> str:
    """Unique forever, so a compacted file's list of replaced names can never hit a newer file."""
    return f"{kind}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.parquet"


def parquet_files(directory: Path, kind: Literal["part", "compacted"] | None = None) -> list[Path]:
    """A partition's data files (of one ``kind`` only, if given); hidden temporary files are not."""
    return sorted(directory.glob(f"{kind}-*.parquet" if kind else "*.parquet"))


def topic_files(lake: Path, topic: str) -> list[Path]:
    """Every data file of ``topic``, all dates (unlocked: for counting, not reading)."""
    return sorted((lake / topic).glob(f"{PARTITION_PREFIX}*/*.parquet"))


@contextmanager
def partition_lock(directory: Path, *, exclusive: bool) -> Iterator[None]:
    """Landing writes and readers share a partition; compaction has it alone (across processes too)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


# --- schemas ---------------------------------------------------------------------------------


def _lake_type(annotation: Any, where: str) -> pl.DataType:
    """The column type of one contract field (Optional is nullable, as every lake column is)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _lake_type(args[0], where)
    if origin in (Union, UnionType):
        members = [arg for arg in args if arg is not type(None)]
        if len(members) == 1:
            return _lake_type(members[0], where)
    elif origin is Literal:
        return _lake_type(type(args[0]), where)
    elif origin is tuple and args and all(arg is Ellipsis or arg == args[0] for arg in args[1:]):
        return pl.List(_lake_type(args[0], where))  # tuple[X, ...], or of a fixed length (a colour's 3)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return pl.Struct(_lake_columns(annotation))
    elif isinstance(annotation, type):
        for python_type, lake_type in _SCALAR_TYPES:
            if issubclass(annotation, python_type):
                return lake_type
    raise LakeError(f"{where}: no lake column type for {annotation!r}; map it in walkout/lake.py")


def _lake_columns(model: type[BaseModel]) -> dict[str, pl.DataType]:
    return {
        name: _lake_type(info.annotation, f"{model.__name__}.{name}")
        for name, info in model.model_fields.items()
    }


def lake_schema(model: type[Event]) -> pl.Schema:
    """A topic's lake table: its contract's fields, then when and from where each row landed."""
    return pl.Schema({**_lake_columns(model), **LANDING_COLUMNS})


LAKE_SCHEMAS: dict[str, pl.Schema] = {
    topic: lake_schema(model) for topic, model in EVENT_TYPE_BY_TOPIC.items()
}


def schema_of(topic: str) -> pl.Schema:
    """The lake schema of ``topic``; :class:`LakeError` for a topic without a contract."""
    schema = LAKE_SCHEMAS.get(topic)
    if schema is None:
        raise LakeError(f"{topic!r} is not a contract topic; choose from {', '.join(TOPICS)}")
    return schema


def added_later(topic: str) -> frozenset[str]:
    """Columns a file landed under an older contract may lack: optional fields beyond the envelope
    every event has (they read as null)."""
    model = EVENT_TYPE_BY_TOPIC[topic]
    return frozenset(
        name
        for name, spec in model.model_fields.items()
        if not spec.is_required() and name not in Event.model_fields
    )


# --- reads -----------------------------------------------------------------------------------


def read_parts(files: list[Path], topic: str) -> pl.DataFrame:
    """Lake files of one topic as one frame in the current lake schema; columns a file landed before
    they were added to the contract come out null."""
    return pl.read_parquet(files, schema=schema_of(topic), missing_columns="insert", hive_partitioning=False)


def read_event_ids(directory: Path) -> set[str]:
    """The ``event_id`` values a partition holds."""
    with partition_lock(directory, exclusive=False):
        files = parquet_files(directory)
        if not files:
            return set()
        ids = pl.read_parquet(files, columns=["event_id"], hive_partitioning=False)["event_id"]
    return set(ids.to_list())


def read_lake(settings: Settings, topic: str) -> pl.DataFrame:
    """Every landed row of ``topic`` (all dates), with the topic's lake schema even when empty."""
    schema = schema_of(topic)
    frames = []
    for directory in sorted((settings.paths.lake_dir / topic).glob(f"{PARTITION_PREFIX}*")):
        with partition_lock(directory, exclusive=False):
            files = parquet_files(directory)
            if files:
                frames.append(read_parts(files, topic))
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


# --- the lake as dbt's source ----------------------------------------------------------------

_DBT_DATA_DIR = f'{{{{ env_var("{ENV_PREFIX}DATA_DIR", "../data") }}}}'  # as dbt_project.yml documents it
_DBT_LAKE_FILES = f"{_DBT_DATA_DIR}/{LAKE_FOLDER}/$identifier/{PARTITION_PREFIX}*/*.parquet"
_DBT_DUCKDB_TYPES = {"String": "varchar", "Int64": "bigint", "Int32": "integer", "Float64": "double"}
# dbt's own words for each topic's table; the columns' come from the contracts' field descriptions.
_DBT_TABLES: dict[str, str] = {
    "gate.scans": "QR scans at the speed gates (entry and exit), with the gate's verdict.",
    "shelf.events": "Picks and put-backs detected by the shelves' weight plates.",
    "camera.tracks": "Tracked shopper positions on the floor plan, a few per second per shopper.",
    "visits": "Visits opened by an accepted entry scan and closed at exit (two events per visit).",
    "dwell_paths": "Each visit's stays in zones, one segment per person and stay.",
    "purchases": "The receipt charged when a visit leaves, one per visit that took something.",
    "carts": "A visit's virtual cart while it shops, a new revision at each change; the receipt is the "
    "last word. No freshness: no model reads it yet, and a lake from before carts has none.",
    "attributions": "Who took from a plate or put back on one, as the checkout charged it: one per shelf "
    "event that reached a visit, landed when the visit closed.",
    "receipt.disputes": "Shoppers' disputes of a receipt line from the member app (charged for something "
    "not taken, took something not charged, wrong quantity), each a review case. No freshness: the topic "
    "stays empty until a shopper disputes.",
    "receipt.adjustments": "Operators' decisions on receipts under review, each a change to one visit's "
    "charge (lines added or taken off, amount delta); a line moved between visits is two. No freshness: "
    "the topic stays empty until an operator decides.",
    "ad.impressions": "What the in-store screens showed, to whom, and whether it was clicked or scanned. "
    "No freshness: the topic stays empty until the ad screens report.",
    "alerts": "Loss-prevention alerts raised live by the checkout (tailgating, unpaid exits, ...): kind, "
    "severity, where, who (pseudonymous track ids), the evidence and the goods at stake. No freshness: the "
    "topic stays empty on a quiet day.",
    "deadletter": "Rejected messages with their original bytes, source and reason.",
}
_DBT_NOT_FRESH = frozenset({"carts", "receipt.disputes", "receipt.adjustments", "ad.impressions", "alerts"})


def duckdb_type(dtype: pl.DataType | DataTypeClass) -> str:
    """The DuckDB type a lake column reads as."""
    if isinstance(dtype, pl.List):
        return f"{duckdb_type(dtype.inner)}[]"
    if isinstance(dtype, pl.Struct):
        return "struct(" + ", ".join(f"{f.name} {duckdb_type(f.dtype)}" for f in dtype.fields) + ")"
    name = dtype.base_type().__name__
    if name == "Datetime":
        return "timestamp with time zone"
    return _DBT_DUCKDB_TYPES.get(name, name.lower())


def _column_description(model: type[Event], name: str) -> str:
    if name == "event_type":
        return f"Always {model.model_fields['event_type'].default}."
    if name in _LANDING_DESCRIPTIONS:
        return _LANDING_DESCRIPTIONS[name]
    description = model.model_fields[name].description
    if not description:
        raise LakeError(f"{model.__name__}.{name} has no description; give it Field(description=...)")
    return description


def _dbt_table(topic: str) -> dict[str, Any]:
    model = EVENT_TYPE_BY_TOPIC[topic]
    table: dict[str, Any] = {"name": table_name(topic)}
    if table_name(topic) != topic:
        table["identifier"] = topic
    description = _DBT_TABLES.get(topic)
    if description is None:
        raise LakeError(
            f"the {topic} topic's table has no description; add it to _DBT_TABLES in walkout/lake.py"
        )
    table["description"] = description
    if topic in _DBT_NOT_FRESH:
        table["config"] = {"freshness": None}
    table["columns"] = [
        {"name": name, "data_type": duckdb_type(dtype), "description": _column_description(model, name)}
        for name, dtype in LAKE_SCHEMAS[topic].items()
    ] + [{"name": PARTITION_COLUMN, "data_type": "date", "description": "UTC date of ts (the lake folder)."}]
    return table


def dbt_sources() -> str:
    """dbt's ``lake`` source (``__sources.yml``): each topic's table and columns, from the contracts."""
    source = {
        "name": "lake",
        "description": "The Parquet lake the lander writes: one folder per topic, one sub-folder per UTC "
        f"date of the events' ts ({LAKE_FOLDER}/<topic>/{PARTITION_PREFIX}YYYY-MM-DD/*.parquet). Columns "
        "follow walkout/contracts/, plus where and when each row landed; the hive folder adds "
        f"`{PARTITION_COLUMN}`. Kafka delivers at least once and compaction may briefly expose a row twice, "
        "so staging deduplicates by event_id.",
        "config": {
            "meta": {
                "formatter": "template",
                "lake_files": _DBT_LAKE_FILES,  # the glob macros/lake_source.sql checks for files
                "external_location": f"read_parquet('{_DBT_LAKE_FILES}', hive_partitioning = true, "
                f"hive_types = {{'{PARTITION_COLUMN}': 'date'}}, union_by_name = true)",
            },
            "loaded_at_field": "landed_at",
            "freshness": {"warn_after": {"count": 1, "period": "day"}},
        },
        "tables": [_dbt_table(topic) for topic in TOPICS],
    }
    body = yaml.safe_dump({"version": 2, "sources": [source]}, sort_keys=False, width=110)
    return (
        "# Generated from walkout/contracts/ by `walkout warehouse sources` (walkout/lake.py): edit\n"
        "# those, then run it again; a test fails while this file differs from what it writes.\n" + body
    )


def write_dbt_sources(path: Path = DBT_SOURCES_PATH) -> Path:
    """Write :func:`dbt_sources` to the dbt project."""
    path.write_text(dbt_sources())
    return path
