"""The warehouse: the dbt project's models, seeds and tests as Dagster assets and checks, then publishing.

Asset keys and groups follow the dbt layers (``staging/stg_purchases``, ``marts/zone_heatmap``); dbt
sources map to the lake and catalog assets (``lake/gate_scans``, ``catalog/products``). One ``dbt
build`` per run: a failing error-severity test skips what depends on its model and fails the run,
so nothing is published. The daily models rebuild only the lake dates of the run's partitions.

The published asset records the lake it was built from (``lake_versions``: each lake date's folder
version), so that a sensor without a cursor (a new UI on the instance a CLI build used) asks only for
the dates that changed since.
"""

import shutil
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.defs.lake import IO_RETRY, LAKE_DATES
from orchestration.publish import MARTS_SCHEMA, REVIEW_SCHEMA, publish_schema
from orchestration.resources import WarehouseResource, environment
from walkout.lake import folder_versions

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
DBT_SOURCES = ("models", "macros", "seeds", "tests", "dbt_project.yml")
PARTIAL_PARSE = "partial_parse.msgpack"
DBT_EXECUTABLE = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"
"""The dbt of this Python environment, found even when its bin folder is not on PATH."""

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _manifest_is_stale(project: DbtProject) -> bool:
    if not project.manifest_path.exists():
        return True
    built = project.manifest_path.stat().st_mtime
    paths = [project.project_dir / name for name in DBT_SOURCES]
    files = [p for path in paths for p in ([path] if path.is_file() else path.rglob("*"))]
    return any(file.stat().st_mtime > built for file in files)


def prepare_manifest(project: DbtProject = dbt_project) -> Path:
    """The project's manifest, parsed again (``dbt parse``) when missing or older than the project."""
    if _manifest_is_stale(project):
        dbt = DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE)
        dbt.cli(["parse", "--quiet"], target_path=project.target_path).wait()
    return project.manifest_path


class LayeredTranslator(DagsterDbtTranslator):
    """Keys ``<layer>/<model>`` and groups named after the dbt layer folders (seeds in ``seeds``).

    Every dbt test is an asset check on the model it tests, blocking when its severity is error (the
    project's default): what depends on a failed one does not materialize. A singular test that reads
    several models names the one it guards in its ``meta: dagster: ref:``.
    """

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey([self.get_group_name(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str:
        fqn: list[str] = dbt_resource_props["fqn"]
        return fqn[1] if dbt_resource_props["resource_type"] == "model" else "seeds"


def lake_dates_of_run(context: dg.AssetExecutionContext) -> tuple[date, date] | None:
    """First and last lake date of the run's partitions; None when the run has none (every date)."""
    if context.has_partition_key_range:
        keys = context.partition_key_range
        return date.fromisoformat(keys.start), date.fromisoformat(keys.end)
    if context.has_partition_key:
        day = date.fromisoformat(context.partition_key)
        return day, day
    return None


@dbt_assets(
    manifest=prepare_manifest(),
    project=dbt_project,
    dagster_dbt_translator=LayeredTranslator(),
    name="warehouse_models",
)
def warehouse_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """``dbt build`` of the selected models, seeds and tests, one writer at a time."""
    lake_dates = lake_dates_of_run(context)
    context.log.info(f"daily models rebuild lake dates {'..'.join(map(str, lake_dates or ['all']))}")
    paths = warehouse.paths
    run_dir = paths.dbt_run_dir(context.run.run_id)
    with warehouse.writing():
        # dagster-dbt seeds the run's dbt state from $DBT_TARGET_PATH: this data directory's last
        # parse, whose profile (the DuckDB path) matches, so dbt need not parse the project again.
        state = {"DBT_TARGET_PATH": str(paths.dbt_state_dir)}
        with environment(warehouse.dbt_environment(lake_dates) | state):
            invocation = dbt.cli(["build"], context=context, target_path=run_dir)
        yield from invocation.stream()
    paths.dbt_state_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(run_dir / PARTIAL_PARSE, paths.dbt_state_dir / PARTIAL_PARSE)


MART_KEYS = [key for key in warehouse_models.keys if key.path[0] == MARTS_SCHEMA]
REVIEW_KEYS = [key for key in warehouse_models.keys if key.path[0] == REVIEW_SCHEMA]
PUBLISHED_KEY = dg.AssetKey(["published", "warehouse"])
LAKE_VERSIONS = "lake_versions"
"""The published asset's metadata: per lake date, the folder version (ns) the marts were built from."""
CLOCK_MARGIN = timedelta(milliseconds=20)
"""A folder changed this close before the run started may have changed after it: file times trail the
clock by up to a kernel tick (at most 10 ms)."""


def built_lake_versions(instance: dg.DagsterInstance) -> dict[str, int]:
    """The lake the published marts were last built from: folder version per lake date (none if never)."""
    event = instance.get_latest_materialization_event(PUBLISHED_KEY)
    materialization = event.asset_materialization if event is not None else None
    if materialization is None or LAKE_VERSIONS not in materialization.metadata:
        return {}
    versions = materialization.metadata[LAKE_VERSIONS].value
    return {str(day): int(version) for day, version in versions.items()} if isinstance(versions, dict) else {}


def lake_versions_after_run(context: dg.AssetExecutionContext, lake_dir: Path) -> dict[str, int]:
    """What the marts are built from once this run succeeds: its lake dates at the versions they had
    when it started (a folder changed since is left out, to be built again), the others as before."""
    record = context.instance.get_run_record_by_id(context.run.run_id)
    started = record.create_timestamp if record is not None else datetime.now(UTC)
    before_start = int((started - CLOCK_MARGIN).timestamp() * 1e9)
    lake_dates = lake_dates_of_run(context)

    def in_run(day: str) -> bool:
        return lake_dates is None or lake_dates[0] <= date.fromisoformat(day) <= lake_dates[1]

    versions = {
        day: version for day, version in built_lake_versions(context.instance).items() if not in_run(day)
    }
    for day, version in folder_versions(lake_dir).items():
        if LAKE_DATES.has_partition_key(day) and in_run(day) and version <= before_start:
            versions[day] = version
    return dict(sorted(versions.items()))


@dg.asset(
    key=PUBLISHED_KEY,
    group_name="published",
    kinds={"duckdb"},
    deps=[*MART_KEYS, *REVIEW_KEYS],
    retry_policy=IO_RETRY,
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(days=1)),
    description=(
        "Read-only copies swapped in after each build: the marts for dashboards and the ad API, and apart "
        "from them the review tables only the review console opens."
    ),
)
def published_warehouse(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult[None]:
    paths = warehouse.paths
    with warehouse.writing():
        rows = publish_schema(paths.warehouse_file, paths.published_warehouse_file)
        review_rows = publish_schema(paths.warehouse_file, paths.published_review_file, REVIEW_SCHEMA)
    return dg.MaterializeResult(
        metadata={
            "path": str(paths.published_warehouse_file),
            "marts": len(rows),
            "rows": dg.MetadataValue.json(rows),
            "review_path": str(paths.published_review_file),
            "review_rows": dg.MetadataValue.json(review_rows),
            LAKE_VERSIONS: dg.MetadataValue.json(lake_versions_after_run(context, paths.lake_dir)),
        }
    )


defs = dg.Definitions(assets=[warehouse_models, published_warehouse])
