"""What a learned recommender must beat, and what serves shoppers it knows nothing about.

* global popularity: the chain's bestsellers for everyone;
* personal purchase frequency: what this shopper bought most, then the bestsellers — in grocery a
  strong baseline, since people re-buy the same things;
* segment popularity: the bestsellers of a demographic segment (see :func:`segment_of`), the cold
  start for a shopper who is new or not recognised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from recsys.interactions import UserItems
from recsys.models import Scores


def segment_of(age_band: str, gender: str) -> str:
    """A demographic segment's id, e.g. ``19-29:female`` or ``60plus:male`` (an event identifier)."""
    return f"{age_band}:{gender}".replace("+", "plus")


def units_per_product(history: UserItems, rows: npt.NDArray[np.int64] | None = None) -> Scores:
    """Units bought per product, by every shopper or by the shoppers at ``rows``."""
    bought = history.bought if rows is None else history.bought[rows]
    return np.asarray(bought.sum(axis=0), dtype=np.float32).ravel()


@dataclass(frozen=True)
class Popularity:
    units: Scores

    @classmethod
    def fit(cls, history: UserItems) -> Popularity:
        return cls(units_per_product(history))

    def scores(self, rows: npt.NDArray[np.int64], history: UserItems) -> Scores:
        return np.broadcast_to(self.units, (len(rows), len(self.units))).copy()


@dataclass(frozen=True)
class PersonalFrequency:
    """Units the shopper bought per product; popularity (scaled below one unit) breaks ties."""

    popularity: Popularity

    @classmethod
    def fit(cls, history: UserItems) -> PersonalFrequency:
        return cls(Popularity.fit(history))

    def scores(self, rows: npt.NDArray[np.int64], history: UserItems) -> Scores:
        units = self.popularity.units
        tie_break = units / (units.max() + 1.0) if len(units) else units
        own: Scores = history.bought[rows].toarray()
        return own + tie_break


def segment_popularity(history: UserItems, demographics: pl.DataFrame) -> dict[str, Scores]:
    """Units bought per product by each segment (``demographics``: shopper_id, age_band, gender)."""
    rows = pl.DataFrame({"shopper_id": list(history.shoppers), "row": np.arange(len(history.shoppers))})
    members = demographics.join(rows, on="shopper_id").group_by("age_band", "gender").agg(pl.col("row"))
    return {
        segment_of(age_band, gender): units_per_product(history, np.asarray(member_rows, dtype=np.int64))
        for age_band, gender, member_rows in members.iter_rows()
    }
