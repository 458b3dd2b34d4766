"""The review queue: the open cases of ``review.review_cases`` in the published review file, in the order
an operator takes them (oldest first, then the most money at stake, then by case id, so the order is
stable).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from review.published import reading


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
    from review.review_cases
    where state = 'open' and (cast(? as varchar) is null or store_id = ?)
    order by opened_at, at_stake_krw desc nulls last, case_id
"""


def open_cases(published: Path, now: datetime, store_id: str | None = None) -> list[OpenCase]:
    """The open cases (of one store, if given), oldest first, then the most money at stake."""
    with reading(published) as connection:
        rows = connection.execute(_OPEN_CASES, [store_id, store_id]).fetchall()
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
