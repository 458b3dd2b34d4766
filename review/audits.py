"""Audited charges: what visits truly took, known apart from the sensors, which the calibration learns
from beside the operators' decisions.

A store audits a sample of visits (staff count the basket at the exit); the digital twin audits every
visit from its ground truth. Either way an audit is one Parquet file per store-day under the data
directory's ``audits_dir`` (``store=<id>/date=<day>.parquet``), one row per visit and product it took,
and one row with no product for a visit audited as taking nothing (so a receipt charged to it is known
wrong). :func:`review.calibration.review_labels` labels every line of an audited visit's receipt right or
wrong against the audit, and the receipt wrong when it charges anything else: labels for the lines
nobody flagged, too, which decisions alone never give (they presume those right).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import polars as pl

from walkout.calibration import CalibrationError
from walkout.files import write_atomically

AUDIT_SCHEMA = pl.Schema({"visit_id": pl.String, "product_id": pl.String, "quantity": pl.Int32})


def audit_file(audits_dir: Path, store_id: str, day: date) -> Path:
    return audits_dir / f"store={store_id}" / f"date={day.isoformat()}.parquet"


def write_audit(audits_dir: Path, store_id: str, day: date, taken: Mapping[str, Mapping[str, int]]) -> Path:
    """Record what each audited visit of a store-day took (visit -> product -> units; an empty mapping:
    nothing), replacing that store-day's audit."""
    rows: list[tuple[str, str | None, int]] = []
    for visit_id, products in sorted(taken.items()):
        lines = [(visit_id, product_id, units) for product_id, units in sorted(products.items()) if units > 0]
        rows += lines or [(visit_id, None, 0)]
    frame = pl.DataFrame(rows, schema=AUDIT_SCHEMA, orient="row")
    target = audit_file(audits_dir, store_id, day)
    write_atomically(target, frame.write_parquet)
    return target


def read_audits(audits_dir: Path) -> dict[str, dict[str, int]]:
    """Every audited visit and what it took (product -> units; empty: nothing); no folder, none."""
    files = sorted(audits_dir.glob("store=*/date=*.parquet"))
    if not files:
        return {}
    try:
        frame = pl.read_parquet(files, schema=AUDIT_SCHEMA, hive_partitioning=False)
    except (pl.exceptions.PolarsError, OSError) as unreadable:
        raise CalibrationError(f"the audits under {audits_dir} cannot be read: {unreadable}") from None
    taken: dict[str, dict[str, int]] = {}
    for visit_id, product_id, units in frame.iter_rows():
        products = taken.setdefault(visit_id, {})
        if product_id is not None and units > 0:
            products[product_id] = products.get(product_id, 0) + units
    return taken
