"""The ``walkout`` command line: thin commands, each parsing arguments and calling one area function.

Areas are imported inside their commands, so ``walkout --help`` does not load numpy, polars or Dagster.
"""

from __future__ import annotations

import errno
import json
import re
import signal
import socket
import sys
import threading
import traceback
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from twin.speed import Speed
from walkout.broker import EmbeddedBroker
from walkout.errors import WalkoutError
from walkout.kafka import create_topics, list_topics
from walkout.settings import get_settings
from walkout.vocabulary import CameraSource

console = Console()
app = typer.Typer(
    help="walkout: the data platform of unmanned just-walk-out stores.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
broker_app = typer.Typer(help="The embedded Kafka-compatible broker for local runs.", no_args_is_help=True)
topics_app = typer.Typer(help="Kafka topics of the event contracts.", no_args_is_help=True)
checkout_app = typer.Typer(
    help="The realtime checkout service: visits, carts and receipts.", no_args_is_help=True
)
app.add_typer(broker_app, name="broker")
app.add_typer(topics_app, name="topics")
app.add_typer(checkout_app, name="checkout")
land_app = typer.Typer(help="The lander: topics to the Parquet lake.", no_args_is_help=True)
app.add_typer(land_app, name="land")
forecast_app = typer.Typer(help="Demand forecasts, backtests and reorder suggestions.", no_args_is_help=True)
app.add_typer(forecast_app, name="forecast")
recsys_app = typer.Typer(help="Recommendations: implicit ALS against baselines.", no_args_is_help=True)
app.add_typer(recsys_app, name="recsys")
ads_app = typer.Typer(help="The ad-screen HTTP API.", no_args_is_help=True)
app.add_typer(ads_app, name="ads")
warehouse_app = typer.Typer(help="The DuckDB warehouse that dbt builds from the lake.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
vision_app = typer.Typer(
    help="Cameras: shoppers tracked from the ceiling, faces at the entrance.", no_args_is_help=True
)
app.add_typer(vision_app, name="vision")


class ServeError(WalkoutError):
    """A server cannot start on the address it was given (taken, unknown, or not ours to use)."""


def _stop_on_signals() -> threading.Event:
    """A stop flag that SIGTERM and Ctrl-C set, so a long-running loop finishes its batch and commits."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _calendar_date(text: str) -> date:
    """A YYYY-MM-DD option: an impossible day (2026-02-30) is named as such, not as a format mismatch."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise typer.BadParameter(f"{text} is not a date: use YYYY-MM-DD")
    year, month, day = map(int, text.split("-"))
    try:
        return date(year, month, day)
    except ValueError as error:
        raise typer.BadParameter(f"{text} is not a date: {error}") from None


def _date_option(*names: str, help: str) -> Any:
    return typer.Option(*names, parser=_calendar_date, metavar="YYYY-MM-DD", help=help)


def _port_option(help: str) -> Any:
    return typer.Option(min=1, max=65535, help=help)


def _require_free_port(host: str, port: int) -> None:
    """Fail in one line before a server starts on an address it cannot have (the servers say so late,
    in a traceback or a log of their own). The probe binds as they do, with address reuse on."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        reason = (
            "already in use: stop what listens there or pick another --port"
            if error.errno == errno.EADDRINUSE
            else error.strerror or str(error)
        )
        raise ServeError(f"cannot listen on {host}:{port}: {reason}") from None


StartOption = Annotated[date | None, _date_option(help="First day (default: so the run ends yesterday).")]
StoresOption = Annotated[int, typer.Option(help="How many stores of the catalog (first ones by id).")]
DaysOption = Annotated[int, typer.Option(help="How many consecutive days per store.")]
SeedOption = Annotated[int, typer.Option(min=0, help="Random seed: the same seed gives the same events.")]
ListLengthOption = Annotated[int, typer.Option(min=1, help="Length of each recommendation list.")]
TestDaysOption = Annotated[
    int, typer.Option(min=1, help="Last days held out for the test; as many before them tune the models.")
]
CamerasOption = Annotated[
    CameraSource,
    typer.Option(help="Camera tracks: the stand-in tracker, or rendered frames through the real pipeline."),
]


@app.command()
def config() -> None:
    """Print the effective settings (environment variables WALKOUT_*, then walkout.env, then defaults)."""
    table = Table("variable", "value", "meaning")
    for row in get_settings().as_rows():
        table.add_row(*row)
    console.print(table)


@broker_app.command("start")
def broker_start() -> None:
    """Start the embedded broker in the background (no-op if it already runs)."""
    state = EmbeddedBroker(get_settings()).start()
    console.print(f"broker running: pid {state.pid}, bootstrap {state.bootstrap}, log {state.log_file}")


@broker_app.command("stop")
def broker_stop() -> None:
    """Stop the embedded broker of this data directory (its in-memory topics are lost)."""
    state = EmbeddedBroker(get_settings()).stop()
    console.print("no broker was running" if state is None else f"broker stopped (pid {state.pid})")


@broker_app.command("status")
def broker_status() -> None:
    """Say whether the embedded broker runs; exit code 3 when it does not."""
    settings = get_settings()
    if settings.kafka_bootstrap is not None:
        console.print(f"using the external cluster {settings.kafka_bootstrap}; no embedded broker")
        return
    state = EmbeddedBroker(settings).status()
    if state is None:
        console.print("broker: not running")
        raise typer.Exit(3)
    console.print(f"broker: running, pid {state.pid}, bootstrap {state.bootstrap}")


@topics_app.command("create")
def topics_create() -> None:
    """Create every contract topic that does not exist yet (partitions keyed by store)."""
    created = create_topics(get_settings())
    console.print(f"created {len(created)} topics: {', '.join(created)}" if created else "all topics exist")


@topics_app.command("list")
def topics_list() -> None:
    """List topics and their partition counts."""
    table = Table("topic", "partitions")
    for name, partitions in sorted(list_topics(get_settings()).items()):
        table.add_row(name, str(partitions))
    console.print(table)


@app.command()
def simulate(
    stores: StoresOption = 1,
    days: DaysOption = 1,
    seed: SeedOption = 7,
    start: StartOption = None,
    speed: Annotated[
        Speed, typer.Option(help="realtime paces events by the clock; max sends at once.")
    ] = Speed.MAX,
    fault: Annotated[
        list[str] | None,
        typer.Option(help="Override a fault rate, e.g. --fault late_rate=0.05 (repeatable)."),
    ] = None,
    cameras: CamerasOption = CameraSource.STAND_IN,
) -> None:
    """Simulate store-days and publish their edge events to Kafka, with ground truth under the data dir."""
    from twin.report import summary_tables
    from twin.run import fault_rates, ground_truth_dir, plan_for, simulate_to_kafka
    from walkout.catalog import load_catalog

    settings = get_settings()
    faults = fault_rates(fault or [])
    plan = plan_for(
        load_catalog(), stores, days, seed, start, faults, cameras, gate_key=settings.secret("gate_key")
    )
    with Progress(console=console, transient=True) as progress:
        summary = simulate_to_kafka(settings, plan, speed, progress)
    for table in summary_tables(summary):
        console.print(table)
    console.print(f"ground truth: {ground_truth_dir(settings)}")


@checkout_app.command("run")
def checkout_run(
    instance: Annotated[str, typer.Option(help="Name of this instance (its state snapshot).")] = "0",
    idle_exit: Annotated[
        float | None,
        typer.Option(min=0, help="Replay mode: decide everything and exit after this many idle seconds."),
    ] = None,
) -> None:
    """Consume the edge topics and publish visits, dwell paths and receipts until SIGTERM or Ctrl-C."""
    from realtime.checkout.service import run_checkout

    console.print("checkout service running; Ctrl-C or SIGTERM stops it cleanly")
    stats = run_checkout(get_settings(), stop=_stop_on_signals(), idle_exit_s=idle_exit, instance=instance)
    console.print(
        f"read {stats.records} records ({stats.duplicates} duplicates); published {dict(stats.published)}"
    )


@checkout_app.command("evaluate")
def checkout_evaluate(
    stores: StoresOption = 1,
    days: DaysOption = 1,
    seed: SeedOption = 7,
    start: StartOption = None,
    cameras: CamerasOption = CameraSource.STAND_IN,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Simulate through the real broker and the real service, then score receipts against ground truth."""
    from twin.checkout_evaluate import evaluate_checkout
    from twin.run import plan_for
    from walkout.catalog import load_catalog

    settings = get_settings()
    plan = plan_for(
        load_catalog(), stores, days, seed, start, cameras=cameras, gate_key=settings.secret("gate_key")
    )
    score = evaluate_checkout(plan, settings.kafka_bootstrap)
    if as_json:
        print(json.dumps(score.as_dict()))
        return
    table = Table(
        "measure", "value", title=f"checkout vs ground truth: {stores} stores x {days} days, seed {seed}"
    )
    for name, value in score.as_dict().items():
        table.add_row(name.replace("_", " "), f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(table)


@land_app.command("run")
def land_run(
    idle_exit: Annotated[
        float | None, typer.Option(min=0, help="Land what is there and exit after this many idle seconds.")
    ] = None,
) -> None:
    """Land every contract topic under <data dir>/lake until SIGTERM or Ctrl-C (fsync, then commit)."""
    from realtime.lander import run_lander

    settings = get_settings()
    console.print(f"landing into {settings.lake_dir}; Ctrl-C or SIGTERM stops it cleanly")
    stats = run_lander(settings, stop=_stop_on_signals(), idle_exit_s=idle_exit)
    console.print(
        f"read {stats.records_read} records; landed {dict(stats.rows_landed)}; "
        f"{stats.duplicates_skipped} duplicates skipped; {stats.dead_lettered} dead-lettered"
    )


@land_app.command("compact")
def land_compact() -> None:
    """Merge each lake partition's small files into one (safe beside a running lander)."""
    from realtime.lander import compact_lake

    console.print(f"compacted {compact_lake(get_settings())} partitions")


@land_app.command("backfill")
def land_backfill(
    stores: StoresOption = 1,
    days: DaysOption = 28,
    seed: SeedOption = 7,
    start: StartOption = None,
) -> None:
    """Land simulated history without Kafka: the twin's store-days replayed through checkout offline."""
    from twin.backfill import backfill
    from twin.run import plan_for
    from walkout.catalog import load_catalog

    settings = get_settings()
    plan = plan_for(load_catalog(), stores, days, seed, start, gate_key=settings.secret("gate_key"))
    with console.status(f"backfilling {stores} store(s) x {days} days from {plan.start}"):
        summary = backfill(settings, plan)
    console.print(
        f"{summary.store_days} store-days landed, {summary.skipped_store_days} already there; "
        f"rows {dict(summary.rows_landed)} in {summary.seconds:.0f} s"
    )


@warehouse_app.command("build")
def warehouse_build(
    day: Annotated[
        date | None, _date_option("--date", help="Rebuild only this lake date's daily models.")
    ] = None,
) -> None:
    """Materialize the warehouse job (lake, dbt models and checks, published copy) as the UI would."""
    from orchestration.build import build_warehouse

    with console.status("building the warehouse (Dagster job: dbt build and checks, publish)"):
        build = build_warehouse(get_settings(), day.isoformat() if day else None)
    table = Table("mart", "rows", title=f"published marts: {build.published_path}")
    for mart, rows in sorted(build.mart_rows.items()):
        table.add_row(mart, f"{rows:,}")
    console.print(table)
    first, last = build.lake_dates
    console.print(
        f"run {build.run_id}: lake dates {first}..{last}, {build.checks_passed} checks passed, "
        f"{build.seconds:.0f} s"
    )
    for warning in build.warnings:
        console.print(f"[yellow]warning:[/yellow] check {warning} did not pass")


@warehouse_app.command("sources")
def warehouse_sources() -> None:
    """Write dbt's lake source (columns, types, descriptions) from the contracts; commit the result."""
    from walkout.lake import write_dbt_sources

    console.print(f"wrote {write_dbt_sources()}")


@app.command()
def ui(port: Annotated[int, _port_option("Port of the Dagster UI.")] = 3000) -> None:
    """Start the Dagster UI on this data directory's instance, until Ctrl-C."""
    import os
    import subprocess

    from orchestration.instance import UI_HOST, dagster_ui_command

    _require_free_port(UI_HOST, port)
    command = dagster_ui_command(get_settings(), port)
    console.print(f"Dagster UI at {command.url} (Ctrl-C stops it)")
    try:
        sys.exit(subprocess.run(command.argv, env=os.environ | command.env, check=False).returncode)
    except KeyboardInterrupt:
        sys.exit(130)


@app.command()
def dashboard(
    port: Annotated[int, _port_option("Port of the marketers' app.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")] = (
        "127.0.0.1"
    ),
) -> None:
    """Start the marketers' dashboards (Streamlit, read-only) until Ctrl-C."""
    _require_free_port(address, port)
    from dashboards.server import run_dashboard, url

    console.print(f"dashboards at {url(port, address)} (Ctrl-C stops them)")
    run_dashboard(port, address)


@recsys_app.command("evaluate")
def recsys_evaluate(
    interactions: Annotated[
        Path, typer.Option(help="CSV or Parquet with shopper_id, product_id, ts, quantity (weight optional).")
    ],
    k: ListLengthOption = 10,
    test_days: TestDaysOption = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Tune ALS, BPR and item-item models and compare them with popularity and personal frequency."""
    from recsys.evaluate import evaluate_interactions
    from recsys.interactions import read_interactions
    from recsys.report import evaluation_table

    evaluation = evaluate_interactions(read_interactions(interactions), k, test_days)
    if as_json:
        print(json.dumps(evaluation.as_dict()))
        return
    console.print(evaluation_table(evaluation.as_dict()))


@recsys_app.command("train")
def recsys_train(
    k: ListLengthOption = 10,
    test_days: TestDaysOption = 7,
) -> None:
    """Evaluate, tune and train a new model version from the published warehouse, as its Dagster asset."""
    from recsys.artifact import artifact_dir
    from recsys.report import evaluation_table
    from recsys.train import train_from_warehouse

    settings = get_settings()
    directory = artifact_dir(settings.data_dir)
    model = train_from_warehouse(settings.published_warehouse_path, directory, k, test_days)
    evaluation = model.manifest["evaluation"]
    console.print(
        f"model {model.version}: {len(model.history.shoppers)} shoppers x {len(model.history.products)} "
        f"products, in {directory.resolve()}"
    )
    if evaluation is None:
        console.print(f"not evaluated: {model.manifest['evaluation_skipped']}")
        return
    console.print(evaluation_table(evaluation))


@ads_app.command("serve")
def ads_serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, _port_option("Port to listen on.")] = 8000,
) -> None:
    """Serve ads to the screens (and the member app) until Ctrl-C, following the live topics in Kafka."""
    _require_free_port(host, port)
    from recsys.api.app import serve
    from recsys.api.keys import master_key

    settings = get_settings()
    master_key(settings)  # an unset key is refused in one line before anything is announced or started
    console.print(f"ad API at http://{host}:{port} (docs at /docs); Ctrl-C stops it")
    serve(settings, host, port)


@ads_app.command("keys")
def ads_keys() -> None:
    """Print each ad screen's key and the member app's key (derived from WALKOUT_AD_API_KEY)."""
    from recsys.api.keys import master_key, member_app_key, screen_key, screens_of
    from walkout.catalog import load_catalog

    settings = get_settings()
    master = master_key(settings)
    demo = settings.ad_api_key is None  # the key resolved, so the demo keys were asked for
    title = f"{'PUBLIC DEMO ' if demo else ''}ad API keys (Authorization: Bearer <key>)"
    table = Table("caller", "store", "zone", "key", title=title)
    for screen_id, screen in sorted(screens_of(load_catalog()).items()):
        table.add_row(screen_id, screen.store.store_id, screen.screen.zone_id, screen_key(master, screen_id))
    table.add_row("member app", "", "", member_app_key(master))
    console.print(table)
    if demo:
        console.print("[yellow]demo keys:[/yellow] anyone can derive them: set WALKOUT_AD_API_KEY in a store")


@vision_app.command("track")
def vision_track(
    video: Annotated[str, typer.Option(help="Video file, rtsp:// (or http://) URL, or device number.")],
    config: Annotated[
        Path | None, typer.Option(help="The camera's YAML (calibration, zones, detector, tracker).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Track shoppers in a ceiling camera's video: detections per frame, tracks, frames per second."""
    from ingestion.camera.ceiling import track_video

    summary = track_video(video, config).summary()
    if as_json:
        print(json.dumps(summary))
        return
    detections = summary["detections_per_frame"]
    console.print(
        f"{summary['frames']} frames ({summary['video_fps']} fps video) at {summary['fps']} frames/s; "
        f"{summary['tracks']} tracks; {sum(detections) / max(len(detections), 1):.2f} detections per frame"
        + ("" if summary["calibrated"] else " (no --config: positions are not on the floor plan)")
    )


@vision_app.command("faces")
def vision_faces(
    image: Annotated[Path, typer.Option(help="An entrance camera image (any format OpenCV reads).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Faces in an image with their estimated age band and gender (nothing is stored)."""
    from ingestion.camera.entrance import estimate_faces

    faces = [face.as_dict() for face in estimate_faces(image)]
    if as_json:
        print(json.dumps({"faces": faces}))
        return
    table = Table(
        "box", "face", "age band", "age conf.", "gender", "gender conf.", title=f"{len(faces)} faces"
    )
    for face in faces:
        table.add_row(
            str(face["box"]),
            f"{face['face_confidence']:.2f}",
            str(face["age_band"]),
            f"{face['age_confidence']:.2f}",
            str(face["gender"]),
            f"{face['gender_confidence']:.2f}",
        )
    console.print(table)


ClipStore = Annotated[str, typer.Option(help="Store of the catalog whose ceiling is rendered.")]
ClipVisits = Annotated[int, typer.Option(min=1, help="Visits of the simulated day moved into the clip.")]
ClipSeconds = Annotated[float, typer.Option(min=1.0, help="Length of the clip.")]
ClipSeed = Annotated[int, typer.Option(min=0, help="Seed of the simulated day and the rendering.")]


@vision_app.command("evaluate")
def vision_evaluate(
    store: ClipStore = "S002",
    visits: ClipVisits = 12,
    seconds: ClipSeconds = 60.0,
    seed: ClipSeed = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Score the ceiling pipeline on rendered frames of the twin: MOTA, IDF1, position error."""
    from twin.camera_clips import ClipRequest, evaluate_tracking

    evaluation = evaluate_tracking(ClipRequest(store, seed, visits, seconds))
    if as_json:
        print(json.dumps(evaluation.as_dict()))
        return
    table = Table(
        "measure", "value", title=f"ceiling tracking vs truth: {store}, {visits} visits in {seconds:.0f} s"
    )
    for name, value in evaluation.as_dict().items():
        table.add_row(name.replace("_", " "), f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(table)


@vision_app.command("render")
def vision_render(
    out: Annotated[Path, typer.Option(help="Directory for the video, its camera YAML and its truth.")],
    store: ClipStore = "S002",
    visits: ClipVisits = 12,
    seconds: ClipSeconds = 30.0,
    seed: ClipSeed = 7,
) -> None:
    """Render a synthetic ceiling-camera clip of the twin's shoppers (to try `walkout vision track`)."""
    from twin.camera_clips import ClipRequest, render_clip

    video, config = render_clip(ClipRequest(store, seed, visits, seconds), out)
    console.print(
        f"video {video}\ncamera config {config}\ntry: walkout vision track --video {video} --config {config}"
    )


@forecast_app.command("backtest")
def forecast_backtest(
    sales: Annotated[
        Path, typer.Option(help="CSV or Parquet: series_id or product_id [+ store_id], date, quantity.")
    ],
    horizon: Annotated[int, typer.Option(help="Days ahead each fold forecasts.")] = 7,
    folds: Annotated[int, typer.Option(help="Rolling origins, each scored on the next --horizon days.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Backtest the demand models on daily sales (missing days are zero) against the seasonal naive."""
    from forecasting.backtest import backtest_sales_file
    from forecasting.report import backtest_table

    backtest = backtest_sales_file(sales, horizon, folds)
    if as_json:
        print(json.dumps(backtest.as_dict()))
        return
    console.print(backtest_table(backtest.as_dict()))


@app.command()
def demo(
    cameras: Annotated[
        CameraSource | None,
        typer.Option(help="Camera tracks of the streamed day (default: WALKOUT_DEMO_CAMERAS)."),
    ] = None,
) -> None:
    """Run the main job end to end on the embedded defaults and print what happened."""
    import os

    from cli.demo import run_demo

    os.environ["WALKOUT_DEMO_KEYS"] = "1"  # the demo asks for the public demo keys (a set key still wins)
    get_settings.cache_clear()
    settings = get_settings()
    if cameras is not None:
        settings = settings.model_copy(update={"demo_cameras": cameras})
    run_demo(settings, console)


def _fail(message: str, exit_code: int = 1) -> NoReturn:
    print(f"walkout: error: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(exit_code)


def _shows_tracebacks() -> bool:
    try:
        return get_settings().log_level.upper() == "DEBUG"
    except WalkoutError:  # unreadable settings: the error at hand is still the one to report
        return False


_interrupted = threading.Event()


def _on_ctrl_c(signum: int, frame: object) -> None:
    _interrupted.set()
    raise KeyboardInterrupt


def main() -> None:
    """Entry point: every failure is one line on stderr and a non-zero exit, never a traceback
    (a bad command line exits 2, anything else 1; Ctrl-C exits 130)."""
    # SIGTERM unwinds like Ctrl-C, so a broker started for a command is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    # kafka-python's event loop can catch the KeyboardInterrupt into a request that then fails:
    # remember the Ctrl-C, so it still ends the command as one (130), not as that failure.
    _interrupted.clear()  # a Ctrl-C of an earlier call in this process (tests call main()) is not this one's
    signal.signal(signal.SIGINT, _on_ctrl_c)
    try:
        sys.exit(app(standalone_mode=False))  # typer's own exit code (Ctrl-C: 130), else 0
    except typer.TyperException as error:  # a bad command line
        if message := error.format_message():  # empty for a bare group: typer printed its help
            _fail(message, error.exit_code)
        sys.exit(error.exit_code)
    except Exception as error:
        if _interrupted.is_set():
            _fail("interrupted", 130)
        if isinstance(error, WalkoutError):
            _fail(str(error))
        if _shows_tracebacks():
            traceback.print_exc()
        detail = f": {error}" if str(error) else ""
        _fail(f"unexpected {type(error).__name__}{detail} (WALKOUT_LOG_LEVEL=DEBUG shows the traceback)")
