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
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO

from live_latency_figures import Sink, exits_of, list_visits, measure, report, window_of

from ingestion.gateway import StoreGateway
from twin.run import SimulationPlan, edge_to_kafka, pacer, simulate_store_days
from walkout.broker import kafka_available
from walkout.catalog import load_catalog
from walkout.contracts import (
    EDGE_TOPICS,
    EdgeHeartbeat,
    Event,
    GateDirection,
    GateScan,
    Purchase,
    Visit,
    VisitStatus,
    parse_event,
)
from walkout.kafka import create_topics, make_consumer
from walkout.settings import Settings

SERVICE_JOIN_S = 10.0  # a consumer group join takes a few seconds on the embedded broker
SETTLE_WALL_S = 30.0  # after the drain, wait this long (wall) for the receipts still on their way


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
