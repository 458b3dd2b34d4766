"""The review queue: the open cases of ``marts.review_cases`` in the published warehouse, in the order an
operator takes them (oldest first, then the most money at stake, then by case id, so the order is stable).

It reads the published copy only, attached read-only in a database of its own, so a warehouse build
swapping in a new copy never waits for it and it never sees half a build.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from walkout.errors import WalkoutError

BUILD_HINT = "build it with `walkout warehouse build` (or `make demo`)"


class QueueError(WalkoutError):
    """The queue cannot be read: no published warehouse, or one without the review cases."""


@dataclass(frozen=True)
class OpenCase:
    """An open review case as the queue shows it; ``age`` is counted to the ``now`` it was read at."""

    case_id: str
    kind: str
    store_id: str
    visit_id: str | None
    product_id: str | None
    quantity: int | None
    at_stake_krw: int | None
    opened_at: datetime
    age: timedelta
    review_reasons: tuple[str, ...]


_OPEN_CASES = """
    select case_id, kind, store_id, visit_id, product_id, quantity, at_stake_krw, opened_at, review_reasons
    from marts.review_cases
    where state = 'open' and (cast(? as varchar) is null or store_id = ?)
    order by opened_at, at_stake_krw desc nulls last, case_id
"""


def open_cases(published: Path, now: datetime, store_id: str | None = None) -> list[OpenCase]:
    """The open cases (of one store, if given), oldest first, then the most money at stake."""
    if not published.exists():
        raise QueueError(f"the warehouse has not been built yet (no {published}): {BUILD_HINT}")
    quoted = str(published).replace("'", "''")
    try:
        with duckdb.connect() as connection:
            connection.execute("set TimeZone = 'UTC'")  # opened_at comes back as an aware UTC time
            connection.execute(f"attach '{quoted}' as published (read_only)")
            connection.execute("use published")
            rows = connection.execute(_OPEN_CASES, [store_id, store_id]).fetchall()
    except duckdb.CatalogException:
        raise QueueError(
            f"the published warehouse {published} has no review cases yet: {BUILD_HINT}"
        ) from None
    return [
        OpenCase(
            case_id,
            kind,
            store,
            visit_id,
            product_id,
            quantity,
            at_stake_krw,
            opened_at,
            now - opened_at,
            tuple(reasons or ()),
        )
        for case_id, kind, store, visit_id, product_id, quantity, at_stake_krw, opened_at, reasons in rows
    ]
