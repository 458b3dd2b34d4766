"""The store catalog as immutable values: products, stores with their floor plans, members.

Coordinates are metres on the store's floor plan: origin at the floor corner nearest the
entrance, x along the width, y along the depth (toward the back wall), z above the floor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, TypeVar

from walkout.errors import WalkoutError
from walkout.vocabulary import AgeBand, Gender

T = TypeVar("T")


class CatalogError(WalkoutError, ValueError):
    """The catalog data is inconsistent, or an id asked for is not in it (the message names it)."""


class Category(StrEnum):
    """Product categories, as they appear in ``products.csv``."""

    BEVERAGES = "beverages"
    DAIRY = "dairy"
    FRESH_FOOD = "fresh_food"
    INSTANT_NOODLES = "instant_noodles"
    SNACKS = "snacks"
    CONFECTIONERY = "confectionery"
    BAKERY = "bakery"
    FROZEN = "frozen"
    HOUSEHOLD = "household"
    PERSONAL_CARE = "personal_care"
    ALCOHOL = "alcohol"
    TOBACCO = "tobacco"


RESTRICTED_CATEGORIES = frozenset({Category.ALCOHOL, Category.TOBACCO})
"""Sold only to adults (19+ in Korea); unmanned stores may also block them by the hour."""


class ZoneKind(StrEnum):
    """What a floor zone is: the gate area, a walkway, or the home of a category group."""

    ENTRANCE = "entrance"
    AISLE = "aisle"
    BEVERAGES = "beverages"
    DAIRY = "dairy"
    FRESH_FOOD = "fresh_food"
    INSTANT_NOODLES = "instant_noodles"
    SNACKS = "snacks"
    CONFECTIONERY = "confectionery"
    BAKERY = "bakery"
    FROZEN = "frozen"
    HOUSEHOLD = "household"
    PERSONAL_CARE = "personal_care"
    ALCOHOL_TOBACCO = "alcohol_tobacco"


def zone_kind_of(category: Category) -> ZoneKind:
    """The zone a category is shelved in: its namesake, except alcohol and tobacco, which share one."""
    if category in RESTRICTED_CATEGORIES:
        return ZoneKind.ALCOHOL_TOBACCO
    return ZoneKind(category.value)


GondolaKind = Literal["shelf", "fridge", "freezer", "cabinet"]
Facing = Literal["+y", "-y"]
"""The direction a gondola's front (the side shoppers pick from) looks at."""


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    name: str
    brand: str
    category: Category
    price_krw: int
    unit_weight_g: int
    margin: float
    age_restricted: bool
    shelf_life_days: int
    supplier_id: str
    lead_time_days: int


@dataclass(frozen=True, slots=True)
class Zone:
    """An axis-aligned floor rectangle ``[x0, x1) x [y0, y1)``; a store's zones tile its floor."""

    zone_id: str
    store_id: str
    kind: ZoneKind
    x0: float
    y0: float
    x1: float
    y1: float
    categories: tuple[Category, ...]

    @property
    def restricted(self) -> bool:
        return any(c in RESTRICTED_CATEGORIES for c in self.categories)

    @property
    def area_m2(self) -> float:
        return (self.x1 - self.x0) * (self.y1 - self.y0)

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x < self.x1 and self.y0 <= y < self.y1


@dataclass(frozen=True, slots=True)
class Gondola:
    """A shelving unit (or fridge, freezer, tobacco cabinet) holding one category."""

    gondola_id: str
    store_id: str
    zone_id: str
    kind: GondolaKind
    category: Category
    x0: float
    y0: float
    x1: float
    y1: float
    facing: Facing
    shelf_heights_m: tuple[float, ...]
    plates_per_shelf: int


@dataclass(frozen=True, slots=True)
class Plate:
    """A weight plate: one product, at shelf ``shelf`` (1 = lowest), slot ``position`` along the gondola.

    ``x_m, y_m`` is the front middle of the plate; ``reach_point`` is where a shopper picking from it
    stands on the floor.
    """

    plate_id: str
    store_id: str
    zone_id: str
    gondola_id: str
    shelf: int
    position: int
    product_id: str
    x_m: float
    y_m: float
    z_m: float
    width_m: float
    capacity_units: int
    reach_point: tuple[float, float]


@dataclass(frozen=True, slots=True)
class Gate:
    """A QR speed gate lane in the entrance zone."""

    gate_id: str
    store_id: str
    zone_id: str
    x_m: float
    y_m: float
    width_m: float


@dataclass(frozen=True, slots=True)
class AdScreen:
    ad_screen_id: str
    store_id: str
    zone_id: str
    x_m: float
    y_m: float
    z_m: float


@dataclass(frozen=True, slots=True)
class Store:
    """A store: opening hours (local), restricted-sale hours, and its floor plan."""

    store_id: str
    name: str
    city: str
    district: str
    timezone: str
    open_hour: int
    close_hour: int
    restricted_hours: tuple[int, int] | None
    width_m: float
    depth_m: float
    mirrored: bool
    categories: tuple[Category, ...]
    zones: tuple[Zone, ...]
    gondolas: tuple[Gondola, ...]
    plates: tuple[Plate, ...]
    gates: tuple[Gate, ...]
    ad_screens: tuple[AdScreen, ...]
    _plates_by_id: dict[str, Plate] = field(init=False, repr=False, compare=False)
    _plates_by_product: dict[str, tuple[Plate, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_product: dict[str, list[Plate]] = {}
        for plate in self.plates:
            by_product.setdefault(plate.product_id, []).append(plate)
        object.__setattr__(self, "_plates_by_id", {p.plate_id: p for p in self.plates})
        object.__setattr__(self, "_plates_by_product", {k: tuple(v) for k, v in by_product.items()})

    @property
    def area_m2(self) -> float:
        return self.width_m * self.depth_m

    def zone_at(self, x: float, y: float) -> Zone | None:
        """The zone under a floor position; None off the floor (zones are half-open, so x = width is off)."""
        return next((z for z in self.zones if z.contains(x, y)), None)

    def zone(self, zone_id: str) -> Zone:
        for z in self.zones:
            if z.zone_id == zone_id:
                return z
        raise CatalogError(f"store {self.store_id} has no zone {zone_id!r}")

    def plate(self, plate_id: str) -> Plate:
        try:
            return self._plates_by_id[plate_id]
        except KeyError:
            raise CatalogError(f"store {self.store_id} has no plate {plate_id!r}") from None

    def plates_of(self, product_id: str) -> tuple[Plate, ...]:
        """The plates holding a product here; empty if this store does not carry it."""
        return self._plates_by_product.get(product_id, ())

    def is_open(self, local_hour: int) -> bool:
        return _in_hours(local_hour, self.open_hour, self.close_hour)

    def restricted_sale_allowed(self, local_hour: int) -> bool:
        """Whether alcohol and tobacco may leave the store at this local hour."""
        if self.restricted_hours is None:
            return True
        start, end = self.restricted_hours
        return not _in_hours(local_hour, start, end)


def _in_hours(hour: int, start: int, end: int) -> bool:
    """Whether ``hour`` falls in ``[start, end)``, which may wrap past midnight; 0..24 is all day."""
    if not 0 <= hour < 24:
        raise CatalogError(f"hour must be in 0..23, got {hour}")
    if start <= end:
        return start <= hour < end
    return hour >= start or hour < end


@dataclass(frozen=True, slots=True)
class Member:
    """A pseudonymous app member: who may scan in at the gate.

    ``age_band`` and ``gender`` are who the member is (the twin draws tastes from them); the platform
    knows them only when the member declared them in the app: read :attr:`declared_age_band` and
    :attr:`declared_gender` outside the twin.
    """

    member_id: str
    age_band: AgeBand
    gender: Gender
    home_store_id: str
    declared: bool = True

    @property
    def declared_age_band(self) -> AgeBand:
        return self.age_band if self.declared else AgeBand.UNKNOWN

    @property
    def declared_gender(self) -> Gender:
        return self.gender if self.declared else Gender.UNKNOWN


@dataclass(frozen=True, slots=True)
class Catalog:
    """Products, stores and members, keyed by id (read-only mappings)."""

    products: Mapping[str, Product]
    stores: Mapping[str, Store]
    members: Mapping[str, Member]

    def product(self, product_id: str) -> Product:
        return _lookup(self.products, product_id, "product")

    def store(self, store_id: str) -> Store:
        return _lookup(self.stores, store_id, "store")

    def member(self, member_id: str) -> Member:
        return _lookup(self.members, member_id, "member")

    def products_in(self, category: Category | str) -> list[Product]:
        """The products of a category, bestsellers first (the order of ``products.csv``)."""
        try:
            wanted = Category(category)
        except ValueError:
            raise CatalogError(f"unknown category {category!r}") from None
        return [p for p in self.products.values() if p.category is wanted]


def _lookup(items: Mapping[str, T], key: str, what: str) -> T:
    try:
        return items[key]
    except KeyError:
        raise CatalogError(f"unknown {what} id {key!r}") from None
