"""The calibration of line confidence: refitted from the operators' decisions and the audits after every
warehouse build.

It sits with the published warehouse (group ``published``): the checkout loads its newest version without
a restart. When the decisions found too few wrong lines to learn from, nothing is written and the
checkout keeps the calibration it has (or none: its own ``review_below``).
"""

import dagster as dg

from orchestration.defs.warehouse import published_warehouse
from orchestration.resources import WarehouseResource
from review.calibration import fit_from_reviews
from walkout.calibration import CalibrationError, write_calibration
from walkout.versions import new_version


@dg.asset(
    key=["published", "line_calibration"],
    group_name="published",
    kinds={"python"},
    deps=[published_warehouse],
    description="Line confidence calibrated (isotonic) on decided review cases and audited visits, with "
    "the review threshold "
    "that keeps wrong, unflagged receipts under the target at the least review; a new version for the "
    "checkout.",
)
def line_calibration(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult[None]:
    paths = warehouse.paths
    try:
        calibration = fit_from_reviews(
            paths.published_warehouse_file,
            paths.published_review_file,
            paths.audits_dir,
            warehouse.review_target,
            new_version(context.run.run_id),
        )
    except CalibrationError as refused:
        context.log.warning(f"no new calibration: {refused}")
        return dg.MaterializeResult(metadata={"skipped": str(refused)})
    written = write_calibration(paths.calibration_dir, calibration)
    return dg.MaterializeResult(
        metadata={
            "version": calibration.version,
            "path": str(written),
            "threshold": calibration.threshold,
            "target": calibration.target,
            "fitted_on": dg.MetadataValue.json(calibration.fitted_on),
        }
    )


defs = dg.Definitions(assets=[line_calibration])
