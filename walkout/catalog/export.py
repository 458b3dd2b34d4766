"""The catalog as flat Parquet tables (one row per entity), the warehouse's seeds and sources."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from walkout.catalog.model import Catalog, Store

Row = dict[str, object]


def _products(catalog: Catalog) -> Iterable[Row]:
    for p in catalog.products.values():
        yield {
            "product_id": p.product_id,
            "name": p.name,
            "brand": p.brand,
            "category": p.category.value,
            "price_krw": p.price_krw,
            "unit_weight_g": p.unit_weight_g,
            "margin": p.margin,
            "age_restricted": p.age_restricted,
            "shelf_life_days": p.shelf_life_days,
            "supplier_id": p.supplier_id,
            "lead_time_days": p.lead_time_days,
        }


def _stores(catalog: Catalog) -> Iterable[Row]:
    for s in catalog.stores.values():
        restricted_from, restricted_until = s.restricted_hours or (None, None)
        yield {
            "store_id": s.store_id,
            "name": s.name,
            "city": s.city,
            "district": s.district,
            "timezone": s.timezone,
            "open_hour": s.open_hour,
            "close_hour": s.close_hour,
            "restricted_from_hour": restricted_from,
            "restricted_until_hour": restricted_until,
            "width_m": s.width_m,
            "depth_m": s.depth_m,
            "area_m2": s.area_m2,
            "mirrored": s.mirrored,
            "categories": ",".join(s.categories),
        }


def _zones(store: Store) -> Iterable[Row]:
    for z in store.zones:
        yield {
            "zone_id": z.zone_id,
            "store_id": z.store_id,
            "kind": z.kind.value,
            "x0_m": z.x0,
            "y0_m": z.y0,
            "x1_m": z.x1,
            "y1_m": z.y1,
            "area_m2": z.area_m2,
            "categories": ",".join(z.categories),
            "restricted": z.restricted,
        }


def _gondolas(store: Store) -> Iterable[Row]:
    for g in store.gondolas:
        yield {
            "gondola_id": g.gondola_id,
            "store_id": g.store_id,
            "zone_id": g.zone_id,
            "kind": g.kind,
            "category": g.category.value,
            "x0_m": g.x0,
            "y0_m": g.y0,
            "x1_m": g.x1,
            "y1_m": g.y1,
            "facing": g.facing,
            "shelves": len(g.shelf_heights_m),
            "plates_per_shelf": g.plates_per_shelf,
        }


def _plates(store: Store) -> Iterable[Row]:
    for p in store.plates:
        yield {
            "plate_id": p.plate_id,
            "store_id": p.store_id,
            "zone_id": p.zone_id,
            "gondola_id": p.gondola_id,
            "shelf": p.shelf,
            "position": p.position,
            "product_id": p.product_id,
            "x_m": p.x_m,
            "y_m": p.y_m,
            "z_m": p.z_m,
            "width_m": p.width_m,
            "capacity_units": p.capacity_units,
            "reach_x_m": p.reach_point[0],
            "reach_y_m": p.reach_point[1],
        }


def _gates(store: Store) -> Iterable[Row]:
    for g in store.gates:
        yield {
            "gate_id": g.gate_id,
            "store_id": g.store_id,
            "zone_id": g.zone_id,
            "x_m": g.x_m,
            "y_m": g.y_m,
            "width_m": g.width_m,
        }


def _ad_screens(store: Store) -> Iterable[Row]:
    for a in store.ad_screens:
        yield {
            "ad_screen_id": a.ad_screen_id,
            "store_id": a.store_id,
            "zone_id": a.zone_id,
            "x_m": a.x_m,
            "y_m": a.y_m,
            "z_m": a.z_m,
        }


def _members(catalog: Catalog) -> Iterable[Row]:
    for m in catalog.members.values():
        yield {
            "member_id": m.member_id,
            "age_band": m.declared_age_band.value,
            "gender": m.declared_gender.value,
            "home_store_id": m.home_store_id,
        }


def _per_store(rows: Callable[[Store], Iterable[Row]]) -> Callable[[Catalog], Iterable[Row]]:
    return lambda catalog: (row for store in catalog.stores.values() for row in rows(store))


TABLES: dict[str, Callable[[Catalog], Iterable[Row]]] = {
    "products": _products,
    "stores": _stores,
    "zones": _per_store(_zones),
    "gondolas": _per_store(_gondolas),
    "plates": _per_store(_plates),
    "gates": _per_store(_gates),
    "ad_screens": _per_store(_ad_screens),
    "members": _members,
}


def write_catalog_tables(catalog: Catalog, out_dir: Path) -> dict[str, Path]:
    """Write ``<out_dir>/<table>.parquet`` for each table; each file appears whole or not at all."""
    import polars as pl  # here, not at module top: it takes ~1 s to import and only exports need it

    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, rows in TABLES.items():
        path = out_dir / f"{name}.parquet"
        partial = path.with_suffix(".parquet.tmp")
        pl.DataFrame(list(rows(catalog)), infer_schema_length=None).write_parquet(partial)
        partial.replace(path)
        written[name] = path
    return written
