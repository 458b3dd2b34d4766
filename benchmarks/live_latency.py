"""Live latency of the checkout: exit scan → published receipt, the twin in real time (or a multiple of
it) through quiet night hours and a busy morning, beside the same replay without the gateway's heartbeats.

One store-day is simulated; only a window of it (``--from HH:MM`` store time, ``--hours H``) is replayed
through the store gateway, paced by the twin's clock at ``--speed`` simulated seconds a wall second (the
gateway beats in simulated time, when each heartbeat falls due), to two fresh embedded brokers at once:
one is sent everything, the other the same messages at the same instants minus the heartbeats (the
baseline). Each broker has the real checkout service (``walkout checkout run``, a subprocess) and a
reader of ``purchases`` and ``visits``. ``--live`` (at 1x only) re-dates the window to start now, so the
service sees a live store (its wall-clock bounds apply) instead of a replay of a past day.

Measured for every visit that enters and leaves within the window: from the wall instant its exit scan
was sent to the wall instant its receipt reached the reader, in simulated seconds (wall x speed; at 1x
the same). A visit with nothing taken has no receipt: its closed visit is its decision. An exit is
*quiet* when nobody else was in the store from it until it could be decided (exit + 15 s): only the
gateway's heartbeats can then move the checkout on; *busy* otherwise. The latency splits into the wait
for event time (from the exit's send until the message that took every stream 12 s past the exit was
sent: look-ahead 10 s + grace 2 s, simulated seconds) and the pipeline after it (producer, broker,
service, reader: wall seconds, which a multiple inflates x speed in simulated seconds; their sum is the
1x equivalent). Exits undecided when the replay ends (``--drain`` simulated seconds after the window)
are pending; for the baseline's, the day's later events say when they would have been decided.

Run from the repository root (wall time: hours x 3600 / speed, plus about a minute):
    .venv/bin/python benchmarks/live_latency.py --from 02:30 --hours 6 --speed 10
    .venv/bin/python benchmarks/live_latency.py --from 00:45 --hours 0.5 --speed 1 --live
    .venv/bin/python benchmarks/live_latency.py --list      # the day's visits, to pick a window
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import itertools
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import numpy as np

from ingestion.gateway import StoreGateway
from realtime.checkout.fusion import DEFAULT_PARAMS
from realtime.checkout.ordering import GRACE_S
from twin.run import SimulationPlan, StoreDay, edge_to_kafka, pacer, simulate_store_days
from walkout.broker import kafka_available
from walkout.catalog import load_catalog
from walkout.contracts import (
    EDGE_TOPICS,
    EdgeHeartbeat,
    Event,
    GateDirection,
    GateScan,
    Purchase,
    ScanOutcome,
    Visit,
    VisitStatus,
    parse_event,
)
from walkout.kafka import create_topics, make_consumer
from walkout.settings import Settings

LOOKAHEAD_S = DEFAULT_PARAMS.lookahead_s  # the checkout's, as the service runs it
DECIDED_AFTER_S = LOOKAHEAD_S + GRACE_S  # every stream this far past an exit scan decides it
QUIET_AFTER_S = 15.0  # nobody else in the store from an exit this long: a quiet exit
SERVICE_JOIN_S = 10.0  # a consumer group join takes a few seconds on the embedded broker
SETTLE_WALL_S = 30.0  # after the drain, wait this long (wall) for the receipts still on their way


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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", default="S001")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 12, 6))
    parser.add_argument("--from", dest="start", default="02:00", help="window start, HH:MM store time")
    parser.add_argument("--hours", type=float, default=7.0, help="window length")
    parser.add_argument("--speed", type=float, default=10.0, help="simulated seconds a wall second")
    parser.add_argument("--live", action="store_true", help="re-date the window to start now (1x only)")
    parser.add_argument(
        "--drain", type=float, default=60.0, help="simulated s of heartbeats after the window"
    )
    parser.add_argument("--list", action="store_true", help="print the day's visits and exit")
    parser.add_argument("--each", action="store_true", help="also print every exit's figures")
    args = parser.parse_args()
    if args.live and args.speed != 1.0:
        parser.error("--live needs --speed 1: a faster clock would date events in the future")
    if not 0 < args.hours <= 24 or args.speed <= 0:
        parser.error("--hours must be in (0, 24] and --speed positive")
    return args


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


class Reader(threading.Thread):
    """Reads a broker's receipts and visits; notes the wall instant each visit's first arrived."""

    def __init__(self, sink: Sink) -> None:
        super().__init__(daemon=True, name=f"reader-{sink.name}")
        self.sink = sink
        self.joined = threading.Event()
        self.done = threading.Event()

    def run(self) -> None:
        consumer = make_consumer(self.sink.settings, "bench-live-reader", [Purchase.TOPIC, Visit.TOPIC])
        try:
            while not self.done.is_set():
                batches = consumer.poll(timeout_ms=100)
                now = time.monotonic()
                if consumer.assignment():
                    self.joined.set()
                for records in batches.values():
                    for record in records:
                        self.note(parse_event(record.value, record.topic), now)
        finally:
            consumer.close(autocommit=False)

    def note(self, event: Event, now: float) -> None:
        if isinstance(event, Purchase):
            self.sink.receipts.setdefault(event.visit_id, now)
        elif isinstance(event, Visit) and event.status is VisitStatus.CLOSED:
            self.sink.closed.setdefault(event.visit_id, now)


@contextlib.contextmanager
def checkout_service(sink: Sink, bootstrap: str, logs: Path) -> Iterator[None]:
    """``walkout checkout run`` against one broker; stopped with SIGTERM (a clean stop) at the end."""
    environment = {
        **os.environ,
        "WALKOUT_DATA_DIR": str(sink.settings.data_dir),
        "WALKOUT_KAFKA_BOOTSTRAP": bootstrap,
        "WALKOUT_DEMO_KEYS": "1",
    }
    out: IO[bytes]
    with (logs / f"checkout-{sink.name}.out").open("wb") as out:
        service = subprocess.Popen(
            [sys.executable, "-m", "walkout", "checkout", "run"], env=environment, stdout=out, stderr=out
        )
        try:
            yield
        finally:
            service.send_signal(signal.SIGTERM)
            try:
                service.wait(timeout=60)
            except subprocess.TimeoutExpired:
                service.kill()
                service.wait()
    said = (logs / f"checkout-{sink.name}.out").read_text(errors="replace")
    last = " ".join(said[said.rfind("read ") :].split()) if "read " in said else said.strip()[-300:]
    sink.service_says = f"exit {service.returncode}: {last}"


def redate(events: list[tuple[float, Event]], shift: float) -> list[tuple[float, Event]]:
    """The same events ``shift`` seconds later (sent and dated), as if the window happened now."""
    return [
        (at + shift, event.model_copy(update={"ts": event.ts + timedelta(seconds=shift)}))
        for at, event in events
    ]


def later(ts: float, shift: float) -> float:
    """A timestamp re-dated as :func:`redate` does it (datetime arithmetic), to the same float."""
    return (datetime.fromtimestamp(ts, UTC) + timedelta(seconds=shift)).timestamp()


def replay(
    events: list[tuple[float, Event]], start: float, end: float, speed: float, sinks: list[Sink]
) -> int:
    """Send the window through one gateway, paced by the twin's clock, to every sink (the baseline
    without heartbeats); returns the heartbeats sent."""
    senders = {}
    with contextlib.ExitStack() as stack:
        for sink in sinks:
            senders[sink.name] = stack.enter_context(edge_to_kafka(sink.settings))
            sink.sent = {topic: [] for topic in EDGE_TOPICS}

        def send(event: Event, topic: str) -> None:
            beat = isinstance(event, EdgeHeartbeat)
            for sink in sinks:
                if beat and not sink.heartbeats:
                    continue
                senders[sink.name](event, topic)
                wall = time.monotonic()
                sink.sent[topic].append((event.ts.timestamp(), wall))
                if isinstance(event, GateScan) and event.direction is GateDirection.EXIT and event.token_id:
                    sink.exit_walls.setdefault(f"{event.store_id}-{event.token_id}", wall)

        gateway = StoreGateway(events[0][1].store_id, send)
        wait_until = pacer(gateway, start, speed)
        gateway.advance(start)  # the gateway was up before the window: its topics beat from its start
        for at, event in events:
            wait_until(at)
            gateway.forward(at, event)
        wait_until(end)
        gateway.advance(end)
        return gateway.heartbeats


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


def main() -> None:
    args = parse_args()
    catalog = load_catalog()
    plan = SimulationPlan((args.store,), args.day, 1, args.seed)
    (store_day,) = simulate_store_days(catalog, plan)
    if args.list:
        list_visits(store_day)
        return
    if Settings().kafka_bootstrap is not None:
        sys.exit("live_latency needs two fresh embedded brokers: unset WALKOUT_KAFKA_BOOTSTRAP")
    start, end = window_of(store_day, args.start, args.hours)
    events = [(at, event) for at, event in store_day.events if start <= at < end]
    if not events:
        sys.exit(f"no events between {args.start} and {args.hours:g} h later on {args.day}")
    exits = exits_of(store_day, start, end)
    print(
        f"replaying {len(events):,} edge messages of {args.store} {args.day} ({len(exits)} exits) at "
        f"{args.speed:g}x: about {(end - start) / args.speed / 60:.0f} min"
    )
    with (
        tempfile.TemporaryDirectory(prefix="walkout-live-latency-") as scratch,
        contextlib.ExitStack() as stack,
    ):
        sinks = []
        for name, beats in (("heartbeats", True), ("baseline", False)):
            settings = Settings(data_dir=Path(scratch) / name, demo_keys=True)
            bootstrap = stack.enter_context(kafka_available(settings))
            sink = Sink(name, beats, settings)
            create_topics(settings)  # before anyone subscribes
            stack.enter_context(checkout_service(sink, bootstrap, Path(scratch)))
            sinks.append(sink)
        readers = [Reader(sink) for sink in sinks]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.joined.wait(60)
        time.sleep(SERVICE_JOIN_S)
        shift = 0.0
        if args.live:  # start the window exactly now: its simulated instants are the wall clock's
            shift = round(time.time() + 2.0 - start, 3)  # whole milliseconds: the wire's precision
            events = redate(events, shift)
            exits = [
                replace(one, sent_at=one.sent_at + shift, scan_ts=later(one.scan_ts, shift)) for one in exits
            ]
            time.sleep(max(0.0, start + shift - time.time()))
        began = time.monotonic()
        heartbeats = replay(events, start + shift, end + shift + args.drain, args.speed, sinks)
        deadline = time.monotonic() + SETTLE_WALL_S
        wanted = {one.visit_id for one in exits}
        while time.monotonic() < deadline and not wanted <= set(sinks[0].receipts) | set(sinks[0].closed):
            time.sleep(0.5)
        wall_s = time.monotonic() - began
        for reader in readers:
            reader.done.set()
        for reader in readers:
            reader.join(10)
        stack.close()  # stops the services, then the brokers
        outcomes = {sink.name: measure(sink, exits, args.speed) for sink in sinks}
        report(args, store_day, exits, sinks, outcomes, heartbeats, len(events), wall_s)


if __name__ == "__main__":
    main()
