"""The published review file, opened read-only for one read: ``review.<table>`` names its tables.

It is attached in an in-memory database of its own under the name ``published`` (a connection to the file
itself would name its catalog ``review``, like its schema, and make ``review.<table>`` ambiguous). A
warehouse build swapping in a new copy never waits for a reader, and a reader never sees half a build.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from walkout.errors import WalkoutError

BUILD_HINT = "build it with `walkout warehouse build` (or `make demo`)"


class ReviewDataError(WalkoutError):
    """The review file cannot be read: not published yet, or published without what was asked."""


@contextmanager
def reading(published: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the published review file; times come back as aware UTC times."""
    if not published.exists():
        raise ReviewDataError(f"the warehouse has not been built yet (no {published}): {BUILD_HINT}")
    quoted = str(published).replace("'", "''")
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        connection.execute(f"attach '{quoted}' as published (read_only)")
        connection.execute("use published")
        try:
            yield connection
        except duckdb.CatalogException as missing:
            raise ReviewDataError(
                f"the published review file {published} lacks what the review needs "
                f"({str(missing).splitlines()[0]}): {BUILD_HINT}"
            ) from None
