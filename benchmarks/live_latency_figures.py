"""What the live latency benchmark measures and prints: the window's exits, what each broker's side sent
and got back, the latencies, and the tables. Imported by ``live_latency.py``, the script to run."""

from __future__ import annotations

import argparse
import bisect
import itertools
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from realtime.checkout.fusion import DEFAULT_PARAMS
from realtime.checkout.ordering import GRACE_S
from twin.run import StoreDay
from walkout.catalog import load_catalog
from walkout.contracts import EDGE_TOPICS, GateDirection, GateScan, ScanOutcome
from walkout.settings import Settings

LOOKAHEAD_S = DEFAULT_PARAMS.lookahead_s  # the checkout's, as the service runs it
DECIDED_AFTER_S = LOOKAHEAD_S + GRACE_S  # every stream this far past an exit scan decides it
QUIET_AFTER_S = 15.0  # nobody else in the store from an exit this long: a quiet exit


@dataclass(frozen=True)
class Exit:
    """A visit of the window that leaves in it: what the checkout must decide, and what it should find."""

    visit_id: str  # the checkout's id: store and QR token
    truth_id: str
    sent_at: float  # simulated instant its exit scan (first copy) left the store
    scan_ts: float
    quiet: bool
    expects_receipt: bool
    clock: str  # store time of the exit scan


@dataclass
class Sink:
    """One broker's side: what was sent to it, when (wall), and what its reader got back, when."""

    name: str
    heartbeats: bool
    settings: Settings
    sent: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # topic → (ts, wall)
    exit_walls: dict[str, float] = field(default_factory=dict)  # visit id → wall when its exit left
    receipts: dict[str, float] = field(default_factory=dict)  # visit id → wall when its receipt arrived
    closed: dict[str, float] = field(default_factory=dict)  # visit id → wall when its closed visit arrived
    service_says: str = ""


@dataclass
class Outcome:
    """One sink's measured exits: latencies in simulated and wall seconds, and what never came."""

    latency_sim: dict[str, float] = field(default_factory=dict)  # visit id → exit → receipt
    latency_wall: dict[str, float] = field(default_factory=dict)
    nothing_taken: list[str] = field(default_factory=list)  # decided, no receipt
    pending: list[str] = field(default_factory=list)  # no decision when the replay ended
    held_sim: dict[str, float] = field(default_factory=dict)  # waiting for event time
    pipeline_wall: dict[str, float] = field(default_factory=dict)  # after it
    last_stream: dict[str, str] = field(default_factory=dict)  # the topic that got there last


def command_line(args: argparse.Namespace) -> str:
    live = " --live" if args.live else ""
    live += " --each" if args.each else ""
    return (
        f".venv/bin/python benchmarks/live_latency.py --store {args.store} --seed {args.seed} "
        f"--day {args.day} --from {args.start} --hours {args.hours:g} --speed {args.speed:g}{live} "
        f"--drain {args.drain:g}"
    )


def window_of(store_day: StoreDay, start: str, hours: float) -> tuple[float, float]:
    zone = ZoneInfo(load_catalog().store(store_day.store_id).timezone)
    hour, minute = (int(part) for part in start.split(":"))
    began = datetime.combine(store_day.day, datetime.min.time(), tzinfo=zone) + timedelta(
        hours=hour, minutes=minute
    )
    return began.timestamp(), began.timestamp() + hours * 3600.0


def exits_of(store_day: StoreDay, start: float, end: float) -> list[Exit]:
    """The visits that enter and leave within the window, each with its exit scan's first send."""
    zone = ZoneInfo(load_catalog().store(store_day.store_id).timezone)
    visits = store_day.truth.visits
    with_lines = set(store_day.truth.receipts["visit_id"].to_list())
    stays = [
        (row["entered_at"].timestamp(), row["exited_at"].timestamp()) for row in visits.iter_rows(named=True)
    ]
    first_exit: dict[str, tuple[float, float]] = {}
    for at, event in store_day.events:
        if (
            isinstance(event, GateScan)
            and event.direction is GateDirection.EXIT
            and event.outcome is ScanOutcome.ACCEPTED
            and event.token_id is not None
            and event.token_id not in first_exit
        ):
            first_exit[event.token_id] = (at, event.ts.timestamp())
    exits = []
    for row in visits.iter_rows(named=True):
        entered, left = row["entered_at"].timestamp(), row["exited_at"].timestamp()
        scan = first_exit.get(row["token_id"])
        if not start <= entered or scan is None or not scan[0] < end:
            continue
        others = [
            (came, went) for came, went in stays if (came, went) != (entered, left)
        ]  # was anyone else inside until the exit could be decided?
        quiet = not any(came <= scan[1] + QUIET_AFTER_S and went >= scan[1] for came, went in others)
        exits.append(
            Exit(
                f"{store_day.store_id}-{row['token_id']}",
                row["visit_id"],
                scan[0],
                scan[1],
                quiet,
                row["visit_id"] in with_lines,
                f"{datetime.fromtimestamp(scan[1], zone):%H:%M:%S}",
            )
        )
    return sorted(exits, key=lambda one: one.sent_at)


def list_visits(store_day: StoreDay) -> None:
    zone = ZoneInfo(load_catalog().store(store_day.store_id).timezone)
    with_lines = set(store_day.truth.receipts["visit_id"].to_list())
    print(f"{store_day.store_id} {store_day.day}: visits (store time), * = took something")
    for row in store_day.truth.visits.sort("entered_at").iter_rows(named=True):
        came, went = row["entered_at"].astimezone(zone), row["exited_at"].astimezone(zone)
        mark = "*" if row["visit_id"] in with_lines else " "
        print(f"  {row['visit_id']}  in {came:%H:%M:%S}  out {went:%H:%M:%S} {mark}")


def measure(sink: Sink, exits: list[Exit], speed: float) -> Outcome:
    outcome = Outcome()
    reached = {  # per topic: the running max of event time, and when each message was sent (wall)
        topic: (list(itertools.accumulate((ts for ts, _ in sent), max)), [wall for _, wall in sent])
        for topic, sent in sink.sent.items()
    }
    for one in exits:
        left = sink.exit_walls.get(one.visit_id)
        arrived = sink.receipts.get(one.visit_id)
        if left is None or (arrived is None and one.visit_id not in sink.closed):
            outcome.pending.append(one.visit_id)
            continue
        if arrived is None:
            outcome.nothing_taken.append(one.visit_id)
            continue
        outcome.latency_wall[one.visit_id] = arrived - left
        outcome.latency_sim[one.visit_id] = (arrived - left) * speed
        enabled = _enabled_at(reached, one.scan_ts + DECIDED_AFTER_S)
        if enabled is not None:
            outcome.held_sim[one.visit_id] = (enabled[0] - left) * speed
            outcome.pipeline_wall[one.visit_id] = arrived - enabled[0]
            outcome.last_stream[one.visit_id] = enabled[1]
    return outcome


def _enabled_at(
    reached: dict[str, tuple[list[float], list[float]]], needed: float
) -> tuple[float, str] | None:
    """The wall instant the last stream reached ``needed`` in event time, and which stream that was
    (None: one never did). The service compares the same floats: the ms timestamps of the wire."""
    walls = []
    for topic, (progress, sent) in reached.items():
        index = bisect.bisect_left(progress, needed)
        if index == len(progress):
            return None
        walls.append((sent[index], topic))
    return max(walls)


def next_shopper_wait(store_day: StoreDay, one: Exit) -> float:
    """Without heartbeats, how long (simulated) after its exit the day's later events alone move every
    stream far enough to decide it: at the earliest, when the next shopper's messages arrive."""
    needed = one.scan_ts + DECIDED_AFTER_S
    reached: dict[str, float] = {}
    for at, event in store_day.events:
        if event.ts.timestamp() >= needed:
            reached.setdefault(event.TOPIC, at)
        if len(reached) == len(EDGE_TOPICS):
            return max(reached.values()) - one.sent_at
    return math.inf


def percentile(values: list[float], q: float) -> float:
    """Nearest rank (numpy's inverted CDF): of few values, the p99 is the largest."""
    return float(np.percentile(values, q * 100, method="inverted_cdf")) if values else math.nan


def seconds(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def row(label: str, exits: list[Exit], outcome: Outcome) -> str:
    ids = {one.visit_id for one in exits}
    sim = [value for key, value in outcome.latency_sim.items() if key in ids]
    wall = [value for key, value in outcome.latency_wall.items() if key in ids]
    figures = " | ".join(seconds(percentile(sim, q)) for q in (0.5, 0.95, 0.99, 1.0))
    nothing = len([key for key in outcome.nothing_taken if key in ids])
    pending = len([key for key in outcome.pending if key in ids])
    return (
        f"| {label} | {len(exits)} | {len(sim)} | {figures} | {seconds(percentile(wall, 0.99), 2)} "
        f"| {nothing} | {pending} |"
    )


def print_each(
    store_day: StoreDay, exits: list[Exit], beating: Outcome, baseline: Outcome, live: bool
) -> None:
    print(
        "\n| exit (store time) | visit | quiet | receipt s | waiting for event time s | pipeline s "
        "| last stream there | without heartbeats s |"
    )
    print("|---|---|---|---:|---:|---:|---|---:|")
    for one in exits:
        key = one.visit_id
        if key in baseline.latency_sim:
            without = f"{baseline.latency_sim[key]:.1f}"
        elif key in baseline.pending and not live:
            without = f"pending (next shopper: {next_shopper_wait(store_day, one):.0f})"
        else:
            without = "nothing taken" if key in baseline.nothing_taken else "pending"
        receipt = (
            f"{beating.latency_sim[key]:.1f}"
            if key in beating.latency_sim
            else ("nothing taken" if key in beating.nothing_taken else "pending")
        )
        held = seconds(beating.held_sim.get(key, math.nan), 2)
        piped = seconds(beating.pipeline_wall.get(key, math.nan), 2)
        print(
            f"| {one.clock} | {one.truth_id} | {'quiet' if one.quiet else 'busy'} | {receipt} | {held} "
            f"| {piped} | {beating.last_stream.get(key, '-')} | {without} |"
        )


def report(
    args: argparse.Namespace,
    store_day: StoreDay,
    exits: list[Exit],
    sinks: list[Sink],
    outcomes: dict[str, Outcome],
    heartbeats: int,
    replayed: int,
    wall_s: float,
) -> None:
    quiet = [one for one in exits if one.quiet]
    busy = [one for one in exits if not one.quiet]
    mode = "live (re-dated to now)" if args.live else "replay of a past day"
    print(
        f"\n{args.store} {args.day} seed {args.seed}, {args.start} + {args.hours:g} h store time at "
        f"{args.speed:g}x ({mode}): {replayed:,} edge messages, {heartbeats:,} heartbeats, "
        f"{wall_s / 60:.1f} min wall; {len(exits)} exits ({len(quiet)} quiet, {len(busy)} busy)\n"
    )
    print("| run | exits | receipts | p50 s | p95 s | p99 s | max s | wall p99 s | nothing taken | pending |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for sink in sinks:
        label = "heartbeats" if sink.heartbeats else "no heartbeats (baseline)"
        for part, chosen in (("quiet", quiet), ("busy", busy), ("all", exits)):
            print(row(f"{label}, {part}", chosen, outcomes[sink.name]))
    print("\n(seconds of simulated time from the exit scan's send to the receipt at the reader)")
    beating = outcomes[sinks[0].name]
    if beating.held_sim:
        held, piped = list(beating.held_sim.values()), list(beating.pipeline_wall.values())
        same = [beating.held_sim[key] + beating.pipeline_wall[key] for key in beating.held_sim]
        print(f"\n| with heartbeats, where it goes ({len(held)} receipts) | p50 s | p99 s | max s |")
        print("|---|---:|---:|---:|")
        for label, values in (
            (
                f"waiting for event time: look-ahead {LOOKAHEAD_S:g} + grace {GRACE_S:g} + beat (simulated)",
                held,
            ),
            ("pipeline after it: producer, broker, service, reader (wall)", piped),
            ("1x equivalent (their sum)", same),
        ):
            figures = " | ".join(seconds(percentile(values, q), 2) for q in (0.5, 0.99, 1.0))
            print(f"| {label} | {figures} |")
    baseline = outcomes[sinks[1].name]
    if baseline.pending and not args.live:
        waits = [next_shopper_wait(store_day, one) for one in exits if one.visit_id in baseline.pending]
        print(
            f"baseline: {len(baseline.pending)} exits still pending when the replay ended; the day's later "
            f"events would decide them {min(waits) / 60:.1f} to {max(waits) / 60:.1f} min after their exit "
            "at the earliest (the next shopper)"
        )
    if args.each:
        print_each(store_day, exits, outcomes[sinks[0].name], outcomes[sinks[1].name], args.live)
    for sink in sinks:
        print(f"checkout ({sink.name}): {sink.service_says}")
    print(f"reproduce: {command_line(args)}")
