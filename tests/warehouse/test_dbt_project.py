"""The dbt project's declarations against the code they mirror: contracts, vocabulary, documentation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from walkout.catalog import Category, ZoneKind
from walkout.contracts import (
    AdjustmentKind,
    AlertKind,
    AlertSeverity,
    DisputeKind,
    GateDirection,
    ScanOutcome,
    ScanRejection,
    ShelfAction,
    VisitStatus,
)
from walkout.lake import DBT_SOURCES_PATH, dbt_sources
from walkout.vocabulary import AgeBand, Gender

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
MODELS = PROJECT / "models"


def properties(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


def model_properties(name: str) -> dict[str, Any]:
    (path,) = MODELS.rglob(f"{name}.yml")
    (model,) = properties(path)["models"]
    return dict(model)


def accepted_values(model: str, column: str) -> set[str]:
    (spec,) = [c for c in model_properties(model)["columns"] if c["name"] == column]
    (test,) = [
        t["accepted_values"] for t in spec["data_tests"] if isinstance(t, dict) and "accepted_values" in t
    ]
    return {str(value) for value in test["arguments"]["values"]}


def test_the_lake_sources_are_generated_from_the_contracts() -> None:
    assert DBT_SOURCES_PATH.read_text() == dbt_sources(), "run `walkout warehouse sources` and commit"


@pytest.mark.parametrize(
    ("model", "column", "vocabulary"),
    [
        ("stg_products", "category", Category),
        ("stg_zones", "zone_kind", ZoneKind),
        ("stg_members", "age_band", AgeBand),
        ("stg_members", "gender", Gender),
        ("stg_camera_tracks", "age_band", AgeBand),
        ("stg_gate_scans", "direction", GateDirection),
        ("stg_gate_scans", "outcome", ScanOutcome),
        ("stg_gate_scans", "rejection", ScanRejection),
        ("stg_shelf_events", "action", ShelfAction),
        ("stg_visit_events", "status", VisitStatus),
        ("stg_receipt_adjustments", "kind", AdjustmentKind),
        ("stg_receipt_disputes", "kind", DisputeKind),
        ("stg_alerts", "kind", AlertKind),
        ("stg_alerts", "severity", AlertSeverity),
        ("fct_alerts_daily", "kind", AlertKind),
    ],
)
def test_accepted_values_follow_the_vocabulary(model: str, column: str, vocabulary: type[Any]) -> None:
    assert accepted_values(model, column) == {member.value for member in vocabulary}


def test_every_model_has_a_described_yml_beside_it() -> None:
    models = sorted(MODELS.rglob("*.sql"))
    assert len(models) > 30
    for sql in models:
        model = model_properties(sql.stem)
        assert model["description"], sql.stem
        assert all(column.get("description") for column in model["columns"]), sql.stem
