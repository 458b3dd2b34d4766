"""Floor plans from ``stores.yaml``: zones, gondolas, weight plates, gates and ad screens.

A plan is a back wall of fridges, freezers and the tobacco cabinet, plus double-sided island
gondolas, all running along x with walkways between them. A category zone is its gondolas'
footprint plus the strip of walkway in front where shoppers stand to pick; the entrance and the
aisle zones cover the rest, so the zones tile the floor and every floor position has one zone.
The same spec and products always give the same plan (no randomness).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from walkout.catalog.model import (
    AdScreen,
    CatalogError,
    Category,
    Facing,
    Gate,
    Gondola,
    GondolaKind,
    Plate,
    Product,
    Store,
    Zone,
    ZoneKind,
    zone_kind_of,
)

PLATE_WIDTH_M = 0.1
MAX_PLATES_PER_SHELF = 12
PLATE_MAX_LOAD_G = 5000
EYE_LEVEL_M = 1.2
"""Bestsellers go on the shelves nearest eye level."""
REACH_M = 0.4
"""How far in front of a shelf a picking shopper stands."""
PICK_STRIP_M = 0.6
"""Depth of walkway in front of a gondola that belongs to its zone (at most half the aisle)."""
MIN_AISLE_M = 0.9
SIDE_AISLE_M = 1.0
"""Walkway around each end of an island."""
GATE_FIRST_X_M = 1.0
GATE_PITCH_M = 1.2
GATE_WIDTH_M = 0.9
AD_SCREEN_HEIGHT_M = 2.2
NON_CATEGORY_ZONES = frozenset({ZoneKind.ENTRANCE, ZoneKind.AISLE})


@dataclass(frozen=True, slots=True)
class Fixture:
    """A kind of gondola: its shelf heights (lowest first) and depth."""

    shelf_heights_m: tuple[float, ...]
    depth_m: float


FIXTURES: Mapping[GondolaKind, Fixture] = {
    "shelf": Fixture((0.10, 0.40, 0.70, 1.00, 1.30, 1.60), 0.45),
    "fridge": Fixture((0.25, 0.60, 0.95, 1.30, 1.65), 0.70),
    "freezer": Fixture((0.25, 0.60, 0.95, 1.30, 1.65), 0.70),
    "cabinet": Fixture((0.90, 1.10, 1.30, 1.50, 1.70, 1.90), 0.40),
}
FIXTURE_OF: Mapping[Category, GondolaKind] = {
    Category.BEVERAGES: "fridge",
    Category.DAIRY: "fridge",
    Category.FRESH_FOOD: "fridge",
    Category.ALCOHOL: "fridge",
    Category.FROZEN: "freezer",
    Category.TOBACCO: "cabinet",
}
UNITS_PER_PLATE: Mapping[Category, int] = {
    Category.BEVERAGES: 6,
    Category.DAIRY: 6,
    Category.FRESH_FOOD: 4,
    Category.INSTANT_NOODLES: 6,
    Category.SNACKS: 4,
    Category.CONFECTIONERY: 10,
    Category.BAKERY: 4,
    Category.FROZEN: 6,
    Category.HOUSEHOLD: 4,
    Category.PERSONAL_CARE: 6,
    Category.ALCOHOL: 6,
    Category.TOBACCO: 10,
}
"""Units one plate holds front to back, before the plate's load limit."""


# --- stores.yaml ---------------------------------------------------------------------------------

Hour = Annotated[int, Field(ge=0, le=24)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IslandSpec(_Spec):
    back: tuple[ZoneKind, ...] = ()
    front: tuple[ZoneKind, ...] = ()


class LayoutSpec(_Spec):
    width_m: float = Field(gt=0)
    depth_m: float = Field(gt=0)
    mirrored: bool = False
    entrance_depth_m: float = Field(gt=0)
    gates: int = Field(ge=1, le=2)
    extra_facings: int = Field(ge=0)
    back_wall: tuple[ZoneKind, ...]
    islands: tuple[IslandSpec, ...] = ()
    ad_screens: tuple[ZoneKind, ...] = Field(min_length=3, max_length=5)

    @property
    def zones(self) -> tuple[ZoneKind, ...]:
        """The category zones in placement order: back wall, then each island's back and front."""
        return self.back_wall + tuple(z for i in self.islands for z in i.back + i.front)


class StoreSpec(_Spec):
    store_id: str = Field(pattern=r"^S\d{3}$")
    name: str
    city: str
    district: str
    timezone: str
    hours: tuple[Hour, Hour]
    restricted_hours: tuple[Hour, Hour] | None
    categories: tuple[Category, ...] = Field(min_length=1)
    layout: LayoutSpec


class _StoresFile(_Spec):
    stores: tuple[StoreSpec, ...] = Field(min_length=1)


def read_store_specs(path: Path) -> tuple[StoreSpec, ...]:
    """Parse ``stores.yaml``; a malformed file raises CatalogError naming the offending field."""
    try:
        return _StoresFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))).stores
    except (yaml.YAMLError, ValidationError) as exc:
        raise CatalogError(f"{path.name}: {exc}") from exc


# --- planning ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _GondolaPlan:
    """One gondola's worth of a category: the product on each plate slot, eye-level slots first."""

    category: Category
    kind: GondolaKind
    plates_per_shelf: int
    slots: tuple[Product, ...]

    @property
    def width_m(self) -> float:
        return round(self.plates_per_shelf * PLATE_WIDTH_M, 3)

    @property
    def depth_m(self) -> float:
        return FIXTURES[self.kind].depth_m


@dataclass(frozen=True, slots=True)
class _Line:
    """A run of zones along ``[x0, x1]``: gondola backs on ``spine_y``, zones reaching to ``edge_y``."""

    zones: tuple[ZoneKind, ...]
    spine_y: float
    facing: Facing
    edge_y: float
    x0: float
    x1: float


def _facings(products: Sequence[Product], slots: int) -> list[Product]:
    """Spread ``slots`` plates over products: one each, the spare ones to bestsellers first."""
    counts = [1] * len(products)
    for i in range(slots - len(products)):
        counts[i % len(products)] += 1
    return [p for p, n in zip(products, counts, strict=True) for _ in range(n)]


def _plan_category(category: Category, products: Sequence[Product], extra_facings: int) -> list[_GondolaPlan]:
    """As few gondolas as hold the category, with plates per shelf trimmed to what it needs."""
    kind = FIXTURE_OF.get(category, "shelf")
    shelves = len(FIXTURES[kind].shelf_heights_m)
    wanted = len(products) + min(extra_facings, len(products))
    count = math.ceil(wanted / (shelves * MAX_PLATES_PER_SHELF))
    per_shelf = math.ceil(wanted / (count * shelves))
    size = shelves * per_shelf
    slots = _facings(products, count * size)
    return [
        _GondolaPlan(category, kind, per_shelf, tuple(slots[i * size : (i + 1) * size])) for i in range(count)
    ]


def _plan_zones(spec: StoreSpec, products: Sequence[Product]) -> dict[ZoneKind, list[_GondolaPlan]]:
    """The gondolas of each category zone in the layout; checks zones and carried categories agree."""
    zones = spec.layout.zones
    if len(set(zones)) != len(zones) or NON_CATEGORY_ZONES & set(zones):
        raise CatalogError(
            f"store {spec.store_id}: layout zones must be distinct category zones: {', '.join(zones)}"
        )
    carried = [c for c in Category if c in spec.categories]
    plans: dict[ZoneKind, list[_GondolaPlan]] = {z: [] for z in zones}
    for category in carried:
        zone = zone_kind_of(category)
        if zone not in plans:
            raise CatalogError(f"store {spec.store_id} carries {category} but its layout has no {zone} zone")
        in_category = [p for p in products if p.category is category]
        if not in_category:
            raise CatalogError(f"store {spec.store_id} carries {category} but no product is in it")
        plans[zone] += _plan_category(category, in_category, spec.layout.extra_facings)
    empty = [z for z, p in plans.items() if not p]
    if empty:
        raise CatalogError(f"store {spec.store_id}: layout zones {', '.join(empty)} hold no carried category")
    return plans


def _lines(spec: StoreSpec, plans: Mapping[ZoneKind, list[_GondolaPlan]]) -> list[_Line]:
    """The back wall and both sides of each island, placed along y with equal aisles between them."""
    layout = spec.layout

    def depth(zones: tuple[ZoneKind, ...]) -> float:
        return max((g.depth_m for z in zones for g in plans[z]), default=0.0)

    wall = depth(layout.back_wall)
    sides = [(depth(i.back), depth(i.front)) for i in reversed(layout.islands)]  # from the entrance
    free = layout.depth_m - layout.entrance_depth_m - wall - sum(b + f for b, f in sides)
    aisle = free / (len(sides) + 1)
    if aisle < MIN_AISLE_M:
        raise CatalogError(
            f"store {spec.store_id}: aisles would be {aisle:.2f} m wide, need >= {MIN_AISLE_M} m"
        )
    # Walk from the entrance to the back wall; aisle k runs from lows[k] to highs[k].
    spines, lows, highs = [], [layout.entrance_depth_m], []
    for back, front in sides:
        spine = round(lows[-1] + aisle + front, 3)
        spines.append(spine)
        highs.append(round(spine - front, 3))
        lows.append(round(spine + back, 3))
    highs.append(round(layout.depth_m - wall, 3))
    edges = [_strip_edges(lo, hi) for lo, hi in zip(lows, highs, strict=True)]
    lines = [_Line(layout.back_wall, layout.depth_m, "-y", edges[-1][1], 0.0, layout.width_m)]
    x0, x1 = SIDE_AISLE_M, layout.width_m - SIDE_AISLE_M
    for i, island in enumerate(layout.islands):
        k = len(layout.islands) - 1 - i  # the yaml lists islands from the back wall; k counts from the front
        lines.append(_Line(island.back, spines[k], "+y", edges[k + 1][0], x0, x1))
        lines.append(_Line(island.front, spines[k], "-y", edges[k][1], x0, x1))
    return lines


def _strip_edges(low: float, high: float) -> tuple[float, float]:
    """Where the pick strips on the two sides of an aisle end: 0.6 m in, or meeting in the middle."""
    if high - low >= 2 * PICK_STRIP_M:
        return round(low + PICK_STRIP_M, 3), round(high - PICK_STRIP_M, 3)
    middle = round((low + high) / 2, 3)
    return middle, middle


def _spread(widths: Sequence[float], start: float, end: float) -> list[tuple[float, float]]:
    """Split ``[start, end]`` into consecutive segments in proportion to ``widths``."""
    total, done, cuts = sum(widths), 0.0, [start]
    for width in widths:
        done += width
        cuts.append(round(start + (end - start) * done / total, 3))
    return list(itertools.pairwise(cuts))


# --- building ------------------------------------------------------------------------------------

Rect = tuple[float, float, float, float]


@dataclass(slots=True)
class _PlanBuilder:
    """Accumulates one store's fixtures in plan coordinates, mirrored on the way out if asked."""

    spec: StoreSpec
    zones: list[Zone] = field(default_factory=list)
    gondolas: list[Gondola] = field(default_factory=list)
    plates: list[Plate] = field(default_factory=list)
    occupied: list[Rect] = field(default_factory=list)

    @property
    def store_id(self) -> str:
        return self.spec.store_id

    def x(self, x: float) -> float:
        layout = self.spec.layout
        return round(layout.width_m - x if layout.mirrored else x, 3)

    def add_zone(self, zone_id: str, kind: ZoneKind, rect: Rect, categories: tuple[Category, ...]) -> str:
        x0, y0, x1, y1 = rect
        left, right = sorted((self.x(x0), self.x(x1)))
        self.zones.append(
            Zone(zone_id, self.store_id, kind, left, round(y0, 3), right, round(y1, 3), categories)
        )
        return zone_id

    def place_line(self, line: _Line, plans: Mapping[ZoneKind, list[_GondolaPlan]]) -> None:
        """Share the line among its zones in proportion to their gondolas, centred in each zone."""
        widths = [sum(g.width_m for g in plans[z]) for z in line.zones]
        need, room = sum(widths), line.x1 - line.x0
        if need > room + 1e-9:
            raise CatalogError(
                f"store {self.store_id}: {', '.join(line.zones)} need {need:.1f} m, have {room:.1f} m"
            )
        y0, y1 = sorted((line.spine_y, line.edge_y))
        for kind, width, (left, right) in zip(
            line.zones, widths, _spread(widths, line.x0, line.x1), strict=True
        ):
            rect = _rounded((left, y0, right, y1))
            categories = tuple(dict.fromkeys(g.category for g in plans[kind]))
            zone_id = self.add_zone(f"{self.store_id}-{kind.value}", kind, rect, categories)
            self.occupied.append(rect)
            x = round(left + (right - left - width) / 2, 3)
            for plan in plans[kind]:
                self.place_gondola(plan, zone_id, x, line)
                x = round(x + plan.width_m, 3)

    def place_gondola(self, plan: _GondolaPlan, zone_id: str, x0: float, line: _Line) -> None:
        gondola_id = f"{self.store_id}-GD{len(self.gondolas) + 1:02d}"
        sign = -1 if line.facing == "-y" else 1
        front_y = round(line.spine_y + sign * plan.depth_m, 3)
        left, right = sorted((self.x(x0), self.x(x0 + plan.width_m)))
        heights = FIXTURES[plan.kind].shelf_heights_m
        self.gondolas.append(
            Gondola(
                gondola_id=gondola_id,
                store_id=self.store_id,
                zone_id=zone_id,
                kind=plan.kind,
                category=plan.category,
                x0=left,
                y0=min(front_y, line.spine_y),
                x1=right,
                y1=max(front_y, line.spine_y),
                facing=line.facing,
                shelf_heights_m=heights,
                plates_per_shelf=plan.plates_per_shelf,
            )
        )
        eye_level_first = sorted(range(len(heights)), key=lambda s: (abs(heights[s] - EYE_LEVEL_M), s))
        for slot, product in enumerate(plan.slots):
            shelf, position = eye_level_first[slot // plan.plates_per_shelf], slot % plan.plates_per_shelf
            x = self.x(x0 + (position + 0.5) * PLATE_WIDTH_M)
            self.plates.append(
                Plate(
                    plate_id=f"{gondola_id}-S{shelf + 1}-P{position + 1:02d}",
                    store_id=self.store_id,
                    zone_id=zone_id,
                    gondola_id=gondola_id,
                    shelf=shelf + 1,
                    position=position + 1,
                    product_id=product.product_id,
                    x_m=x,
                    y_m=front_y,
                    z_m=heights[shelf],
                    width_m=PLATE_WIDTH_M,
                    capacity_units=_capacity(product),
                    reach_point=(x, round(front_y + sign * REACH_M, 3)),
                )
            )

    def add_aisles(self) -> None:
        """Cover the floor left over by the entrance and category zones with aisle rectangles."""
        layout = self.spec.layout
        cuts = sorted({0.0, layout.depth_m} | {v for r in self.occupied for v in (r[1], r[3])})
        aisles: list[list[float]] = []
        for y0, y1 in itertools.pairwise(cuts):
            taken = sorted((r[0], r[2]) for r in self.occupied if r[1] <= y0 and y1 <= r[3])
            for x0, x1 in _gaps(taken, layout.width_m):
                below = next((a for a in aisles if a[0] == x0 and a[2] == x1 and a[3] == y0), None)
                if below is None:
                    aisles.append([x0, y0, x1, y1])
                else:
                    below[3] = y1
        for n, (x0, y0, x1, y1) in enumerate(sorted(aisles, key=lambda a: (a[1], a[0])), start=1):
            self.add_zone(f"{self.store_id}-aisle-{n}", ZoneKind.AISLE, (x0, y0, x1, y1), ())

    def gates(self) -> tuple[Gate, ...]:
        layout, zone_id = self.spec.layout, f"{self.store_id}-{ZoneKind.ENTRANCE.value}"
        centres = [GATE_FIRST_X_M + i * GATE_PITCH_M for i in range(layout.gates)]
        if centres[-1] + GATE_WIDTH_M / 2 > layout.width_m:
            raise CatalogError(f"store {self.store_id}: {layout.gates} gates do not fit in the entrance")
        y = round(layout.entrance_depth_m / 2, 3)
        return tuple(
            Gate(f"{self.store_id}-G{i}", self.store_id, zone_id, self.x(cx), y, GATE_WIDTH_M)
            for i, cx in enumerate(centres, start=1)
        )

    def ad_screens(self) -> tuple[AdScreen, ...]:
        by_kind = {z.kind: z for z in self.zones}
        screens = []
        for n, kind in enumerate(self.spec.layout.ad_screens, start=1):
            zone = by_kind.get(kind)
            if zone is None:
                raise CatalogError(
                    f"store {self.store_id}: ad screen {n} is in {kind}, which is not in the layout"
                )
            screens.append(
                AdScreen(
                    ad_screen_id=f"{self.store_id}-AD{n}",
                    store_id=self.store_id,
                    zone_id=zone.zone_id,
                    x_m=round((zone.x0 + zone.x1) / 2, 3),
                    y_m=round((zone.y0 + zone.y1) / 2, 3),
                    z_m=AD_SCREEN_HEIGHT_M,
                )
            )
        return tuple(screens)


def _gaps(taken: Sequence[tuple[float, float]], width: float) -> list[tuple[float, float]]:
    """The parts of ``[0, width]`` not covered by the sorted, disjoint ``taken`` intervals."""
    gaps, x = [], 0.0
    for x0, x1 in [*taken, (width, width)]:
        if x0 - x > 1e-6:
            gaps.append((round(x, 3), round(x0, 3)))
        x = max(x, x1)
    return gaps


def _rounded(rect: Rect) -> Rect:
    """To the millimetre, so edges computed along different paths compare equal."""
    x0, y0, x1, y1 = rect
    return round(x0, 3), round(y0, 3), round(x1, 3), round(y1, 3)


def _capacity(product: Product) -> int:
    return max(1, min(UNITS_PER_PLATE[product.category], PLATE_MAX_LOAD_G // product.unit_weight_g))


def build_store(spec: StoreSpec, products: Sequence[Product]) -> Store:
    """Lay out one store: every product of a carried category gets at least one plate."""
    plans = _plan_zones(spec, products)
    layout = spec.layout
    builder = _PlanBuilder(spec)
    entrance = (0.0, 0.0, layout.width_m, layout.entrance_depth_m)
    builder.add_zone(f"{spec.store_id}-{ZoneKind.ENTRANCE.value}", ZoneKind.ENTRANCE, entrance, ())
    builder.occupied.append(entrance)
    for line in _lines(spec, plans):
        builder.place_line(line, plans)
    builder.add_aisles()
    return Store(
        store_id=spec.store_id,
        name=spec.name,
        city=spec.city,
        district=spec.district,
        timezone=spec.timezone,
        open_hour=spec.hours[0],
        close_hour=spec.hours[1],
        restricted_hours=spec.restricted_hours,
        width_m=layout.width_m,
        depth_m=layout.depth_m,
        mirrored=layout.mirrored,
        categories=tuple(c for c in Category if c in spec.categories),
        zones=tuple(builder.zones),
        gondolas=tuple(builder.gondolas),
        plates=tuple(builder.plates),
        gates=builder.gates(),
        ad_screens=builder.ad_screens(),
    )
