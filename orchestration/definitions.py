"""The Dagster definitions of walkout's batch side: each area's ``defs`` merged, resources injected.

``dagster dev -m orchestration.definitions`` (what ``walkout ui`` starts) loads :func:`defs` with the
settings of the environment; :func:`build_definitions` builds them for explicit settings.
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs import automation, forecasting, lake, recsys, review, warehouse
from orchestration.resources import WarehouseResource
from walkout.settings import Settings, get_settings


def build_definitions(settings: Settings) -> dg.Definitions:
    """Every asset, check, job, sensor and schedule, with resources for ``settings.data_dir``."""
    resources = dg.Definitions(
        resources={
            "warehouse": WarehouseResource(
                data_dir=str(settings.data_dir.resolve()),
                review_target=settings.review_wrong_unflagged_target,
            ),
            "dbt": DbtCliResource(project_dir=warehouse.dbt_project, dbt_executable=warehouse.DBT_EXECUTABLE),
        }
    )
    return dg.Definitions.merge(
        lake.defs, warehouse.defs, recsys.defs, review.defs, forecasting.defs, automation.defs, resources
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(get_settings())
