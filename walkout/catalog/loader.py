"""Load and check the catalog: ``products.csv`` + ``stores.yaml`` -> floor plans -> members.

Every check names the row or id at fault, so a bad edit to the data files fails loudly at load.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Mapping, Sequence
from itertools import combinations
from pathlib import Path
from types import MappingProxyType

from walkout.catalog.layout import build_store, read_store_specs
from walkout.catalog.members import generate_members
from walkout.catalog.model import (
    RESTRICTED_CATEGORIES,
    Catalog,
    CatalogError,
    Category,
    Product,
    Store,
)

DATA_DIR = Path(__file__).parent
PRODUCTS_CSV = DATA_DIR / "products.csv"
STORES_YAML = DATA_DIR / "stores.yaml"

PRODUCT_COLUMNS = (
    "product_id",
    "name",
    "brand",
    "category",
    "price_krw",
    "unit_weight_g",
    "margin",
    "age_restricted",
    "shelf_life_days",
    "supplier_id",
    "lead_time_days",
)
MIN_UNIT_WEIGHT_G = 20
"""Shelf plates resolve 15-20 g: anything lighter could not be told apart from noise."""
MARGIN_RANGE = (0.15, 0.45)
LEAD_TIME_RANGE = (1, 3)
_PRODUCT_ID = re.compile(r"^P\d{4}$")
_SUPPLIER_ID = re.compile(r"^SUP\d{2}$")


def load_products(path: Path = PRODUCTS_CSV) -> dict[str, Product]:
    """Read and check the products table, keeping file order (bestsellers first per category)."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != PRODUCT_COLUMNS:
            raise CatalogError(f"{path.name}: columns must be {PRODUCT_COLUMNS}, got {reader.fieldnames}")
        products: dict[str, Product] = {}
        names: set[str] = set()
        for line, row in enumerate(reader, start=2):
            where = f"{path.name} line {line} ({row.get('product_id')})"
            try:
                product = _parse_product(row)
            except (TypeError, ValueError) as exc:
                raise CatalogError(f"{where}: {exc}") from exc
            if product.product_id in products:
                raise CatalogError(f"{where}: duplicate product_id {product.product_id}")
            if product.name in names:
                raise CatalogError(f"{where}: duplicate name {product.name!r}")
            products[product.product_id] = product
            names.add(product.name)
    if not products:
        raise CatalogError(f"{path.name}: no products")
    return products


def _parse_product(row: Mapping[str, str]) -> Product:
    """One CSV row as a Product; raises ValueError saying which field is wrong."""
    flag = row["age_restricted"].strip().lower()
    if flag not in ("true", "false"):
        raise ValueError(f"age_restricted must be true or false, got {flag!r}")
    product = Product(
        product_id=row["product_id"].strip(),
        name=row["name"].strip(),
        brand=row["brand"].strip(),
        category=Category(row["category"].strip()),
        price_krw=int(row["price_krw"]),
        unit_weight_g=int(row["unit_weight_g"]),
        margin=float(row["margin"]),
        age_restricted=flag == "true",
        shelf_life_days=int(row["shelf_life_days"]),
        supplier_id=row["supplier_id"].strip(),
        lead_time_days=int(row["lead_time_days"]),
    )
    _check_product(product)
    return product


def _check_product(p: Product) -> None:
    problems = [
        (not _PRODUCT_ID.match(p.product_id), f"product_id must look like P0001, got {p.product_id!r}"),
        (not p.name or not p.brand, "name and brand must not be empty"),
        (
            p.price_krw <= 0 or p.price_krw % 10 != 0,
            f"price_krw must be a positive multiple of 10, got {p.price_krw}",
        ),
        (
            p.unit_weight_g < MIN_UNIT_WEIGHT_G,
            f"unit_weight_g must be >= {MIN_UNIT_WEIGHT_G}, got {p.unit_weight_g}",
        ),
        (
            not MARGIN_RANGE[0] <= p.margin <= MARGIN_RANGE[1],
            f"margin must be in {MARGIN_RANGE}, got {p.margin}",
        ),
        (
            p.age_restricted != (p.category in RESTRICTED_CATEGORIES),
            f"age_restricted must be true exactly for alcohol and tobacco, got {p.age_restricted} "
            f"for {p.category}",
        ),
        (p.shelf_life_days <= 0, f"shelf_life_days must be > 0, got {p.shelf_life_days}"),
        (not _SUPPLIER_ID.match(p.supplier_id), f"supplier_id must look like SUP01, got {p.supplier_id!r}"),
        (
            not LEAD_TIME_RANGE[0] <= p.lead_time_days <= LEAD_TIME_RANGE[1],
            f"lead_time_days must be in {LEAD_TIME_RANGE}, got {p.lead_time_days}",
        ),
    ]
    failed = [message for bad, message in problems if bad]
    if failed:
        raise ValueError("; ".join(failed))


def load_stores(products: Mapping[str, Product], path: Path = STORES_YAML) -> dict[str, Store]:
    """Read ``stores.yaml``, lay every store out and check the plans."""
    stores: dict[str, Store] = {}
    for spec in read_store_specs(path):
        if spec.store_id in stores:
            raise CatalogError(f"{path.name}: duplicate store_id {spec.store_id}")
        store = build_store(spec, list(products.values()))
        check_store(store, products)
        stores[store.store_id] = store
    return stores


def check_store(store: Store, products: Mapping[str, Product]) -> None:
    """Unique ids, zones inside the floor and apart, plates inside their zone, every product placed."""
    _check_unique(store)
    for z in store.zones:
        if not (0 <= z.x0 < z.x1 <= store.width_m and 0 <= z.y0 < z.y1 <= store.depth_m):
            raise CatalogError(f"store {store.store_id}: zone {z.zone_id} lies outside the floor plan")
    for a, b in combinations(store.zones, 2):
        if a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1:
            raise CatalogError(f"store {store.store_id}: zones {a.zone_id} and {b.zone_id} overlap")
    zones = {z.zone_id: z for z in store.zones}
    for plate in store.plates:
        zone = zones.get(plate.zone_id)
        if zone is None or not (zone.x0 <= plate.x_m <= zone.x1 and zone.y0 <= plate.y_m <= zone.y1):
            raise CatalogError(
                f"store {store.store_id}: plate {plate.plate_id} is outside zone {plate.zone_id}"
            )
        if store.zone_at(*plate.reach_point) is None:
            raise CatalogError(
                f"store {store.store_id}: plate {plate.plate_id} is reached from off the floor"
            )
        if plate.product_id not in products:
            raise CatalogError(
                f"store {store.store_id}: plate {plate.plate_id} holds unknown {plate.product_id}"
            )
    unplaced = [
        p.product_id
        for p in products.values()
        if p.category in store.categories and not store.plates_of(p.product_id)
    ]
    if unplaced:
        raise CatalogError(f"store {store.store_id}: products on no plate: {', '.join(unplaced)}")


def _check_unique(store: Store) -> None:
    groups: Sequence[tuple[str, list[str]]] = (
        ("zone", [z.zone_id for z in store.zones]),
        ("gondola", [g.gondola_id for g in store.gondolas]),
        ("plate", [p.plate_id for p in store.plates]),
        ("gate", [g.gate_id for g in store.gates]),
        ("ad screen", [a.ad_screen_id for a in store.ad_screens]),
    )
    for what, ids in groups:
        seen: set[str] = set()
        for entity_id in ids:
            if entity_id in seen:
                raise CatalogError(f"store {store.store_id}: duplicate {what} id {entity_id}")
            seen.add(entity_id)


@functools.lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The packaged catalog (products, three stores, their members), built once per process."""
    products = load_products()
    stores = load_stores(products)
    members = generate_members(list(stores.values()))
    return Catalog(
        products=MappingProxyType(products),
        stores=MappingProxyType(stores),
        members=MappingProxyType({m.member_id: m for m in members}),
    )
