"""Resources of the batch side: where one data directory keeps its lake, catalog export and warehouse.

The dbt project reads the same places from the environment (``WALKOUT_DATA_DIR`` and friends, see
``dbt_project/dbt_project.yml``); :meth:`WarehouseResource.dbt_environment` is that environment for a
run, and :func:`environment` hands it to the dbt subprocess that dagster-dbt starts.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from walkout.settings import Settings


class WarehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]  # the resource is its own value
    """Paths of one walkout data directory (``Settings.data_dir``) as the batch side uses them."""

    data_dir: str

    @property
    def root(self) -> Path:
        return Path(self.data_dir).resolve()

    @property
    def lake_dir(self) -> Path:
        return Settings(data_dir=self.root).lake_dir

    @property
    def catalog_dir(self) -> Path:
        """The catalog tables exported for dbt (one Parquet file per table)."""
        return self.root / "catalog"

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file dbt writes; only a Dagster run opens it."""
        return self.root / "warehouse" / "walkout.duckdb"

    @property
    def published_path(self) -> Path:
        """The read-only copy of the marts that dashboards and the ad API open."""
        return Settings(data_dir=self.root).published_warehouse_path

    def dbt_run_dir(self, run_id: str) -> Path:
        """Where a run's dbt artifacts and logs go (beside the warehouse, not in the repository)."""
        return self.root / "warehouse" / "dbt-runs" / run_id

    @property
    def dbt_state_dir(self) -> Path:
        """dbt's parse of the project for this data directory, kept from run to run."""
        return self.root / "warehouse" / "dbt-state"

    def dbt_environment(self, lake_dates: tuple[date, date] | None) -> dict[str, str]:
        """The dbt project's environment; ``lake_dates`` (first, last) limit what the daily models rebuild."""
        environment = {
            "WALKOUT_DATA_DIR": str(self.root),
            "WALKOUT_WAREHOUSE_PATH": str(self.warehouse_path),
            "WALKOUT_DBT_START_DATE": "",
            "WALKOUT_DBT_END_DATE": "",
        }
        if lake_dates is not None:
            first, last = lake_dates
            environment["WALKOUT_DBT_START_DATE"] = first.isoformat()
            environment["WALKOUT_DBT_END_DATE"] = (last + timedelta(days=1)).isoformat()
        return environment

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the warehouse's writer lock: DuckDB allows one writer, so concurrent runs take turns."""
        self.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        with (self.warehouse_path.parent / ".writer.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration (a subprocess started inside inherits them)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
