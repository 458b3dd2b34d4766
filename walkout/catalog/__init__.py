"""The store catalog: products, stores with their floor plans (zones, gondolas, weight plates,
gates, ad screens) and members, loaded from the data files in this package.

    from walkout.catalog import load_catalog
    catalog = load_catalog()
    gangnam = catalog.store("S001")
    gangnam.zone_at(2.5, 3.0)
"""

from walkout.catalog.export import write_catalog_tables
from walkout.catalog.loader import check_store, load_catalog, load_products, load_stores
from walkout.catalog.members import generate_members
from walkout.catalog.model import (
    RESTRICTED_CATEGORIES,
    AdScreen,
    Catalog,
    CatalogError,
    Category,
    Gate,
    Gondola,
    Member,
    Plate,
    Product,
    Store,
    Zone,
    ZoneKind,
    zone_kind_of,
)

__all__ = [
    "RESTRICTED_CATEGORIES",
    "AdScreen",
    "Catalog",
    "CatalogError",
    "Category",
    "Gate",
    "Gondola",
    "Member",
    "Plate",
    "Product",
    "Store",
    "Zone",
    "ZoneKind",
    "check_store",
    "generate_members",
    "load_catalog",
    "load_products",
    "load_stores",
    "write_catalog_tables",
    "zone_kind_of",
]
