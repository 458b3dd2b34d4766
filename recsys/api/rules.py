"""The business rules between a ranking and a screen, applied in order to each candidate product:

1. the store carries it and the published inventory does not show it sold out there;
2. nobody in front of the screen has it in their cart;
3. age-restricted products (alcohol, tobacco) only when everyone there is known to be an adult, and
   only in the hours the store may sell them;
4. not shown on this screen within the repeat window;
5. category diversity: at most :data:`MAX_PER_CATEGORY` products of a category per answer.

A rule is never relaxed to fill the screen: fewer ads are better than a wrong one.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from recsys import RecsysError
from recsys.api.context import Audience
from recsys.api.keys import Screen
from recsys.api.ranking import Ranked, Reason
from walkout.catalog import Catalog, Product

MAX_PER_CATEGORY = 1
REPEAT_WINDOW_S = 10 * 60.0


@dataclass(frozen=True)
class Choice:
    product: Product
    reason: Reason


@dataclass(frozen=True)
class Shelves:
    """What each store can sell: what it carries and the published inventory does not show sold out."""

    sold_out: frozenset[tuple[str, str]]
    """(store_id, product_id) whose latest published position has nothing on hand."""

    def in_stock(self, screen: Screen, product_id: str) -> bool:
        carried = bool(screen.store.plates_of(product_id))
        return carried and (screen.store.store_id, product_id) not in self.sold_out


def load_shelves(published: Path) -> Shelves:
    """Sold-out products per store from ``marts.inventory_position`` (latest date of each store)."""
    try:
        with duckdb.connect(str(published), read_only=True) as connection:
            rows = connection.sql(
                "select store_id, product_id from marts.inventory_position where is_out_of_stock "
                "qualify position_date = max(position_date) over (partition by store_id)"
            ).fetchall()
    except duckdb.Error as error:
        raise RecsysError(
            f"cannot read the inventory of the published warehouse {published}: {error}"
        ) from None
    return Shelves(frozenset((store_id, product_id) for store_id, product_id in rows))


@dataclass
class RepeatGuard:
    """What each screen showed recently (epoch seconds), so it does not show it again too soon."""

    window_s: float = REPEAT_WINDOW_S
    _shown: dict[str, deque[tuple[float, str]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def recent(self, screen_id: str, now: float) -> set[str]:
        with self._lock:
            shown = self._shown.setdefault(screen_id, deque())
            while shown and shown[0][0] < now - self.window_s:
                shown.popleft()
            return {product_id for _, product_id in shown}

    def remember(self, screen_id: str, product_ids: list[str], now: float) -> None:
        with self._lock:
            self._shown.setdefault(screen_id, deque()).extend((now, product_id) for product_id in product_ids)


def restricted_allowed(screen: Screen, audience: Audience, at: datetime) -> bool:
    local_hour = at.astimezone(ZoneInfo(screen.store.timezone)).hour
    return audience.adults_only and screen.store.restricted_sale_allowed(local_hour)


def choose_ads(
    ranked: Ranked,
    *,
    screen: Screen,
    audience: Audience,
    catalog: Catalog,
    shelves: Shelves,
    recently_shown: set[str],
    at: datetime,
    count: int,
) -> list[Choice]:
    """The first ``count`` products of the ranking that pass every rule, in ranking order."""
    allow_restricted = restricted_allowed(screen, audience, at)
    per_category: Counter[str] = Counter()
    chosen: list[Choice] = []
    for product_id, reason in zip(ranked.product_ids, ranked.reasons, strict=True):
        product = catalog.products.get(product_id)
        if (
            product is None
            or not shelves.in_stock(screen, product_id)
            or product_id in audience.in_cart
            or (product.age_restricted and not allow_restricted)
            or product_id in recently_shown
            or per_category[product.category] >= MAX_PER_CATEGORY
        ):
            continue
        per_category[product.category] += 1
        chosen.append(Choice(product, reason))
        if len(chosen) == count:
            break
    return chosen
