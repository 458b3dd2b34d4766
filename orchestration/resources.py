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

from walkout.data_dir import DataDir


class WarehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]  # the resource is its own value
    """One walkout data directory (``Settings.data_dir``) as the batch side uses it."""

    data_dir: str
    review_target: float = 0.001  # share of visits with a wrong, unflagged receipt the calibration allows

    @property
    def paths(self) -> DataDir:
        """The data directory's places, absolute: dbt runs in its project folder and Dagster's run
        workers wherever they are started, and both must find the same files."""
        return DataDir(Path(self.data_dir)).resolved()

    def dbt_environment(self, lake_dates: tuple[date, date] | None) -> dict[str, str]:
        """The dbt project's environment; ``lake_dates`` (first, last) limit what the daily models rebuild."""
        environment = {
            "WALKOUT_DATA_DIR": str(self.paths.root),
            "WALKOUT_WAREHOUSE_PATH": str(self.paths.warehouse_file),
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
        lock_file = self.paths.warehouse_lock_file
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        with lock_file.open("w") as lock:
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
