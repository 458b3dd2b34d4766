"""How review goes, as the console shows it: per store and day, the cases and their decisions
(``review.review_daily``), and how long receipts took from the exit to their final charge
(``review.review_charge_times``). Counts only, as the marts keep them: no receipt or visit is named."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from review.published import reading

_DAYS = """
    select
        store_id,
        opened_date,
        cause,
        cases,
        decided,
        still_open,
        median_hours_to_decision,
        changed_charge,
        share_changed,
        net_moved_krw,
        at_stake_krw,
        written_off_krw,
    from review.review_daily
    order by opened_date desc, store_id, cases desc, cause
"""

_CHARGE_TIMES = """
    select
        store_id,
        charged_date,
        receipts,
        receipts_changed_later,
        median_minutes_to_changed_charge,
        p90_minutes_to_final_charge,
        max_minutes_to_final_charge,
    from review.review_charge_times
    order by charged_date desc, store_id
"""


def review_days(published: Path) -> pl.DataFrame:
    """Per store, day the cases arose and cause: cases, decided, still open, median hours to a decision,
    decisions that changed a charge and their share, the net money they moved, the money at stake and the
    value of takes charged to nobody written off."""
    with reading(published) as connection:
        frame: pl.DataFrame = connection.sql(_DAYS).pl()
    return frame


def charge_times(published: Path) -> pl.DataFrame:
    """Per store and day of the exits: receipts, those a decision changed later, and the minutes from the
    exit to the final charge (median of the changed ones, 90th percentile and longest of all)."""
    with reading(published) as connection:
        frame: pl.DataFrame = connection.sql(_CHARGE_TIMES).pl()
    return frame
