"""``walkout demo``: the main job on the embedded defaults, as a list of stages run in order.

Each area appends its stage to :data:`DEMO_STAGES` (simulate, checkout, warehouse, forecasts,
recommendations, dashboards); a stage gets the shared :class:`DemoContext` and prints what it did.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import httpx
import polars as pl
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from forecasting.report import published_tables
from orchestration.build import build_warehouse
from orchestration.instance import dagster_ui_command
from realtime.checkout.service import run_checkout
from realtime.lander import run_lander
from recsys.api.app import running_api
from recsys.api.keys import master_key, screen_key
from recsys.artifact import load_model
from recsys.report import evaluation_table
from review.decisions import publish_adjustments
from review.operators import operator_key
from review.queue import open_cases
from twin.backfill import backfill
from twin.checkout_evaluate import read_receipts, score_receipts
from twin.operator import OperatorHabits, simulate_review
from twin.report import summary_tables
from twin.run import (
    SimulationPlan,
    SimulationSummary,
    plan_for,
    simulate_to_kafka,
)
from twin.speed import Speed
from twin.truth import GroundTruth
from walkout.broker import kafka_available
from walkout.calibration import newest_calibration_file, read_calibration
from walkout.catalog import load_catalog
from walkout.contracts import TOPICS, Alert, GateScan, ReceiptAdjustment
from walkout.kafka import Outbox, create_topics, make_producer
from walkout.lake import read_lake, topic_files
from walkout.settings import Settings
from walkout.vocabulary import CameraSource

DEMO_STORES = 2
DEMO_DAYS = 1
DEMO_SEED = 7
DEMO_SCREEN = "S001-AD2"
DEMO_OPERATOR = "OP0001"
DEMO_REVIEW_MISTAKES = 0.05
LIVE_CATCH_UP_S = 120.0


@dataclass
class DemoContext:
    settings: Settings
    console: Console
    bootstrap: str
    notes: list[str] = field(default_factory=list)
    simulation: SimulationSummary | None = None
    plan: SimulationPlan | None = None


@dataclass(frozen=True)
class DemoStage:
    title: str
    run: Callable[[DemoContext], None]


def simulate_store_days(context: DemoContext) -> None:
    """A few store-days of the digital twin, published to the edge topics."""
    catalog = load_catalog()
    gate_key = context.settings.secret("gate_key")
    plan = plan_for(
        catalog, stores=DEMO_STORES, days=DEMO_DAYS, seed=DEMO_SEED, start=None, gate_key=gate_key
    )
    # the stores' shelves go on from the backfilled history instead of starting full
    cameras = context.settings.demo_cameras
    plan = context.plan = replace(plan, warm_up_days=context.settings.demo_history_days, cameras=cameras)
    if cameras is CameraSource.PIPELINE:
        context.console.print(
            "camera tracks: rendered ceiling frames through the real pipeline (minutes a store-day)"
        )
    with Progress(console=context.console, transient=True) as progress:
        context.simulation = simulate_to_kafka(context.settings, plan, Speed.MAX, progress)
    for table in summary_tables(context.simulation):
        context.console.print(table)
    context.notes.append(f"ground truth of the simulated days: {context.settings.paths.ground_truth_dir}")


def run_checkout_stage(context: DemoContext) -> None:
    """The checkout service replays the edge topics: visits, dwell paths and one receipt per visit."""
    settings = context.settings
    producer = make_producer(settings)  # a flaky gate sends garbage: it must end up dead-lettered
    producer.send(GateScan.TOPIC, key=b"S001", value=b'{"event_type": "gate.scan", "direction": "sideways"')
    producer.flush()
    producer.close()
    stats = run_checkout(settings, idle_exit_s=5.0, group="demo-checkout")
    receipts = read_receipts(settings)
    truth = GroundTruth(settings.paths.ground_truth_dir)
    store_days = list(context.plan.store_days()) if context.plan else None
    visits, lines = truth.read("visits", store_days), truth.read("receipts", store_days)
    score = score_receipts(receipts, visits, lines)
    table = Table("measure", "value", title="checkout")
    table.add_row(
        "edge records read",
        f"{stats.records} ({stats.heartbeats} gateway heartbeats, {stats.duplicates} duplicates dropped)",
    )
    refused = ", ".join(f"{n} on {field}" for field, n in stats.dead_letter_reasons.most_common())
    table.add_row(
        "dead-lettered",
        f"{stats.published['deadletter']} ({stats.dead_lettered} refused on arrival{': ' if refused else ''}"
        f"{refused}; the rest could be charged to nobody)",
    )
    for topic, count in sorted(stats.published.items()):
        table.add_row(f"published to {topic}", str(count))
    table.add_row("receipts", f"{len(receipts)}, {sum(r.total_krw for r in receipts):,} KRW")
    for name, value in score.as_dict().items():
        table.add_row(
            f"vs ground truth: {name.replace('_', ' ')}",
            f"{value:.4f}" if isinstance(value, float) else str(value),
        )
    context.console.print(table)
    sample = Table("visit", "lines", "total (KRW)", "confidence", "review", title="a few receipts")
    for receipt in receipts[:5]:
        items = ", ".join(
            f"{line.quantity}x {load_catalog().product(line.product_id).name}" for line in receipt.lines
        )
        sample.add_row(
            receipt.visit_id,
            items,
            f"{receipt.total_krw:,}",
            f"{receipt.confidence:.2f}",
            ", ".join(receipt.review_reasons) or "no",
        )
    context.console.print(sample)


def run_lander_stage(context: DemoContext) -> None:
    """The lander writes every topic to the Parquet lake, each event once."""
    settings = context.settings
    stats = run_lander(settings, idle_exit_s=5.0, group="demo-lander")
    table = Table("topic", "rows in the lake", "files", title=f"lake: {settings.paths.lake_dir.resolve()}")
    for topic in TOPICS:
        files = topic_files(settings.paths.lake_dir, topic)
        table.add_row(topic, str(read_lake(settings, topic).height), str(len(files)))
    context.console.print(table)
    context.console.print(
        f"{stats.duplicates_skipped} duplicate messages skipped, {stats.files_written} files written"
    )
    context.console.print(alerts_table(context))
    context.notes.append(f"lake (Parquet by topic and date): {settings.paths.lake_dir.resolve()}")


def alerts_table(context: DemoContext) -> Table:
    """The loss-prevention alerts the checkout raised on the streamed days, as landed: the most valuable
    first (the history's alerts are in the lake too, and in the warehouse's daily counts)."""
    alerts = read_lake(context.settings, Alert.TOPIC)
    if context.plan is not None:
        start = context.plan.start
        alerts = alerts.filter(pl.col("ts") >= datetime(start.year, start.month, start.day, tzinfo=UTC))
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(Counter(alerts["kind"].to_list()).items()))
    table = Table(
        "time (UTC)",
        "store",
        "kind",
        "severity",
        "value (KRW)",
        "evidence",
        title=f"loss-prevention alerts of the streamed days: {kinds or 'none'}",
    )
    for alert in (
        alerts.sort(["value_krw", "ts"], descending=[True, False], nulls_last=True)
        .head(8)
        .iter_rows(named=True)
    ):
        table.add_row(
            f"{alert['ts']:%H:%M:%S}",
            alert["store_id"],
            alert["kind"],
            alert["severity"],
            f"{alert['value_krw']:,}",
            alert["evidence"],
        )
    return table


def backfill_history(context: DemoContext) -> None:
    """Weeks of history before the streamed days, replayed through checkout offline into the lake."""
    days = context.settings.demo_history_days
    plan = plan_for(
        load_catalog(),
        stores=DEMO_STORES,
        days=days,
        seed=DEMO_SEED,
        start=datetime.now(UTC).date() - timedelta(days=DEMO_DAYS + days),
        gate_key=context.settings.secret("gate_key"),
    )
    with context.console.status(f"replaying {DEMO_STORES} stores x {days} days (cached)"):
        summary = backfill(context.settings, plan)
    context.console.print(
        f"{summary.store_days} store-days backfilled from {plan.start} "
        f"({summary.skipped_store_days} already there), {summary.rows_landed.total():,} rows, "
        f"{summary.seconds:.0f} s"
    )


def build_warehouse_stage(context: DemoContext) -> None:
    """The Dagster job: lake → dbt models and checks → the published read-only copy."""
    build = build_warehouse(context.settings)
    table = Table("mart", "rows", title=f"published marts: {build.published_path}")
    for mart, rows in sorted(build.mart_rows.items()):
        table.add_row(mart, f"{rows:,}")
    context.console.print(table)
    context.console.print(
        f"lake dates {build.lake_dates[0]}..{build.lake_dates[1]}, {build.checks_passed} checks passed, "
        f"{len(build.warnings)} warnings, {build.seconds:.0f} s"
    )
    url = dagster_ui_command(context.settings).url
    context.notes.append(f"warehouse run {build.run_id}: see it in the Dagster UI (walkout ui) at {url}")


def review_stage(context: DemoContext) -> None:
    """The operators' review: the twin decides the older half of the open cases from the ground truth,
    the lander lands the decisions, the warehouse is built again, and the rest wait in the console."""
    settings = context.settings
    now = datetime.now(UTC)
    opened = open_cases(settings.paths.published_review_file, now)
    habits = OperatorHabits(mistake_rate=DEMO_REVIEW_MISTAKES, seed=DEMO_SEED)
    review = simulate_review(settings, load_catalog(), now, habits, limit=len(opened) // 2)
    outbox = Outbox(make_producer(settings))
    try:
        publish_adjustments(outbox, review.adjustments)
    finally:
        outbox.close()
    run_lander(settings, idle_exit_s=5.0, group="demo-lander", topics=[ReceiptAdjustment.TOPIC])
    build = build_warehouse(settings)  # a decision is dated by when it was made, and nets on its sale day
    title = f"{len(opened)} open review cases; rebuilt in {build.seconds:.0f} s"
    table = Table("the twin's operator", "cases", title=title)
    for outcome, count in sorted(review.outcomes.items()):
        table.add_row(outcome, str(count))
    waiting = open_cases(settings.paths.published_review_file, datetime.now(UTC))
    table.add_row("left for the console", str(len(waiting)))
    context.console.print(table)
    key = operator_key(settings, DEMO_OPERATOR)
    context.notes.append(
        f"review console: walkout broker start && walkout review console, then sign in at "
        f"http://localhost:8502 as {DEMO_OPERATOR} with key {key} ({len(waiting)} open cases)"
    )
    context.notes.append(calibration_note(settings))


def calibration_note(settings: Settings) -> str:
    """What the rebuild's calibration asset left for the checkout (it fits on the decisions and the twin's
    audits, and publishes only a threshold that keeps the target)."""
    newest = newest_calibration_file(settings.paths.calibration_dir)
    if newest is None:
        return (
            "line calibration: none published (no threshold keeps wrong, unflagged receipts under "
            f"{settings.review_wrong_unflagged_target:.1%} of visits); the checkout flags by its own "
            "review_below. walkout review calibrate shows the trade-off"
        )
    calibration = read_calibration(newest)
    return (
        f"line calibration {calibration.version}: review threshold {calibration.threshold:.4f} over "
        f"calibrated confidence, fitted on {calibration.fitted_on}; the checkout loads it at start, a newer "
        "one within 30 s"
    )


def serve_ads_stage(context: DemoContext) -> None:
    """The model the warehouse job trained, its scores against the baselines, and the ad API at work."""
    settings = context.settings
    model = load_model(settings.paths.recsys_dir)
    evaluation = model.manifest["evaluation"]
    skipped = f"not evaluated: {model.manifest['evaluation_skipped']}"
    context.console.print(evaluation_table(evaluation) if evaluation else skipped)
    key = screen_key(master_key(settings), DEMO_SCREEN)
    with running_api(settings) as (url, live):
        applied, deadline = 0, time.monotonic() + LIVE_CATCH_UP_S
        while time.monotonic() < deadline:  # let the live feed join and catch up with the streamed day
            time.sleep(2.0)
            if applied and live.events_applied == applied:
                break
            applied = live.events_applied
        answer = httpx.get(f"{url}/v1/screens/{DEMO_SCREEN}/ads", headers={"Authorization": f"Bearer {key}"})
    answer.raise_for_status()
    body = answer.json()
    audience = body["audience"]
    title = f"{DEMO_SCREEN}: {audience['people']} people in front, {audience['members']} known to the model"
    table = Table("product", "category", "reason", title=title)
    for ad in body["ads"]:
        table.add_row(ad["name"], ad["category"], ad["reason"])
    context.console.print(table)
    context.notes.append(
        f"ad API: walkout broker start && walkout ads serve, then curl -H 'Authorization: Bearer {key}' "
        f"http://127.0.0.1:8000/v1/screens/{DEMO_SCREEN}/ads (docs at /docs; keys: walkout ads keys)"
    )


def show_forecasts_stage(context: DemoContext) -> None:
    """The demand forecasts' backtest and the reorder suggestions that the warehouse job published."""
    root = context.settings.paths.resolved().forecasts_dir
    for table in published_tables(root):
        context.console.print(table)
    context.notes.append(f"forecasts, backtest, reorder suggestions (Parquet, newest in latest/): {root}")


DEMO_STAGES: list[DemoStage] = [
    DemoStage("History: weeks before the streamed day, replayed into the lake", backfill_history),
    DemoStage("Simulated store-days to Kafka", simulate_store_days),
    DemoStage("Realtime checkout: visits, carts and receipts", run_checkout_stage),
    DemoStage("Lander: topics to the Parquet lake", run_lander_stage),
    DemoStage("Warehouse: dbt models, checks and the published copy (Dagster)", build_warehouse_stage),
    DemoStage("Review: the twin decides half the queue, the console the rest", review_stage),
    DemoStage("Forecasts: demand, backtest and reorder suggestions", show_forecasts_stage),
    DemoStage("Recommendations: the trained model and the ad API", serve_ads_stage),
]


def run_demo(settings: Settings, console: Console) -> None:
    """Start (or reuse) Kafka, create the topics, run every stage, stop what was started."""
    with kafka_available(settings) as bootstrap:
        console.print(f"Kafka at {bootstrap}; data directory {settings.data_dir.resolve()}")
        created = create_topics(settings)
        console.print(f"topics created: {', '.join(created) or 'none (all existed)'}")
        context = DemoContext(settings, console, bootstrap)
        for number, stage in enumerate(DEMO_STAGES, start=1):
            console.rule(f"{number}. {stage.title}")
            stage.run(context)
    console.rule("done")
    for note in context.notes:
        console.print(note)
