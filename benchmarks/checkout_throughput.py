"""Checkout service throughput and exit→receipt latency, beside the raw kafka-python consume rate.

One simulated store-day is published to a fresh embedded broker; then, on the same broker and
topics, a bare kafka-python consumer reads every edge message (the ceiling), and the checkout
service replays the day. Join and idle time are excluded from both rates. Latency is the service's
own: from consuming a visit's exit scan to publishing its receipt. In live operation a decision also
waits, by design, for the grace window and look-ahead of event time (late events may still arrive).

Run from the repository root:  .venv/bin/python benchmarks/checkout_throughput.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from realtime.checkout.ordering import GRACE_S
from realtime.checkout.service import run_checkout
from twin.run import SimulationPlan, simulate_to_kafka
from walkout.broker import kafka_available
from walkout.contracts import EDGE_TOPICS
from walkout.kafka import make_consumer
from walkout.settings import Settings

COMMAND = ".venv/bin/python benchmarks/checkout_throughput.py"
PLAN = SimulationPlan(("S001",), date(2026, 11, 18), 1, seed=7)


def raw_consume_rate(settings: Settings, expected: int) -> float:
    consumer = make_consumer(settings, "bench-raw", EDGE_TOPICS)
    received, first = 0, None
    while received < expected:
        for records in consumer.poll(timeout_ms=500).values():
            first = first or time.monotonic()
            received += len(records)
    elapsed = time.monotonic() - (first or time.monotonic())
    consumer.close()
    return received / elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir), demo_keys=True)  # a benchmark signs with the demo keys
        with kafka_available(settings):
            summary = simulate_to_kafka(settings, PLAN)
            events = summary.events + summary.heartbeats  # every message the service reads
            raw = raw_consume_rate(settings, events)
            stats = run_checkout(settings, idle_exit_s=5.0, group="bench-checkout")
    latencies = sorted(stats.exit_to_receipt_s)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(0.99 * (len(latencies) - 1))] * 1000
    print(
        f"store-day: {events:,} edge messages, {summary.heartbeats:,} of them gateway heartbeats "
        f"({PLAN.stores[0]}, {PLAN.start}, seed {PLAN.seed})"
    )
    print(f"raw kafka-python consume: {raw:,.0f} events/s")
    rate = stats.events_per_s
    print(f"checkout service:         {rate:,.0f} events/s  ({rate / raw:.2f} of raw)")
    print(
        f"exit -> receipt (service processing, {len(latencies)} receipts): p50 {p50:.0f} ms, p99 {p99:.0f} ms"
    )
    print(f"live decisions also wait {GRACE_S:.0f} s of event time for late events (grace) plus look-ahead")
    print(f"reproduce: {COMMAND}")


if __name__ == "__main__":
    main()
