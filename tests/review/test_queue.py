"""The queue's order and ages, read from a tiny published warehouse written here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from review.published import ReviewDataError
from review.queue import open_cases

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def published(tmp_path: Path, cases: list[tuple[str, str, str, int | None, datetime, str]]) -> Path:
    """A published review file holding only ``review.review_cases``: (case, kind, store, at stake, opened,
    state) each."""
    path = tmp_path / "review.duckdb"
    with duckdb.connect() as connection:
        connection.execute(f"attach '{path}' as published")
        connection.execute("use published")
        connection.execute("create schema review")
        connection.execute(
            "create table review.review_cases (case_id varchar, kind varchar, store_id varchar, "
            "visit_id varchar, purchase_id varchar, product_id varchar, quantity integer, "
            "at_stake_krw bigint, opened_at timestamptz, state varchar, decided_at timestamptz, "
            "review_reasons varchar[])"
        )
        connection.executemany(
            "insert into review.review_cases "
            "values (?, ?, ?, null, null, null, null, ?, ?, ?, null, ['why'])",
            cases,
        )
    return path


def test_open_cases_oldest_first_then_most_at_stake_then_by_id(tmp_path: Path) -> None:
    early, late = NOW - timedelta(hours=3), NOW - timedelta(minutes=10)
    path = published(
        tmp_path,
        [
            ("receipt:late", "flagged", "S1", 90_000, late, "open"),
            ("receipt:cheap", "flagged", "S1", 1_000, early, "open"),
            ("take:unpriced", "unattributed", "S1", None, early, "open"),
            ("take:dear", "unattributed", "S2", 5_000, early, "open"),
            ("receipt:b-tie", "flagged", "S2", 5_000, early, "open"),
            ("receipt:decided", "flagged", "S1", 99_000, early - timedelta(days=1), "decided"),
        ],
    )

    queue = open_cases(path, NOW)

    assert [case.case_id for case in queue] == [
        "receipt:b-tie",
        "take:dear",
        "receipt:cheap",
        "take:unpriced",
        "receipt:late",
    ]
    assert queue[0].age == timedelta(hours=3)
    assert queue[-1].age == timedelta(minutes=10)
    assert queue[0].review_reasons == ("why",)
    assert [case.case_id for case in open_cases(path, NOW, store_id="S2")] == ["receipt:b-tie", "take:dear"]


def test_no_warehouse_or_no_review_cases_says_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(ReviewDataError, match="has not been built yet"):
        open_cases(tmp_path / "review.duckdb", NOW)
    duckdb.connect(str(tmp_path / "review.duckdb")).close()
    with pytest.raises(ReviewDataError, match="lacks what the review needs"):
        open_cases(tmp_path / "review.duckdb", NOW)
