"""Offline evaluation: quality floors on simulated history, and the metrics against implicit's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from implicit.evaluation import ranking_metrics_at_k

from recsys import RecsysError
from recsys.evaluate import SERVED_MODEL, Evaluation, Fold, evaluate_interactions, score_model, time_split
from recsys.interactions import UserItems
from recsys.models import AlsConfig, fit_als

NDCG = "ndcg@10"


@pytest.fixture(scope="module")
def evaluation(purchase_history: pl.DataFrame) -> Evaluation:
    return evaluate_interactions(purchase_history, k=10, test_days=7)


def ndcg(evaluation: Evaluation, model: str, items: str = "all") -> float:
    return evaluation.models[model][items][NDCG]  # type: ignore[index]


@pytest.mark.slow
def test_als_beats_popularity_by_a_wide_margin(evaluation: Evaluation) -> None:
    assert ndcg(evaluation, "als") >= 4 * ndcg(evaluation, "popularity")
    assert ndcg(evaluation, SERVED_MODEL) >= 4 * ndcg(evaluation, "popularity")


@pytest.mark.slow
def test_served_als_at_least_matches_personal_frequency(evaluation: Evaluation) -> None:
    assert ndcg(evaluation, SERVED_MODEL) >= ndcg(evaluation, "personal_frequency")
    assert evaluation.tuning.repurchase_weight > 0


@pytest.mark.slow
def test_served_als_beats_popularity_on_products_new_to_the_shopper(evaluation: Evaluation) -> None:
    assert ndcg(evaluation, SERVED_MODEL, "new_items") >= 1.3 * ndcg(evaluation, "popularity", "new_items")
    # Personal frequency has nothing new to offer: it falls back to popularity.
    assert (
        evaluation.models["personal_frequency"]["new_items"] == evaluation.models["popularity"]["new_items"]
    )


@pytest.mark.slow
def test_the_report_names_its_window_and_every_model(evaluation: Evaluation) -> None:
    report = evaluation.as_dict()
    assert set(report["models"]) == {
        "popularity",
        "personal_frequency",
        "als",
        SERVED_MODEL,
        "bpr",
        "bm25",
        "cosine",
    }
    assert report["window"]["test_from"] == "2026-10-05T00:00:00+00:00"
    assert report["window"]["validation_from"] == "2026-09-28T00:00:00+00:00"
    assert report["scored_users"]["all"] > report["scored_users"]["new_items"] > 300
    for item_sets in report["models"].values():
        for metrics in item_sets.values():
            assert set(metrics) == {"precision@10", "map@10", NDCG}
            assert all(0.0 <= value <= 1.0 for value in metrics.values())


def test_metrics_match_implicit_evaluation_on_new_items() -> None:
    rng = np.random.default_rng(3)
    train = sp.csr_matrix(sp.random(300, 60, density=0.1, dtype=np.float32, random_state=rng))
    everyone = sp.csr_matrix((np.ones(300), (np.arange(300), np.arange(300) % 60)), shape=(300, 60))
    train = (train + everyone).astype(np.float32).tocsr()  # every shopper has history
    train.data[:] = rng.integers(1, 5, size=train.nnz)
    test = sp.csr_matrix(sp.random(300, 60, density=0.05, dtype=np.float32, random_state=rng))
    test.data[:] = 1.0
    test = (test - test.multiply(train > 0)).tocsr()
    test.eliminate_zeros()
    history = UserItems(tuple(map(str, range(300))), tuple(map(str, range(60))), train, train)
    ours = fit_als(history, AlsConfig(factors=8, iterations=5))
    theirs = AlternatingLeastSquares(factors=8)
    theirs.user_factors, theirs.item_factors = ours.user_factors, ours.item_factors
    expected = ranking_metrics_at_k(theirs, train, test, K=5, show_progress=False)
    metrics = score_model(ours, Fold(history, test), "new_items", 5)
    assert metrics.hits / metrics.possible_hits == pytest.approx(expected["precision"])
    assert metrics.average_precision / metrics.shoppers == pytest.approx(expected["map"])
    assert metrics.ndcg_at_k == pytest.approx(expected["ndcg"])


def _log(days: int) -> pl.DataFrame:
    start = datetime(2026, 11, 1, 12, tzinfo=UTC)
    return pl.DataFrame(
        {
            "shopper_id": ["M1"] * days,
            "product_id": ["P1"] * days,
            "ts": [start + timedelta(days=day) for day in range(days)],
            "quantity": [1] * days,
            "weight": [1.0] * days,
        }
    )


def test_the_split_is_by_calendar_day_and_needs_history_before_validation() -> None:
    split = time_split(_log(15), test_days=7)
    assert split.test_from == datetime(2026, 11, 9, tzinfo=UTC)
    assert split.validation_from == datetime(2026, 11, 2, tzinfo=UTC)
    with pytest.raises(RecsysError, match=r"needs more than 14 days of history.*span 14"):
        time_split(_log(14), test_days=7)
    with pytest.raises(RecsysError, match="--test-days must be at least 1"):
        time_split(_log(14), test_days=0)


def test_k_must_be_positive() -> None:
    with pytest.raises(RecsysError, match="--k must be at least 1"):
        evaluate_interactions(_log(30), k=0)
