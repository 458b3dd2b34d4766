"""Train the served model from the published warehouse and write it as a new artifact version.

1. Evaluate and tune on ``marts.fct_purchase_lines`` (each purchase has its time, so the time split of
   :mod:`recsys.evaluate` applies). With too little history for a split, the defaults below (tuned on
   four weeks of the digital twin) are used and the manifest says why nothing was measured.
2. Learn the served ALS from ``marts.interactions``: purchases, put-backs and dwell, weighted by the
   dbt project, over the whole window.
3. Keep popularity overall and per demographic segment (``marts.dim_shoppers``) for cold starts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from recsys import RecsysError
from recsys.artifact import ServedModel, write_model
from recsys.baselines import segment_popularity, units_per_product
from recsys.evaluate import SERVED_MODEL, Evaluation, evaluate_interactions
from recsys.interactions import published_demographics, published_pairs, published_purchases, user_items
from recsys.models import AlsConfig, fit_als
from walkout.versions import new_version

DEFAULT_ALS = AlsConfig(factors=16, regularization=0.05, alpha=10.0, confidence="linear")
DEFAULT_REPURCHASE_WEIGHT = 1.0


def _window(purchases: pl.DataFrame, pairs: pl.DataFrame) -> dict[str, Any]:
    """What the model learned from: sources, row counts, first and last interaction."""
    times = [
        stamp
        for frame in (purchases, pairs)
        for stamp in (frame["ts"].min(), frame["ts"].max())
        if isinstance(stamp, datetime)
    ]
    return {
        "source": "marts.interactions (time split on marts.fct_purchase_lines)",
        "first_ts": min(times).isoformat() if times else None,
        "last_ts": max(times).isoformat() if times else None,
        "purchase_lines": purchases.height,
        "pairs": pairs.height,
    }


def _evaluate(purchases: pl.DataFrame, k: int, test_days: int) -> tuple[Evaluation | None, str | None]:
    if purchases.is_empty():
        return None, "no purchases to evaluate on"
    try:
        return evaluate_interactions(purchases, k, test_days), None
    except RecsysError as error:
        return None, str(error)


def train_from_warehouse(published: Path, artifacts: Path, k: int = 10, test_days: int = 7) -> ServedModel:
    """Evaluate, learn and write a new model version from the published marts; returns what was written."""
    purchases = published_purchases(published)
    pairs = published_pairs(published)
    if pairs.is_empty():
        raise RecsysError(f"{published}: marts.interactions is empty; land and build some purchases first")
    evaluation, skipped = _evaluate(purchases, k, test_days)
    config = evaluation.tuning.served_als if evaluation else DEFAULT_ALS
    weight = evaluation.tuning.repurchase_weight if evaluation else DEFAULT_REPURCHASE_WEIGHT
    history = user_items(pairs, sorted(pairs["shopper_id"].unique()), sorted(pairs["product_id"].unique()))
    manifest = {
        "model": SERVED_MODEL,
        "created_at": datetime.now(UTC).isoformat(),
        "hyperparameters": {"als": config.__dict__, "repurchase_weight": weight},
        "evaluation": evaluation.as_dict() if evaluation else None,
        "evaluation_skipped": skipped,
        "training": _window(purchases, pairs) | {"shoppers": len(history.shoppers)},
    }
    model = ServedModel(
        version=new_version(),
        manifest=manifest,
        factors=fit_als(history, config).with_repurchase(weight),
        history=history,
        popularity=units_per_product(history),
        segments=segment_popularity(history, published_demographics(published)),
    )
    write_model(artifacts, model)
    return model
