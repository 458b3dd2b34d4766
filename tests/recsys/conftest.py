"""Fixtures of the recsys tests: weeks of simulated shopper history, made once per session."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from ingestion.simulator.run import SimulationPlan, simulate_history
from recsys.interactions import check_interactions
from walkout.catalog import load_catalog

HISTORY_PLAN = SimulationPlan(("S002",), date(2026, 9, 14), 28, seed=7)
"""Four weeks of the smallest store: enough for a week of validation and a week of test."""


@pytest.fixture(scope="session")
def purchase_history() -> pl.DataFrame:
    """Every purchase line of the plan as an interaction log (the twin's ground truth, no sensors)."""
    lines = [
        truth.receipts.join(truth.visits.select("visit_id", "shopper_id", "exited_at"), on="visit_id")
        for truth in simulate_history(load_catalog(), HISTORY_PLAN)
    ]
    log = pl.concat(lines).select("shopper_id", "product_id", pl.col("exited_at").alias("ts"), "quantity")
    return check_interactions(log, "simulated history")
