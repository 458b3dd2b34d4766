"""Simulation + publishing rate of the digital twin: events/s for 1 store-day and for 10 store-days.

It measures the twin alone (no Kafka) and the twin publishing to the broker (embedded unless
WALKOUT_KAFKA_BOOTSTRAP is set), on a throw-away data directory.

Run from the repository root:  .venv/bin/python benchmarks/simulate_publish.py
"""

from __future__ import annotations

import tempfile
import time
from datetime import date
from pathlib import Path

from twin.run import SimulationPlan, simulate_store_days, simulate_to_kafka
from walkout.broker import kafka_available
from walkout.catalog import load_catalog
from walkout.settings import Settings

COMMAND = ".venv/bin/python benchmarks/simulate_publish.py"
START = date(2026, 11, 2)
CASES = {"1 store-day": (("S001",), 1), "10 store-days": (("S001", "S002"), 5)}


def twin_only(plan: SimulationPlan) -> tuple[int, float]:
    began = time.perf_counter()
    events = sum(len(store_day.events) for store_day in simulate_store_days(load_catalog(), plan))
    return events, time.perf_counter() - began


def report(case: str, what: str, events: int, seconds: float) -> None:
    print(f"{case}: {what:<15} {events:>9,} events in {seconds:6.1f} s = {events / seconds:>8,.0f} events/s")


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir), demo_keys=True)  # a benchmark signs with the demo keys
        with kafka_available(settings) as bootstrap:
            print(f"broker {bootstrap}")
            for name, (stores, days) in CASES.items():
                plan = SimulationPlan(stores, START, days, seed=7)
                report(name, "twin only", *twin_only(plan))
                summary = simulate_to_kafka(settings, plan)
                report(name, "twin + publish", summary.events, summary.seconds)
    print(f"reproduce: {COMMAND}")


if __name__ == "__main__":
    main()
