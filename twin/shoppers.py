"""Shoppers of the digital twin: members with demographics and stable tastes.

Tastes are latent so that recommendations have real structure to find: a category affinity that
depends on the age band and gender, product factors shared by everyone (a product's "kind") with a
personal factor vector, and a few habitual items each member re-buys often. Visit frequency,
preferred hours and how often a member brings others (one QR admits up to 4) are personal too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from walkout.catalog import Catalog, Member, Product
from walkout.vocabulary import AgeBand, Gender

TASTE_FACTORS = 8
CATEGORY_TILT: dict[AgeBand, dict[str, float]] = {
    AgeBand.MINOR: {
        "snacks": 1.2,
        "confectionery": 1.2,
        "instant_noodles": 0.9,
        "beverages": 0.6,
        "alcohol": -9.0,
        "tobacco": -9.0,
    },
    AgeBand.AGE_19_29: {
        "instant_noodles": 0.8,
        "alcohol": 0.6,
        "fresh_food": 0.6,
        "snacks": 0.4,
        "tobacco": 0.3,
    },
    AgeBand.AGE_30_39: {"fresh_food": 0.8, "beverages": 0.5, "alcohol": 0.4, "tobacco": 0.2},
    AgeBand.AGE_40_49: {"fresh_food": 0.5, "alcohol": 0.5, "household": 0.4, "tobacco": 0.4},
    AgeBand.AGE_50_59: {"dairy": 0.6, "household": 0.6, "bakery": 0.3, "tobacco": 0.4},
    AgeBand.AGE_60_PLUS: {"dairy": 0.8, "bakery": 0.6, "household": 0.7, "personal_care": 0.3},
}
GENDER_TILT: dict[Gender, dict[str, float]] = {
    Gender.FEMALE: {"dairy": 0.3, "bakery": 0.3, "personal_care": 0.5, "tobacco": -0.8},
    Gender.MALE: {"alcohol": 0.3, "tobacco": 0.4, "instant_noodles": 0.2},
}


@dataclass(frozen=True)
class Shopper:
    """A member as the twin sees them: who they are and what they tend to buy."""

    member: Member
    visits_per_week: float
    basket_mean: float
    group_share: float
    product_logits: npt.NDArray[np.float64]
    habitual: tuple[int, ...]


@dataclass(frozen=True)
class ShopperBase:
    """Everyone of a catalog: product order, product factors and each member's shopper."""

    products: tuple[Product, ...]
    shoppers: dict[str, Shopper]


def _category_affinity(
    member: Member, categories: Sequence[str], rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    tilt = {**CATEGORY_TILT.get(member.age_band, {})}
    for category, extra in GENDER_TILT.get(member.gender, {}).items():
        tilt[category] = tilt.get(category, 0.0) + extra
    base = np.array([tilt.get(category, 0.0) for category in categories])
    return base + rng.normal(0.0, 0.6, size=len(categories))


def build_shoppers(catalog: Catalog, seed: int) -> ShopperBase:
    """Deterministic tastes for every member of the catalog."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    products = tuple(sorted(catalog.products.values(), key=lambda product: product.product_id))
    categories = sorted({product.category for product in products})
    category_index = np.array([categories.index(product.category) for product in products])
    product_factors = rng.normal(0.0, 1.0, size=(len(products), TASTE_FACTORS))
    popularity = rng.normal(0.0, 0.8, size=len(products))
    shoppers: dict[str, Shopper] = {}
    for member_id in sorted(catalog.members):
        member = catalog.members[member_id]
        affinity = _category_affinity(member, categories, rng)
        taste = rng.normal(0.0, 0.7, size=TASTE_FACTORS)
        logits = affinity[category_index] + product_factors @ taste + popularity
        habitual_count = int(rng.integers(2, 7))
        top = np.argsort(-logits)[:30]
        habitual = tuple(int(index) for index in rng.choice(top, size=habitual_count, replace=False))
        shoppers[member_id] = Shopper(
            member=member,
            visits_per_week=float(rng.lognormal(np.log(2.0), 0.7)),
            basket_mean=float(rng.uniform(1.0, 2.6)),
            group_share=float(rng.beta(1.2, 8.0)),
            product_logits=logits,
            habitual=habitual,
        )
    return ShopperBase(products=products, shoppers=shoppers)
