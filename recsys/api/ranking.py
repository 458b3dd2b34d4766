"""What an audience would like: the model's scores of each member, merged for a group, with a reason.

Each member the model knows contributes their own scores; a viewer it does not know (a new member,
a companion, a tracked person of no visit) contributes their demographic segment's bestsellers
(cold start), or the chain's when even the segment is unknown. Scores are standardized per viewer
before they are added, so one heavy buyer does not drown out the rest of the group.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from recsys.api.context import Audience, Viewer
from recsys.artifact import ServedModel
from recsys.models import Scores
from walkout.vocabulary import AgeBand, Gender

NOBODY = Viewer(None, AgeBand.UNKNOWN, Gender.UNKNOWN)
"""Whom an empty screen shows to: the chain's bestsellers."""


class Reason(StrEnum):
    """Why a product is shown (the ``reason`` of the response and of the impression event)."""

    REPURCHASE = "repurchase"  # the shopper in front of the screen buys it
    FOR_YOU = "for_you"  # new to the shopper, liked by shoppers like them (ALS)
    GROUP = "group"  # merged for several people in front of the screen
    SEGMENT = "segment_popular"  # cold start: bestseller of the viewers' demographic segment
    POPULAR = "popular"  # nobody known: the chain's bestsellers


@dataclass(frozen=True)
class Ranked:
    """Every product of the model, best first, with the reason of each."""

    product_ids: tuple[str, ...]
    reasons: tuple[Reason, ...]
    segment: str | None


def _standardized(scores: Scores) -> Scores:
    spread = float(scores.std())
    centred: Scores = scores - scores.mean()
    return centred / spread if spread > 0 else centred


def viewer_scores(model: ServedModel, viewer: Viewer) -> Scores:
    if viewer.shopper_id is not None and model.knows(viewer.shopper_id):
        return model.shopper_scores(viewer.shopper_id)
    return model.segment_scores(viewer.segment)


def _reasons(
    model: ServedModel, audience: Audience, order: np.ndarray, segment: str | None
) -> tuple[Reason, ...]:
    known = [s for s in audience.shopper_ids if model.knows(s)]
    if not known:
        return (Reason.SEGMENT if segment else Reason.POPULAR,) * len(order)
    if len(audience.viewers) > 1:
        return (Reason.GROUP,) * len(order)
    bought = model.bought_before(known[0])[order]
    return tuple(Reason.REPURCHASE if was_bought else Reason.FOR_YOU for was_bought in bought)


def rank_for(model: ServedModel, audience: Audience) -> Ranked:
    """The model's products for this audience, best first."""
    viewers = audience.viewers or (NOBODY,)
    total = np.sum([_standardized(viewer_scores(model, viewer)) for viewer in viewers], axis=0)
    order = np.argsort(-total, kind="stable")
    segment = next((v.segment for v in viewers if v.segment), None)
    products = model.history.products
    return Ranked(tuple(products[i] for i in order), _reasons(model, audience, order, segment), segment)
