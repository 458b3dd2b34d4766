"""The store catalog through its public API: data ranges, floor-plan geometry, lookups, export, bad data."""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from walkout.catalog import (
    RESTRICTED_CATEGORIES,
    Catalog,
    CatalogError,
    Category,
    Gondola,
    Store,
    ZoneKind,
    generate_members,
    load_catalog,
    load_products,
    load_stores,
    write_catalog_tables,
)
from walkout.catalog.loader import PRODUCTS_CSV, STORES_YAML
from walkout.vocabulary import AgeBand


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module", params=["S001", "S002", "S003"])
def store(request: pytest.FixtureRequest, catalog: Catalog) -> Store:
    return catalog.store(request.param)


def test_counts_are_in_range(catalog: Catalog) -> None:
    assert 300 <= len(catalog.products) <= 800
    assert sorted(catalog.stores) == ["S001", "S002", "S003"]
    assert len(catalog.members) == 3 * 1500
    for s in catalog.stores.values():
        assert 250 <= len(s.plates) <= 450, s.store_id


def test_products_are_plausible(catalog: Catalog) -> None:
    products = list(catalog.products.values())
    assert {p.category for p in products} == set(Category)
    assert len({p.name for p in products}) == len(products)
    assert all(p.unit_weight_g >= 20 for p in products)
    assert all(p.price_krw > 0 and p.price_krw % 10 == 0 for p in products)
    assert all(0.15 <= p.margin <= 0.45 and 1 <= p.lead_time_days <= 3 for p in products)
    banana_milk = next(p for p in products if p.name == "Binggrae Banana Milk 240ml")
    assert banana_milk.category is Category.DAIRY


def test_restricted_categories_are_flagged(catalog: Catalog) -> None:
    for p in catalog.products.values():
        assert p.age_restricted == (p.category in RESTRICTED_CATEGORIES), p.product_id
    assert catalog.products_in("alcohol")
    assert catalog.products_in(Category.TOBACCO)
    assert all(p.age_restricted for p in catalog.products_in("alcohol"))


def test_every_carried_product_is_on_a_plate(catalog: Catalog, store: Store) -> None:
    for p in catalog.products.values():
        plates = store.plates_of(p.product_id)
        if p.category in store.categories:
            assert 1 <= len(plates) <= 2, p.product_id
        else:
            assert plates == (), p.product_id


def test_gondolas_and_plates_follow_the_hardware(store: Store) -> None:
    for g in store.gondolas:
        assert 5 <= len(g.shelf_heights_m) <= 6, g.gondola_id
        assert 1 <= g.plates_per_shelf <= 12, g.gondola_id
    assert Counter(p.gondola_id for p in store.plates) == {
        g.gondola_id: len(g.shelf_heights_m) * g.plates_per_shelf for g in store.gondolas
    }
    assert all(p.capacity_units >= 1 for p in store.plates)
    assert store.plate(store.plates[0].plate_id) == store.plates[0]


def test_zones_tile_the_floor(store: Store) -> None:
    assert sum(z.area_m2 for z in store.zones) == pytest.approx(store.area_m2)
    for a, b in itertools.combinations(store.zones, 2):
        assert not (a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1), (a.zone_id, b.zone_id)
    grid = [i * 0.25 + 0.1 for i in range(60)]
    inside = [(x, y) for x in grid for y in grid if x < store.width_m and y < store.depth_m]
    assert all(store.zone_at(x, y) is not None for x, y in inside)
    assert store.zone_at(-0.5, 1.0) is None
    assert store.zone_at(1.0, store.depth_m + 1) is None


def test_zone_ids_and_kinds(store: Store) -> None:
    prefix = f"{store.store_id}-"
    assert all(z.zone_id.startswith(prefix) and z.store_id == store.store_id for z in store.zones)
    kinds = Counter(z.kind for z in store.zones)
    assert kinds[ZoneKind.ENTRANCE] == 1
    assert kinds[ZoneKind.AISLE] >= 1
    assert store.zone(f"{prefix}beverages").kind is ZoneKind.BEVERAGES
    restricted = store.zone(f"{prefix}alcohol_tobacco")
    assert restricted.restricted
    assert Category.ALCOHOL in restricted.categories


def test_reach_points_fall_in_the_plate_zone_or_an_aisle(store: Store) -> None:
    for p in store.plates:
        zone = store.zone_at(*p.reach_point)
        assert zone is not None, p.plate_id
        assert zone.zone_id == p.zone_id or zone.kind is ZoneKind.AISLE, p.plate_id
        plate_zone = store.zone(p.zone_id)
        assert plate_zone.x0 <= p.x_m <= plate_zone.x1, p.plate_id
        assert plate_zone.y0 <= p.y_m <= plate_zone.y1, p.plate_id


def _front_walkway(g: Gondola, depth: float) -> tuple[float, float, float, float]:
    if g.facing == "-y":
        return g.x0, g.y0 - depth, g.x1, g.y0
    return g.x0, g.y1, g.x1, g.y1 + depth


def test_aisles_are_at_least_90_cm_wide(store: Store) -> None:
    for g in store.gondolas:
        x0, y0, x1, y1 = _front_walkway(g, 0.9)
        assert y0 >= 0, g.gondola_id
        assert y1 <= store.depth_m, g.gondola_id
        for other in store.gondolas:
            overlaps = x0 < other.x1 and other.x0 < x1 and y0 < other.y1 and other.y0 < y1
            assert other is g or not overlaps, (g.gondola_id, other.gondola_id)


def test_gates_and_ad_screens(store: Store) -> None:
    assert 1 <= len(store.gates) <= 2
    assert 3 <= len(store.ad_screens) <= 5
    assert [g.gate_id for g in store.gates] == [f"{store.store_id}-G{i + 1}" for i in range(len(store.gates))]
    for gate in store.gates:
        assert store.zone_at(gate.x_m, gate.y_m) == store.zone(gate.zone_id)
        assert store.zone(gate.zone_id).kind is ZoneKind.ENTRANCE
    for screen in store.ad_screens:
        assert screen.ad_screen_id.startswith(f"{store.store_id}-AD")
        assert store.zone_at(screen.x_m, screen.y_m) == store.zone(screen.zone_id)


def test_mirrored_store_has_its_entrance_gate_on_the_right(catalog: Catalog) -> None:
    gimpo = catalog.store("S002")
    assert gimpo.mirrored
    assert gimpo.area_m2 == pytest.approx(45.6)
    assert gimpo.gates[0].x_m > gimpo.width_m / 2


def test_opening_and_restricted_hours(catalog: Catalog) -> None:
    gangnam, gimpo, coex = (catalog.store(s) for s in ("S001", "S002", "S003"))
    assert [h for h in range(24) if not gangnam.is_open(h)] == []
    assert [h for h in range(24) if not gimpo.is_open(h)] == [0, 1, 2, 3, 4, 5]
    assert [h for h in range(24) if not coex.is_open(h)] == [0, 1, 2, 3, 4, 5, 6, 23]
    assert [h for h in range(24) if not gangnam.restricted_sale_allowed(h)] == [
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        22,
        23,
    ]
    assert all(coex.restricted_sale_allowed(h) for h in range(24))


def test_unknown_ids_raise_catalog_errors_naming_them(catalog: Catalog) -> None:
    with pytest.raises(CatalogError, match="S999"):
        catalog.store("S999")
    with pytest.raises(CatalogError, match="P9999"):
        catalog.product("P9999")
    with pytest.raises(CatalogError, match="toys"):
        catalog.products_in("toys")
    with pytest.raises(CatalogError, match="S001-GD99-S1-P01"):
        catalog.store("S001").plate("S001-GD99-S1-P01")


def test_loading_is_deterministic_and_cached(catalog: Catalog) -> None:
    assert load_catalog() is catalog
    products = load_products()
    assert products == dict(catalog.products)
    assert load_stores(products) == dict(catalog.stores)
    stores = list(catalog.stores.values())
    assert generate_members(stores) == generate_members(stores) == list(catalog.members.values())
    assert generate_members(stores, per_store=50, seed=1) != generate_members(stores, per_store=50, seed=2)


def test_members_look_like_convenience_store_shoppers(catalog: Catalog) -> None:
    members = list(catalog.members.values())
    bands = Counter(m.age_band for m in members)
    assert AgeBand.UNKNOWN not in bands
    assert 0.04 <= bands[AgeBand.MINOR] / len(members) <= 0.08
    assert 0.06 <= bands[AgeBand.AGE_60_PLUS] / len(members) <= 0.10
    assert (bands[AgeBand.AGE_19_29] + bands[AgeBand.AGE_30_39]) / len(members) > 0.5
    assert Counter(m.home_store_id for m in members) == {"S001": 1500, "S002": 1500, "S003": 1500}
    assert members[0].member_id == "M000001"


def test_export_writes_every_table(catalog: Catalog, tmp_path: Path) -> None:
    paths = write_catalog_tables(catalog, tmp_path / "seeds")
    expected = {
        "products": {"product_id", "category", "price_krw", "unit_weight_g", "age_restricted"},
        "stores": {"store_id", "open_hour", "restricted_from_hour", "width_m", "depth_m"},
        "zones": {"zone_id", "store_id", "kind", "x0_m", "y0_m", "x1_m", "y1_m"},
        "gondolas": {"gondola_id", "store_id", "zone_id", "facing", "plates_per_shelf"},
        "plates": {"plate_id", "store_id", "zone_id", "product_id", "x_m", "y_m", "z_m", "reach_x_m"},
        "gates": {"gate_id", "store_id", "zone_id", "x_m", "y_m"},
        "ad_screens": {"ad_screen_id", "store_id", "zone_id", "x_m", "y_m"},
        "members": {"member_id", "age_band", "gender", "home_store_id"},
    }
    assert set(paths) == set(expected)
    for name, columns in expected.items():
        table = pl.read_parquet(paths[name])
        assert table.height > 0, name
        assert columns <= set(table.columns), name
    plates = pl.read_parquet(paths["plates"])
    assert plates.height == sum(len(s.plates) for s in catalog.stores.values())
    assert plates["plate_id"].n_unique() == plates.height
    assert not list((tmp_path / "seeds").glob("*.tmp"))


def _rewrite_products(tmp_path: Path, edit: dict[str, str], row: int = 5, duplicate: bool = False) -> Path:
    with PRODUCTS_CSV.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows[row] = {**rows[row], **edit}
    if duplicate:
        rows.append(dict(rows[row]))
    path = tmp_path / "products.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(
    ("edit", "duplicate", "message"),
    [
        ({"price_krw": "-1500"}, False, r"P0006.*price_krw"),
        ({"unit_weight_g": "12"}, False, r"P0006.*unit_weight_g must be >= 20"),
        ({"category": "toys"}, False, r"P0006.*toys"),
        ({"age_restricted": "true"}, False, r"P0006.*age_restricted"),
        ({"margin": "0.9"}, False, r"P0006.*margin"),
        ({}, True, r"duplicate product_id P0006"),
    ],
)
def test_corrupt_products_csv_is_rejected_naming_the_row(
    tmp_path: Path, edit: dict[str, str], duplicate: bool, message: str
) -> None:
    with pytest.raises(CatalogError, match=message):
        load_products(_rewrite_products(tmp_path, edit, duplicate=duplicate))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("[alcohol_tobacco, beverages, dairy, fresh_food, frozen]", "[beverages]", "S001 carries dairy"),
        ("depth_m: 7.5", "depth_m: 5.0", r"S001: aisles would be"),
        ("width_m: 7.6", "width_m: 3.0", r"S002: beverages, dairy, fresh_food, alcohol_tobacco need"),
        ("store_id: S003", "store_id: S001", "duplicate store_id S001"),
        ("gates: 2", "gates: 3", r"stores\.0\.layout\.gates"),
    ],
)
def test_inconsistent_stores_yaml_is_rejected_naming_the_store(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = STORES_YAML.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "stores.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        load_stores(load_products(), path)
