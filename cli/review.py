"""``walkout review``: the operators' review of unsure receipts and of takes charged to nobody."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.options import JsonOption, console, port_option, require_free_port
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


@review_app.command("console")
def review_console(
    port: Annotated[int, port_option("Port of the review console.")] = 8502,
    address: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")] = (
        "127.0.0.1"
    ),
) -> None:
    """Start the operators' review console (Streamlit) until Ctrl-C: sign in, read a case's evidence,
    decide; decisions go to Kafka as receipt adjustments."""
    require_free_port(address, port)
    from pathlib import Path

    from dashboards.server import run_dashboard, url

    get_settings().secret("review_key")  # an unset key is refused in one line before the server starts
    console.print(f"review console at {url(port, address)} (Ctrl-C stops it)")
    run_dashboard(port, address, Path(__file__).resolve().parents[1] / "console" / "app.py")


@review_app.command("keys")
def review_keys(
    operator: Annotated[list[str], typer.Option(help="Operator id (repeat for several).")],
) -> None:
    """Print each operator's sign-in key for the review console (derived from WALKOUT_REVIEW_KEY)."""
    from review.operators import operator_key

    settings = get_settings()
    keys = [(operator_id, operator_key(settings, operator_id)) for operator_id in operator]
    demo = settings.review_key is None  # the key resolved, so the demo keys were asked for
    table = Table("operator", "key", title=f"{'PUBLIC DEMO ' if demo else ''}review console sign-in keys")
    for operator_id, key in keys:
        table.add_row(operator_id, key)
    console.print(table)
    if demo:
        console.print("[yellow]demo keys:[/yellow] anyone can derive them: set WALKOUT_REVIEW_KEY in a store")


@review_app.command("simulate")
def review_simulate(
    mistake_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of cases the twin's operator decides wrongly.")
    ] = 0.0,
    mean_delay_minutes: Annotated[
        float, typer.Option(min=0.0, max=7 * 24 * 60, help="Mean minutes from a case to its decision.")
    ] = 30.0,
    limit: Annotated[int | None, typer.Option(min=1, help="Decide only the oldest N open cases.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the mistakes and delays.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """The twin plays the operator: decide the open cases from the ground truth and send the decisions
    to Kafka as receipt adjustments (the lander lands them; the next build closes the cases)."""
    from datetime import UTC, datetime, timedelta

    from review.decisions import publish_adjustments
    from twin.operator import OperatorHabits, simulate_review
    from walkout.catalog import load_catalog
    from walkout.kafka import Outbox, make_producer

    settings = get_settings()
    habits = OperatorHabits(mistake_rate, timedelta(minutes=mean_delay_minutes), seed)
    review = simulate_review(settings, load_catalog(), datetime.now(UTC), habits, limit)
    outbox = Outbox(make_producer(settings))
    try:
        sent = publish_adjustments(outbox, review.adjustments)
    finally:
        outbox.close()
    if as_json:
        print(json.dumps({"adjustments_sent": sent, "cases": review.outcomes}))
        return
    table = Table("cases", "decided", title=f"{sent} adjustments sent to Kafka")
    for outcome, count in sorted(review.outcomes.items()):
        table.add_row(outcome, str(count))
    console.print(table)


@review_app.command("calibrate")
def review_calibrate(
    seeds: Annotated[
        list[int], typer.Option("--seeds", help="Twin seeds whose store-days the calibration is fitted on.")
    ] = [11, 12, 13],  # noqa: B006 (typer takes a list default as is)
    eval_seeds: Annotated[
        list[int], typer.Option("--eval-seeds", help="Other seeds whose store-days it is judged on.")
    ] = [14, 15, 16],  # noqa: B006
    stores: Annotated[list[str], typer.Option("--stores", help="Stores simulated.")] = [  # noqa: B006
        "S001",
        "S002",
        "S003",
    ],
    write: Annotated[
        bool, typer.Option(help="Write the fitted calibration as the checkout's newest version.")
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Calibrate line confidence on the twin: replay store-days of the fitting seeds, fit, and print the
    calibration error and the review and wrong-unflagged shares on the other seeds' store-days, at the
    chosen threshold and at today's; then write the calibration for the checkout."""
    from twin.calibrate import calibrate_on_twin
    from walkout.calibration import write_calibration
    from walkout.catalog import load_catalog

    settings = get_settings()
    if set(seeds) & set(eval_seeds):
        raise typer.BadParameter("the fitting and evaluation seeds must differ", param_hint="--eval-seeds")
    target = settings.review_wrong_unflagged_target
    figures = calibrate_on_twin(load_catalog(), stores, seeds, eval_seeds, target)
    # Published only when its threshold kept the target where it was chosen: else the checkout keeps
    # the calibration it has (or none), rather than a threshold that may flag less than today.
    reaches = figures.fitted.wrong_unflagged_rate <= target
    chosen_for_checkout = write and reaches
    written = (
        write_calibration(settings.paths.calibration_dir, figures.calibration)
        if chosen_for_checkout
        else None
    )
    command = (
        "walkout review calibrate "
        + " ".join(f"--stores {s}" for s in stores)
        + "".join(f" --seeds {s}" for s in seeds)
        + "".join(f" --eval-seeds {s}" for s in eval_seeds)
    )
    if as_json:
        written_to = str(written) if written else None
        print(json.dumps({**figures.as_dict(), "written": written_to, "command": command}))
        return
    table = Table(
        "review threshold",
        "threshold",
        "review of the charge",
        "wrong, not flagged",
        title=f"{figures.eval_visits} visits of seeds {', '.join(map(str, eval_seeds))} "
        f"({figures.eval_wrong_receipts} wrong receipts); target {target:.2%} wrong, not flagged",
    )
    for name, at in (("today (raw confidence)", figures.today), ("chosen (calibrated)", figures.chosen)):
        table.add_row(name, f"{at.threshold:.4f}", f"{at.review_rate:.2%}", f"{at.wrong_unflagged_rate:.2%}")
    console.print(table)
    console.print(
        f"expected calibration error of line confidence ({figures.eval_lines} lines): "
        f"{figures.ece_before:.4f} before, {figures.ece_after:.4f} after "
        f"(fitted on {figures.fit_lines} lines of seeds {', '.join(map(str, seeds))})"
    )
    if figures.fitted.wrong_unflagged_rate > target:
        console.print(
            f"[yellow]target not reached[/yellow] on the fitting seeds' store-days: "
            f"{figures.fitted.wrong_unflagged_rate:.2%} wrong, not flagged at the threshold leaving fewest; "
            "not written: the checkout keeps the calibration it has"
        )
    if written:
        console.print(f"calibration {figures.calibration.version} written: {written}")
    console.print(f"reproduce: {command}")
