"""The digital twin: deterministic, plausible, faulty on purpose, and scored against its ground truth."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest

from twin.run import (
    SimulationError,
    SimulationPlan,
    StoreDay,
    fault_rates,
    simulate_history,
    simulate_store_days,
)
from twin.sensors import (
    RESEND_AFTER_S,
    RESENT_TOPICS,
    EdgeOutput,
    FaultRates,
    apply_transport_faults,
)
from twin.trips import TripConfig
from walkout.catalog import RESTRICTED_CATEGORIES, load_catalog
from walkout.contracts import (
    CameraTrack,
    ContractError,
    EdgeHeartbeat,
    GateScan,
    ScanRejection,
    ShelfEvent,
    parse_event,
)
from walkout.kafka import drain, make_consumer
from walkout.settings import Settings


def fingerprint(store_days: list[StoreDay]) -> str:
    digest = hashlib.sha256()
    for store_day in store_days:
        for at, event in store_day.events:
            digest.update(f"{at:.3f}".encode() + event.to_bytes())
    return digest.hexdigest()


@pytest.mark.slow
def test_same_seed_same_events(simulated_day: list[StoreDay]) -> None:
    plan = SimulationPlan(("S002",), date(2026, 11, 18), 1, seed=11)
    assert fingerprint(list(simulate_store_days(load_catalog(), plan))) == fingerprint(simulated_day)


def test_history_is_the_truth_of_the_full_simulation(simulated_day: list[StoreDay]) -> None:
    plan = SimulationPlan(("S002",), date(2026, 11, 18), 1, seed=11)
    (history,) = simulate_history(load_catalog(), plan)
    (store_day,) = simulated_day
    for table in ("visits", "receipts", "stock", "stockouts"):
        assert getattr(history, table).equals(getattr(store_day.truth, table)), table


@pytest.mark.slow
def test_a_warmed_up_twin_continues_the_history_stock() -> None:
    catalog = load_catalog()
    history = list(simulate_history(catalog, SimulationPlan(("S002",), date(2026, 11, 16), 3, seed=11)))
    plan = SimulationPlan(("S002",), date(2026, 11, 18), 1, seed=11, warm_up_days=2)
    (continued,) = simulate_store_days(catalog, plan)
    assert continued.truth.stock.equals(history[-1].stock)
    assert continued.truth.receipts.equals(history[-1].receipts)


@pytest.mark.slow
def test_other_seed_other_events(simulated_day: list[StoreDay]) -> None:
    plan = SimulationPlan(("S002",), date(2026, 11, 18), 1, seed=12)
    assert fingerprint(list(simulate_store_days(load_catalog(), plan))) != fingerprint(simulated_day)


def test_visits_baskets_and_dwell_are_plausible(simulated_day: list[StoreDay]) -> None:
    truth = simulated_day[0].truth
    visits = truth.visits.with_columns(
        seconds=(pl.col("exited_at") - pl.col("entered_at")).dt.total_seconds()
    )
    assert 120 <= visits.height <= 600  # a small store: a few hundred visits a day
    assert 45 <= visits["seconds"].median() <= 400  # type: ignore[operator]
    baskets = truth.receipts.group_by("visit_id").agg(pl.col("quantity").sum())
    assert 1.2 <= baskets["quantity"].mean() <= 4.0  # type: ignore[operator]
    assert 0.6 <= baskets.height / visits.height <= 0.98  # most visitors buy something
    actions = Counter(truth.hands["action"].to_list())
    assert 0.10 <= actions["put_back"] / actions["pick"] <= 0.20
    groups = visits.filter(pl.col("group_size") > 1).height / visits.height
    assert 0.05 <= groups <= 0.30
    assert visits["group_size"].max() <= 4  # type: ignore[operator]


def test_arrivals_follow_the_daily_rhythm(simulated_day: list[StoreDay]) -> None:
    hours = Counter(
        t.astimezone(ZoneInfo("Asia/Seoul")).hour
        for t in simulated_day[0].truth.visits["entered_at"].to_list()
    )
    assert hours[12] > 2 * hours[10]  # lunch peak
    assert hours[8] > hours[10]  # morning commute
    assert sum(hours[h] for h in range(6)) == 0  # S002 opens at 06:00


@pytest.fixture(scope="module")
def gaps_at_takes(simulated_day: list[StoreDay]) -> np.ndarray:
    """For every true hand on a plate, how far the nearest shopper of another visit stood from the taker."""
    truth = simulated_day[0].truth
    walks = {
        person: (rows["at"].dt.epoch("ms").to_numpy() / 1000, rows["x_m"].to_numpy(), rows["y_m"].to_numpy())
        for (person,), rows in truth.paths.sort("at").group_by("person_id")
    }
    visit_of = dict(zip(truth.people["person_id"], truth.people["visit_id"], strict=True))

    def position(person: str, at: float) -> np.ndarray:
        times, xs, ys = walks[person]
        return np.array([np.interp(at, times, xs), np.interp(at, times, ys)])

    gaps = []
    for hand in truth.hands.iter_rows(named=True):
        at, taker = hand["at"].timestamp(), position(hand["person_id"], hand["at"].timestamp())
        gaps.append(
            min(
                (
                    float(np.hypot(*(position(person, at) - taker)))
                    for person, (times, _, _) in walks.items()
                    if visit_of[person] != hand["visit_id"] and times[0] <= at <= times[-1]
                ),
                default=np.inf,
            )
        )
    return np.array(gaps)


def test_several_shoppers_at_one_shelf_at_once(gaps_at_takes: np.ndarray) -> None:
    """Takes with a shopper of another visit within reach of the plate: what attribution must untangle."""
    assert np.count_nonzero(gaps_at_takes < 1.2) >= 20


def test_shoppers_at_a_shelf_keep_their_bodies_apart(gaps_at_takes: np.ndarray) -> None:
    """Nobody of another visit stands on a taker's spot: they wait beside it until it is free (only a
    shopper walking past comes that close)."""
    assert len(gaps_at_takes) > 500
    assert np.count_nonzero(gaps_at_takes < 0.3) <= len(gaps_at_takes) // 200


def test_minors_never_take_restricted_items_and_restricted_hours_hold(simulated_day: list[StoreDay]) -> None:
    catalog = load_catalog()
    store = catalog.store("S002")
    truth = simulated_day[0].truth
    hands = truth.hands.join(truth.people, on=["person_id", "visit_id"])
    restricted = hands.filter(
        pl.col("product_id").map_elements(
            lambda product: catalog.product(product).category in RESTRICTED_CATEGORIES,
            return_dtype=pl.Boolean,
        )
    )
    assert restricted.filter(
        pl.col("age_band").is_in(["0-18", "unknown"]) & (pl.col("role") != "tailgater")
    ).is_empty()
    local_hours = [t.astimezone(ZoneInfo(store.timezone)).hour for t in restricted["at"].to_list()]
    assert all(store.restricted_sale_allowed(hour) for hour in local_hours)


def test_stock_stays_non_negative_and_deliveries_refill(simulated_day: list[StoreDay]) -> None:
    truth = simulated_day[0].truth
    assert truth.stock["units"].min() >= 0  # type: ignore[operator]
    assert truth.deliveries.height > 0


def test_shelf_detector_meets_the_floor_on_a_noisy_day(simulated_day: list[StoreDay]) -> None:
    score = simulated_day[0].shelf_score
    print(f"shelf detector on a noisy day: precision {score.precision:.4f}, recall {score.recall:.4f}")
    assert score.precision >= 0.98
    assert score.recall >= 0.98


def test_messages_the_transport_drops_are_kept_aside_for_scoring(simulated_day: list[StoreDay]) -> None:
    """What the twin's network lost never reaches Kafka, but the day keeps it, so a scorer can tell a
    receipt no checkout could get right from one the checkout got wrong."""
    store_day = simulated_day[0]
    sent = {event.event_id for _, event in store_day.events}
    assert 0 < len(store_day.lost) <= store_day.faults["dropped"]
    assert not sent & {event.event_id for event in store_day.lost}


def test_what_charges_a_shopper_leaves_the_edge_twice(simulated_day: list[StoreDay]) -> None:
    """Gate scans and shelf events are sent again a second later under the same id, so one lost
    message loses nothing; camera frames are not (the next one comes half a second later)."""
    (store_day,) = simulated_day
    sent_at: dict[str, list[float]] = {}
    for at, event in store_day.events:
        if event.TOPIC in RESENT_TOPICS:
            sent_at.setdefault(event.event_id, []).append(at)
    assert len(sent_at) > 100
    twice = [times for times in sent_at.values() if len(times) == 2]
    assert len(twice) / len(sent_at) > 0.95  # the rest were dropped, delayed or duplicated on the way
    assert sum(times[1] - times[0] == pytest.approx(RESEND_AFTER_S) for times in twice) / len(twice) > 0.95
    tracks = Counter(event.event_id for _, event in store_day.events if isinstance(event, CameraTrack))
    assert sum(count == 1 for count in tracks.values()) / len(tracks) > 0.95


def test_a_resent_message_is_lost_only_when_every_copy_is(simulated_day: list[StoreDay]) -> None:
    """Half the messages dropped: about a quarter of the resent events never arrive, half the frames."""
    (store_day,) = simulated_day
    edge = EdgeOutput()
    for at, event in {event.event_id: (at, event) for at, event in store_day.events}.values():
        edge.add(at, event)
    faults = FaultRates(dropped_rate=0.5, duplicated_rate=0.0, late_rate=0.0)
    sent = apply_transport_faults(np.random.default_rng(3), edge, faults)
    arrived = {event.event_id for _, event in sent}
    emitted = {event.event_id: event for _, event in edge.events}
    assert {event.event_id for event in edge.lost} == emitted.keys() - arrived

    def lost_share(resent: bool) -> float:
        ids = [event_id for event_id, event in emitted.items() if (event.TOPIC in RESENT_TOPICS) == resent]
        return sum(event_id not in arrived for event_id in ids) / len(ids)

    assert 0.2 < lost_share(resent=True) < 0.3
    assert 0.45 < lost_share(resent=False) < 0.55


def test_camera_tracks_are_noisy_estimates_not_the_truth(simulated_day: list[StoreDay]) -> None:
    store_day = simulated_day[0]
    tracks = pl.DataFrame(
        [(event.ts, event.x_m, event.y_m) for _, event in store_day.events if isinstance(event, CameraTrack)],
        schema={"at": pl.Datetime("ms", "UTC"), "track_x": pl.Float64, "track_y": pl.Float64},
        orient="row",
    )
    assert tracks["track_x"].is_between(0, 7.6).all()
    assert tracks["track_y"].is_between(0, 6.0).all()
    # Distance from each track sample to the nearest true position of anyone at that instant.
    nearest = (
        tracks.join(store_day.truth.paths, on="at")
        .with_columns(
            gap=((pl.col("track_x") - pl.col("x_m")) ** 2 + (pl.col("track_y") - pl.col("y_m")) ** 2).sqrt()
        )
        .group_by("at", "track_x", "track_y")
        .agg(pl.col("gap").min())
    )
    assert nearest.height > 1000
    assert 0.05 <= nearest["gap"].median() <= 0.3  # type: ignore[operator]
    assert store_day.faults["track_break"] > 0
    assert store_day.faults["track_id_switch"] > 0


def test_camera_tracks_show_how_each_shopper_looks(simulated_day: list[StoreDay]) -> None:
    """Each sample carries the colour its shopper shows from above, with noise: samples of one id look
    alike (until the tracker hands the id to someone else), ids of different shoppers mostly do not."""
    tracks = pl.DataFrame(
        [
            (event.track_id, *event.colour_lab)
            for _, event in simulated_day[0].events
            if isinstance(event, CameraTrack) and event.colour_lab is not None
        ],
        schema=["track_id", "l", "a", "b"],
        orient="row",
    )
    seen = tracks.height / sum(isinstance(event, CameraTrack) for _, event in simulated_day[0].events)
    assert 0.9 <= seen < 1.0  # now and then a shopper is not seen well enough to tell
    per_id = tracks.group_by("track_id").agg(pl.col("l", "a", "b").median(), pl.col("l").std().alias("l_sd"))
    assert per_id["l_sd"].median() < 10  # type: ignore[operator]
    assert per_id["l"].std() > 20  # type: ignore[operator]


def test_transport_faults_are_injected(simulated_day: list[StoreDay]) -> None:
    store_day = simulated_day[0]
    frames = Counter(event.event_id for _, event in store_day.events if isinstance(event, CameraTrack))
    assert 0 < sum(count - 1 for count in frames.values()) <= store_day.faults["duplicated"]
    assert store_day.faults["dropped"] > 0
    assert store_day.faults["late"] > 0
    sent_at = [at for at, _ in store_day.events]
    assert sent_at == sorted(sent_at)
    late = [event for at, event in store_day.events if at - event.ts.timestamp() > RESEND_AFTER_S + 1.0]
    assert late  # some events leave the edge well after they happened: out of order on the topic


@pytest.mark.slow
def test_qr_attacks_are_rejected_with_their_reasons() -> None:
    faults = FaultRates(
        expired_qr_rate=0.2, replayed_qr_rate=0.2, forged_qr_rate=0.2, wrong_store_qr_rate=0.2
    )
    plan = SimulationPlan(
        ("S002",), date(2026, 11, 19), 1, seed=5, faults=faults, trips=TripConfig(tailgating_rate=0.1)
    )
    store_day = next(iter(simulate_store_days(load_catalog(), plan)))
    scans = [event for _, event in store_day.events if isinstance(event, GateScan)]
    reasons = Counter(scan.rejection for scan in scans if scan.rejection is not None)
    for reason in (
        ScanRejection.EXPIRED,
        ScanRejection.REPLAYED,
        ScanRejection.BAD_SIGNATURE,
        ScanRejection.WRONG_STORE,
    ):
        assert reasons[reason] > 0, reasons
    tailgated = store_day.truth.visits.filter(pl.col("tailgaters") > 0).height
    assert sum(scan.tailgating for scan in scans) >= tailgated > 0


@pytest.mark.kafka
@pytest.mark.slow
def test_simulate_command_publishes_all_edge_topics(kafka_settings: Settings) -> None:
    environment = {**os.environ, "WALKOUT_DATA_DIR": str(kafka_settings.data_dir), "COLUMNS": "200"}
    if kafka_settings.kafka_bootstrap:
        environment["WALKOUT_KAFKA_BOOTSTRAP"] = kafka_settings.kafka_bootstrap
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "walkout",
            "simulate",
            "--stores",
            "1",
            "--days",
            "1",
            "--seed",
            "3",
            "--start",
            "2026-11-20",
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    print(result.stdout)
    for line in ("camera.tracks", "gate.scans", "shelf.events", "shelf detector precision", "duplicated"):
        assert line in result.stdout
    consumer = make_consumer(
        kafka_settings, "test-simulate", [GateScan.TOPIC, ShelfEvent.TOPIC, CameraTrack.TOPIC]
    )
    counts: Counter[str] = Counter()
    simulated = (datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 21, 12, tzinfo=UTC))
    for record in drain(consumer, expected=10**9, idle_timeout_s=5):
        # other tests share the session's broker (some send garbage): count this store-day's events only
        try:
            event = parse_event(record.value, record.topic)
        except ContractError:
            continue
        if event.store_id == "S001" and simulated[0] <= event.ts < simulated[1]:
            counts["heartbeats" if isinstance(event, EdgeHeartbeat) else event.TOPIC] += 1
    consumer.close()
    stated = {
        line.split("│")[1].strip(): int(line.split("│")[2])
        for line in result.stdout.splitlines()
        if line.count("│") == 3 and line.split("│")[1].strip() in counts
    }
    assert stated == dict(counts)
    assert counts["heartbeats"] > 0
    truth = kafka_settings.paths.ground_truth_dir
    for table in ("visits", "receipts", "hands", "paths", "stock"):
        assert list((truth / table).glob("store=S001/date=2026-11-20.parquet")), table
    visits = pl.read_parquet(truth / "visits" / "store=S001" / "date=2026-11-20.parquet")
    assert visits.height > 100
    assert all(json.loads(json.dumps(str(v))) for v in visits["visit_id"].to_list())
    assert datetime(2026, 11, 20, tzinfo=UTC) > visits["entered_at"].min()  # type: ignore[operator]
    assert np.isfinite(visits["group_size"].to_numpy()).all()


def test_fault_rates_are_configurable_by_name() -> None:
    assert fault_rates(["late_rate=0.25", "max_late_s=60"]) == FaultRates(late_rate=0.25, max_late_s=60.0)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("late=0.1", "unknown fault 'late'"),
        ("late_rate=lots", "needs a number"),
        ("dropped_rate=1.5", "out of range"),
        ("max_late_s=-1", "out of range"),
    ],
)
def test_bad_fault_overrides_name_what_is_wrong(override: str, message: str) -> None:
    with pytest.raises(SimulationError, match=message):
        fault_rates([override])
