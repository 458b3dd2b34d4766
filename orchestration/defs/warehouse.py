"""The warehouse: the dbt project's models, seeds and tests as Dagster assets and checks, then publishing.

Asset keys and groups follow the dbt layers (``staging/stg_purchases``, ``marts/zone_heatmap``); dbt
sources map to the lake and catalog assets (``lake/gate_scans``, ``catalog/products``). One ``dbt
build`` per run: a failing error-severity test skips what depends on its model and fails the run,
so nothing is published. The daily models rebuild only the lake dates of the run's partitions.
"""

import shutil
import sys
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.defs.lake import IO_RETRY
from orchestration.publish import publish_marts
from orchestration.resources import WarehouseResource, environment

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
    """Keys ``<layer>/<model>`` and groups named after the dbt layer folders (seeds in ``seeds``)."""

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
    run_dir = warehouse.dbt_run_dir(context.run.run_id)
    with warehouse.writing():
        # dagster-dbt seeds the run's dbt state from $DBT_TARGET_PATH: this data directory's last
        # parse, whose profile (the DuckDB path) matches, so dbt need not parse the project again.
        state = {"DBT_TARGET_PATH": str(warehouse.dbt_state_dir)}
        with environment(warehouse.dbt_environment(lake_dates) | state):
            invocation = dbt.cli(["build"], context=context, target_path=run_dir)
        yield from invocation.stream()
    warehouse.dbt_state_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(run_dir / PARTIAL_PARSE, warehouse.dbt_state_dir / PARTIAL_PARSE)


MART_KEYS = [key for key in warehouse_models.keys if key.path[0] == "marts"]


@dg.asset(
    key=["published", "warehouse"],
    group_name="published",
    kinds={"duckdb"},
    deps=MART_KEYS,
    retry_policy=IO_RETRY,
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(days=1)),
    description="Read-only copy of the marts for dashboards and the ad API, swapped in after each build.",
)
def published_warehouse(warehouse: WarehouseResource) -> dg.MaterializeResult[None]:
    with warehouse.writing():
        rows = publish_marts(warehouse.warehouse_path, warehouse.published_path)
    return dg.MaterializeResult(
        metadata={
            "path": str(warehouse.published_path),
            "marts": len(rows),
            "rows": dg.MetadataValue.json(rows),
        }
    )


defs = dg.Definitions(assets=[warehouse_models, published_warehouse])
