"""``walkout review``: the operators' review of unsure receipts and of takes charged to nobody."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.options import JsonOption, console
from walkout.settings import get_settings

if TYPE_CHECKING:
    from review.queue import OpenCase

review_app = typer.Typer(help="The operators' review of unsure receipts.", no_args_is_help=True)


@review_app.command("queue")
def review_queue(
    store: Annotated[str | None, typer.Option(help="Only this store's cases.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the open review cases of the published review file, oldest first, then most money at stake."""
    from datetime import UTC, datetime, timedelta

    from review.queue import open_cases

    now = datetime.now(UTC)
    cases = open_cases(get_settings().paths.published_review_file, now, store)
    if as_json:
        listed = [_as_json(case) for case in cases]
        print(json.dumps({"as_of": now.isoformat(), "open_cases": listed}))
        return
    table = Table("case", "kind", "store", "visit or product", "at stake (KRW)", "opened (UTC)", "age", "why")
    for case in cases:
        taken = f"{case.quantity} x {case.product_id}" if case.product_id else ""
        table.add_row(
            case.case_id,
            case.kind,
            case.store_id,
            case.visit_id or taken,
            "?" if case.at_stake_krw is None else f"{case.at_stake_krw:,}",
            f"{case.opened_at:%Y-%m-%d %H:%M}",
            str(timedelta(seconds=round(case.age.total_seconds()))),
            "; ".join(case.review_reasons),
        )
    console.print(table if cases else "no open review cases")


def _as_json(case: OpenCase) -> dict[str, object]:
    fields = asdict(case)
    age = fields.pop("age")
    return {**fields, "opened_at": case.opened_at.isoformat(), "age_s": round(age.total_seconds())}
