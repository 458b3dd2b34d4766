"""Offline evaluation on a time split: learn from the past, score the purchases of the days that follow.

The protocol, the same for every model:

* the last ``test_days`` days are the test period and the ``test_days`` before them validation;
  hyperparameters are tuned by learning from what came before validation and scoring validation,
  then every model learns from everything before the test period and is scored on it;
* a shopper is scored when they bought something in the period and have history before it (a shopper
  without history gets segment popularity when served, which this does not measure);
* ``all``: any product may be recommended and every product bought in the period is relevant;
  ``new_items``: products the shopper interacted with before are not recommended, and only products
  new to them are relevant (an ad for what someone buys every day is worth little);
* precision@k, MAP@k and NDCG@k as ``implicit.evaluation.ranking_metrics_at_k`` defines them. That
  function cannot score the baselines, and always drops a shopper's past products, so ``all`` needs
  our own; a test checks the two agree where both apply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl
import scipy.sparse as sp

from recsys import RecsysError
from recsys.baselines import PersonalFrequency, Popularity
from recsys.interactions import UserItems, user_items
from recsys.models import (
    AlsConfig,
    BprConfig,
    FactorModel,
    ItemItemConfig,
    Recommender,
    Scores,
    fit_als,
    fit_bpr,
    fit_item_item,
)

ItemSet = Literal["all", "new_items"]
ITEM_SETS: tuple[ItemSet, ...] = ("all", "new_items")
SERVED_MODEL = "als_repurchase"
BATCH_SHOPPERS = 4096

ALS_SEARCH: Sequence[Sequence[Mapping[str, Any]]] = (
    [{"factors": f} for f in (16, 32, 64, 128)],
    [{"regularization": r} for r in (0.01, 0.05, 0.5)],
    [{"confidence": c, "alpha": a} for c in ("linear", "log") for a in (1.0, 10.0)],
)
"""Coordinate search of ALS: each axis in turn, keeping the best value before the next."""
REPURCHASE_WEIGHTS = (0.0, 0.25, 1.0, 4.0)
BPR_SEARCH: Sequence[Sequence[Mapping[str, Any]]] = (
    [{"factors": f} for f in (32, 64, 128)],
    [{"learning_rate": r} for r in (0.01, 0.05, 0.1)],
)
ITEM_ITEM_WEIGHTINGS: tuple[Literal["bm25", "cosine"], ...] = ("bm25", "cosine")
NEIGHBOURS_SEARCH: Sequence[Sequence[Mapping[str, Any]]] = ([{"neighbours": n} for n in (20, 50, 200)],)


@dataclass(frozen=True)
class TimeSplit:
    """Day boundaries (UTC midnight) of the validation and test periods within the log's window."""

    first: datetime
    validation_from: datetime
    test_from: datetime
    last: datetime

    def as_dict(self) -> dict[str, str]:
        return {name: value.isoformat() for name, value in asdict(self).items()}


@dataclass(frozen=True)
class Fold:
    """What models learn from, and the purchases of the period that follows."""

    history: UserItems
    bought: sp.csr_matrix

    def scored(self, item_set: ItemSet) -> tuple[npt.NDArray[np.int64], sp.csr_matrix]:
        """Rows of the shoppers scored under ``item_set`` and their relevant products (same rows)."""
        relevant = self.bought
        if item_set == "new_items":
            relevant = relevant - relevant.multiply(self.history.confidence > 0)
            relevant.eliminate_zeros()
        has_history = self.history.confidence.getnnz(axis=1) > 0
        rows = np.flatnonzero((relevant.getnnz(axis=1) > 0) & has_history).astype(np.int64)
        return rows, relevant.tocsr()[rows]


@dataclass
class Metrics:
    """Sums over scored shoppers, turned into implicit's precision, MAP and NDCG at k."""

    k: int
    shoppers: int = 0
    hits: float = 0.0
    possible_hits: float = 0.0
    average_precision: float = 0.0
    ndcg: float = 0.0

    def add(self, top: npt.NDArray[np.int64], relevant: sp.csr_matrix) -> None:
        """Score one batch: ``top`` (shoppers x k product columns) against ``relevant`` (same shoppers)."""
        hits = np.take_along_axis(relevant.toarray() > 0, top, axis=1).astype(np.float64)
        wanted = np.minimum(self.k, relevant.getnnz(axis=1))
        discounts = 1.0 / np.log2(np.arange(2, self.k + 2))
        ranks = np.arange(1, self.k + 1)
        self.shoppers += len(top)
        self.hits += hits.sum()
        self.possible_hits += wanted.sum()
        self.average_precision += ((np.cumsum(hits, axis=1) / ranks * hits).sum(axis=1) / wanted).sum()
        self.ndcg += ((hits * discounts).sum(axis=1) / np.cumsum(discounts)[wanted - 1]).sum()

    def as_dict(self) -> dict[str, float]:
        shoppers = max(self.shoppers, 1)
        return {
            f"precision@{self.k}": round(float(self.hits / max(self.possible_hits, 1.0)), 4),
            f"map@{self.k}": round(float(self.average_precision / shoppers), 4),
            f"ndcg@{self.k}": round(float(self.ndcg / shoppers), 4),
        }

    @property
    def ndcg_at_k(self) -> float:
        return self.ndcg / max(self.shoppers, 1)


@dataclass(frozen=True)
class Tuning:
    """Hyperparameters chosen on the validation period, with their validation NDCG@k."""

    als: AlsConfig
    served_als: AlsConfig
    repurchase_weight: float
    bpr: BprConfig
    bm25: ItemItemConfig
    cosine: ItemItemConfig
    validation_ndcg: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "als": asdict(self.als),
            SERVED_MODEL: asdict(self.served_als) | {"repurchase_weight": self.repurchase_weight},
            "bpr": asdict(self.bpr),
            "bm25": asdict(self.bm25),
            "cosine": asdict(self.cosine),
            "validation_ndcg": {name: round(float(value), 4) for name, value in self.validation_ndcg.items()},
        }


@dataclass(frozen=True)
class Evaluation:
    """Every model's test metrics on both item sets, and how the split and tuning went."""

    k: int
    split: TimeSplit
    shoppers: int
    products: int
    interactions: int
    scored_shoppers: dict[str, int]
    models: dict[str, dict[ItemSet, dict[str, float]]]
    tuning: Tuning

    def as_dict(self) -> dict[str, Any]:
        return {
            "users": self.shoppers,
            "items": self.products,
            "interactions": self.interactions,
            "k": self.k,
            "window": self.split.as_dict(),
            "scored_users": self.scored_shoppers,
            "served": SERVED_MODEL,
            "models": self.models,
            "tuning": self.tuning.as_dict(),
        }


def time_split(log: pl.DataFrame, test_days: int) -> TimeSplit:
    """Test = the last ``test_days`` calendar days (UTC), validation = the ``test_days`` before."""
    if test_days < 1:
        raise RecsysError(f"--test-days must be at least 1, got {test_days}")
    first, last = log["ts"].min(), log["ts"].max()
    assert isinstance(first, datetime)
    assert isinstance(last, datetime)
    test_from = datetime.combine(last.date(), time(), last.tzinfo) - timedelta(days=test_days - 1)
    validation_from = test_from - timedelta(days=test_days)
    if first >= validation_from:
        days = (last.date() - first.date()).days + 1
        raise RecsysError(
            f"a time split with {test_days} test days needs more than {2 * test_days} days of history "
            f"(validation, test, and some before them); the interactions span {days} "
            f"({first.date()}..{last.date()}): pass a smaller --test-days or more history"
        )
    return TimeSplit(first, validation_from, test_from, last)


def make_fold(
    log: pl.DataFrame, shoppers: Sequence[str], products: Sequence[str], start: datetime, end: datetime
) -> Fold:
    """History before ``start``; products bought in ``[start, end)``."""
    history = user_items(log.filter(pl.col("ts") < start), shoppers, products)
    period = log.filter((pl.col("ts") >= start) & (pl.col("ts") < end) & (pl.col("quantity") > 0))
    bought = user_items(period, shoppers, products).bought
    return Fold(history, (bought > 0).astype(np.float32).tocsr())


def top_k(scores: Scores, k: int) -> npt.NDArray[np.int64]:
    """Columns of the ``k`` best scores per row, best first (ties: lower column first)."""
    k = min(k, scores.shape[1])
    candidates = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.lexsort((candidates, -np.take_along_axis(scores, candidates, axis=1)), axis=1)
    return np.take_along_axis(candidates, order, axis=1).astype(np.int64)


def _batches(
    rows: npt.NDArray[np.int64], relevant: sp.csr_matrix
) -> Iterator[tuple[npt.NDArray[np.int64], sp.csr_matrix]]:
    for start in range(0, len(rows), BATCH_SHOPPERS):
        yield rows[start : start + BATCH_SHOPPERS], relevant[start : start + BATCH_SHOPPERS]


def score_model(model: Recommender, fold: Fold, item_set: ItemSet, k: int) -> Metrics:
    """Metrics at ``k`` of one model on one fold under ``item_set``."""
    metrics = Metrics(k)
    rows, relevant = fold.scored(item_set)
    for batch, batch_relevant in _batches(rows, relevant):
        scores = model.scores(batch, fold.history)
        if item_set == "new_items":
            seen = fold.history.confidence[batch].tocoo()
            scores[seen.row, seen.col] = -np.inf
        metrics.add(top_k(scores, k), batch_relevant)
    return metrics


def coordinate_search(
    start: Any, axes: Sequence[Sequence[Mapping[str, Any]]], objective: Callable[[Any], float]
) -> tuple[Any, float]:
    """Tune a config dataclass one axis at a time (each axis a list of field updates); higher is better."""
    best, best_score = start, objective(start)
    for axis in axes:
        for update in axis:
            candidate = replace(best, **update)
            score = objective(candidate)
            if score > best_score:
                best, best_score = candidate, score
    return best, best_score


def tune(fold: Fold, k: int) -> Tuning:
    """Choose every model's hyperparameters by NDCG@k (all products) on the validation fold."""
    fitted: dict[AlsConfig, dict[float, float]] = {}

    def als_ndcg(config: AlsConfig) -> dict[float, float]:
        if config not in fitted:
            model = fit_als(fold.history, config)
            fitted[config] = {
                beta: score_model(model.with_repurchase(beta), fold, "all", k).ndcg_at_k
                for beta in REPURCHASE_WEIGHTS
            }
        return fitted[config]

    als, als_score = coordinate_search(AlsConfig(), ALS_SEARCH, lambda c: als_ndcg(c)[0.0])
    served, served_score = coordinate_search(AlsConfig(), ALS_SEARCH, lambda c: max(als_ndcg(c).values()))
    weights = als_ndcg(served)
    repurchase_weight = max(weights, key=lambda beta: weights[beta])

    def validation_ndcg(fit: Callable[[UserItems], Recommender]) -> float:
        return score_model(fit(fold.history), fold, "all", k).ndcg_at_k

    bpr, bpr_score = coordinate_search(
        BprConfig(), BPR_SEARCH, lambda c: validation_ndcg(lambda h: fit_bpr(h, c))
    )
    item_item = {
        weighting: coordinate_search(
            ItemItemConfig(weighting),
            NEIGHBOURS_SEARCH,
            lambda c: validation_ndcg(lambda h: fit_item_item(h, c)),
        )
        for weighting in ITEM_ITEM_WEIGHTINGS
    }
    return Tuning(
        als=als,
        served_als=served,
        repurchase_weight=repurchase_weight,
        bpr=bpr,
        bm25=item_item["bm25"][0],
        cosine=item_item["cosine"][0],
        validation_ndcg={
            "als": als_score,
            SERVED_MODEL: served_score,
            "bpr": bpr_score,
            "bm25": item_item["bm25"][1],
            "cosine": item_item["cosine"][1],
        },
    )


def fit_models(history: UserItems, tuning: Tuning) -> dict[str, Recommender]:
    """Every compared model, learned from ``history`` with the tuned hyperparameters."""
    served = fit_als(history, tuning.served_als).with_repurchase(tuning.repurchase_weight)
    als: FactorModel = served if tuning.als == tuning.served_als else fit_als(history, tuning.als)
    return {
        "popularity": Popularity.fit(history),
        "personal_frequency": PersonalFrequency.fit(history),
        "als": als.with_repurchase(0.0),
        SERVED_MODEL: served,
        "bpr": fit_bpr(history, tuning.bpr),
        "bm25": fit_item_item(history, tuning.bm25),
        "cosine": fit_item_item(history, tuning.cosine),
    }


def evaluate_interactions(log: pl.DataFrame, k: int = 10, test_days: int = 7) -> Evaluation:
    """Tune on validation, then score every model and baseline on the test period (see the module doc)."""
    if k < 1:
        raise RecsysError(f"--k must be at least 1, got {k}")
    split = time_split(log, test_days)
    shoppers = sorted(log["shopper_id"].unique())
    products = sorted(log["product_id"].unique())
    tuning = tune(make_fold(log, shoppers, products, split.validation_from, split.test_from), k)
    test = make_fold(log, shoppers, products, split.test_from, split.last + timedelta(days=1))
    models = {
        name: {item_set: score_model(model, test, item_set, k).as_dict() for item_set in ITEM_SETS}
        for name, model in fit_models(test.history, tuning).items()
    }
    return Evaluation(
        k=k,
        split=split,
        shoppers=len(shoppers),
        products=len(products),
        interactions=log.height,
        scored_shoppers={item_set: len(test.scored(item_set)[0]) for item_set in ITEM_SETS},
        models=models,
        tuning=tuning,
    )
