"""Publishing: the marts as a read-only DuckDB file that readers open while the next run writes.

DuckDB allows one writer, and a reader of the file dbt writes would block or break a run. So after a
successful build the marts are copied into a fresh file that replaces the published one with a
single rename: readers see the old copy or the new one, never half of either.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from walkout.files import replace_durably

PUBLISHED_SCHEMA = "marts"


def publish_marts(warehouse: Path, published: Path) -> dict[str, int]:
    """Copy every table of the warehouse's ``marts`` schema to ``published``; returns rows per table."""
    partial = published.with_name(f".{published.name}.tmp")
    partial.unlink(missing_ok=True)
    with duckdb.connect(str(partial)) as con:
        con.execute(f"attach '{warehouse}' as warehouse (read_only)")
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() "
                "where database_name = 'warehouse' and schema_name = ? order by table_name",
                [PUBLISHED_SCHEMA],
            ).fetchall()
        ]
        con.execute(f"create schema {PUBLISHED_SCHEMA}")
        rows = {}
        for table in tables:
            con.execute(
                f'create table {PUBLISHED_SCHEMA}."{table}" as '
                f'select * from warehouse.{PUBLISHED_SCHEMA}."{table}"'
            )
            (rows[table],) = con.execute(f'select count(*) from {PUBLISHED_SCHEMA}."{table}"').fetchone() or (
                0,
            )
        con.execute("detach warehouse")
        con.execute("checkpoint")
    partial.chmod(0o444)
    replace_durably(partial, published)
    return rows
