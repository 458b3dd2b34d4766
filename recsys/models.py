"""The learned recommenders, all scoring every product for a batch of shoppers from their history.

* implicit ALS (Hu, Koren, Volinsky 2008): confidence ``1 + alpha * w`` on the shopper x product
  weights ``w`` (linear, or ``log(1 + w)`` to damp heavy buyers); optionally plus a repurchase
  prior, ``beta * log(1 + units the shopper bought)``, which ALS lacks by design: it predicts
  whether a shopper likes a product, not how often they buy it;
* implicit BPR (pairwise ranking on the same matrix);
* item-item neighbours (BM25- or cosine-weighted co-occurrence).

Each fit limits BLAS to one thread, as implicit asks (see :mod:`recsys`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from implicit.nearest_neighbours import BM25Recommender, CosineRecommender, ItemItemRecommender
from implicit.utils import ParameterWarning
from threadpoolctl import threadpool_limits

from recsys.interactions import UserItems

Scores = npt.NDArray[np.float32]


class Recommender(Protocol):
    def scores(self, rows: npt.NDArray[np.int64], history: UserItems) -> Scores:
        """Scores of every product (columns) for the shoppers at ``rows`` of ``history``; higher is better."""
        ...


@dataclass(frozen=True)
class AlsConfig:
    factors: int = 32
    regularization: float = 0.05
    alpha: float = 10.0
    confidence: Literal["linear", "log"] = "linear"
    iterations: int = 15


@dataclass(frozen=True)
class BprConfig:
    factors: int = 64
    learning_rate: float = 0.05
    regularization: float = 0.01
    iterations: int = 100


@dataclass(frozen=True)
class ItemItemConfig:
    weighting: Literal["bm25", "cosine"] = "bm25"
    neighbours: int = 50


@dataclass(frozen=True)
class FactorModel:
    """Shopper and product factors; ``repurchase_weight`` > 0 adds the repurchase prior."""

    user_factors: npt.NDArray[np.float32]
    item_factors: npt.NDArray[np.float32]
    repurchase_weight: float = 0.0

    def scores(self, rows: npt.NDArray[np.int64], history: UserItems) -> Scores:
        scores: Scores = self.user_factors[rows] @ self.item_factors.T
        if self.repurchase_weight:
            scores += self.repurchase_weight * np.log1p(history.bought[rows].toarray())
        return scores

    def with_repurchase(self, weight: float) -> FactorModel:
        return replace(self, repurchase_weight=weight)


@dataclass(frozen=True)
class ItemItemModel:
    """Product-product similarities; a shopper's score is their weighted history times the similarities."""

    similarity: sp.csr_matrix

    def scores(self, rows: npt.NDArray[np.int64], history: UserItems) -> Scores:
        product: sp.csr_matrix = history.confidence[rows] @ self.similarity
        return product.toarray().astype(np.float32, copy=False)


def als_input(history: UserItems, config: AlsConfig) -> sp.csr_matrix:
    """The shopper x product weights ALS fits, after the confidence scaling of ``config``."""
    weights = history.confidence.astype(np.float32)
    if config.confidence == "log":
        weights = weights.copy()
        weights.data = np.log1p(weights.data)
    return weights


def fit_als(history: UserItems, config: AlsConfig, seed: int = 0) -> FactorModel:
    with threadpool_limits(limits=1, user_api="blas"):  # implicit checks BLAS when the model is made
        model = AlternatingLeastSquares(
            factors=config.factors,
            regularization=config.regularization,
            alpha=config.alpha,
            iterations=config.iterations,
            random_state=seed,
        )
        model.fit(als_input(history, config), show_progress=False)
    return FactorModel(model.user_factors, model.item_factors)


def fit_bpr(history: UserItems, config: BprConfig, seed: int = 0) -> FactorModel:
    with threadpool_limits(limits=1, user_api="blas"):
        model = BayesianPersonalizedRanking(
            factors=config.factors,
            learning_rate=config.learning_rate,
            regularization=config.regularization,
            iterations=config.iterations,
            random_state=seed,
        )
        model.fit(history.confidence, show_progress=False)
    return FactorModel(model.user_factors, model.item_factors)


def fit_item_item(history: UserItems, config: ItemItemConfig) -> ItemItemModel:
    model: ItemItemRecommender = (
        BM25Recommender(K=config.neighbours)
        if config.weighting == "bm25"
        else CosineRecommender(K=config.neighbours)
    )
    with warnings.catch_warnings():  # its BM25/cosine weighting hands its own fit a COO matrix, then warns
        warnings.simplefilter("ignore", ParameterWarning)
        model.fit(history.confidence, show_progress=False)
    return ItemItemModel(model.similarity.tocsr())
