"""Publishing: the marts, and apart from them the review console's tables, as read-only DuckDB files that
readers open while the next run writes.

DuckDB allows one writer, and a reader of the file dbt writes would block or break a run. So after a
successful build each published schema is copied into a fresh file that replaces its published one with
a single rename: readers see the old copy or the new one, never half of either. A file holds one schema,
so a reader is given exactly what it may read: the marketers' app and the ad API open the marts, only the
review console opens the review file (single receipts, what was taken and by which visit).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from walkout.files import replace_durably

MARTS_SCHEMA = "marts"
REVIEW_SCHEMA = "review"


def publish_schema(warehouse: Path, published: Path, schema: str = MARTS_SCHEMA) -> dict[str, int]:
    """Copy every table of the warehouse's ``schema`` (the marts unless told) to ``published``, under the
    same schema name; returns rows per table."""
    partial = published.with_name(f".{published.name}.tmp")
    partial.unlink(missing_ok=True)
    # Both files are attached under names of their own: a file named like its schema (review.duckdb)
    # would otherwise make ``review.<table>`` ambiguous.
    with duckdb.connect() as con:
        con.execute(f"attach '{partial}' as published")
        con.execute(f"attach '{warehouse}' as warehouse (read_only)")
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() "
                "where database_name = 'warehouse' and schema_name = ? order by table_name",
                [schema],
            ).fetchall()
        ]
        con.execute(f"create schema published.{schema}")
        rows = {}
        for table in tables:
            copy = f'published.{schema}."{table}"'
            con.execute(f'create table {copy} as select * from warehouse.{schema}."{table}"')
            (rows[table],) = con.execute(f"select count(*) from {copy}").fetchone() or (0,)
        con.execute("detach warehouse")
        con.execute("checkpoint published")
        con.execute("detach published")
    partial.chmod(0o444)
    replace_durably(partial, published)
    return rows
