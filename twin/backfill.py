"""Backfill: weeks of the digital twin's store-days, replayed through checkout offline into the lake.

Forecasts and recommendations learn from weeks of history, and streaming weeks of camera tracks
through one machine's broker takes long. A backfill runs the same twin and the same checkout fusion
(:func:`~realtime.checkout.replay.replay_checkout`) without Kafka, one process per store, and lands
the results as the lander does: each ``event_id`` once, so a repeated backfill adds nothing. A store
whose days were all backfilled before (same seed) is skipped.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace

from realtime.checkout.replay import replay_checkout
from realtime.lander import land_offline
from twin.run import SimulationPlan, simulate_store_days
from twin.truth import GroundTruth
from walkout.catalog import load_catalog
from walkout.settings import Settings


@dataclass
class BackfillSummary:
    """What a backfill landed: store-days replayed or skipped, rows per topic, wall time."""

    store_days: int = 0
    skipped_store_days: int = 0
    rows_landed: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def backfill_store(settings: Settings, plan: SimulationPlan) -> BackfillSummary:
    """Simulate one store's days in order (stock carries over), replay checkout, land, mark each day."""
    (store_id,) = plan.stores
    summary = BackfillSummary()
    markers = {
        day: settings.paths.backfill_mark_file(store, day, plan.seed) for store, day in plan.store_days()
    }
    if all(marker.exists() for marker in markers.values()):
        summary.skipped_store_days = len(markers)
        return summary
    catalog = load_catalog()
    truth = GroundTruth(settings.paths.ground_truth_dir, settings.paths.audits_dir)
    for store_day in simulate_store_days(catalog, plan):
        edge = [event for _, event in store_day.events]
        stats = land_offline(settings, edge + replay_checkout(catalog, store_id, edge))
        truth.write(store_day.truth)
        markers[store_day.day].parent.mkdir(parents=True, exist_ok=True)
        markers[store_day.day].touch()
        summary.store_days += 1
        summary.rows_landed.update(stats.rows_landed)
    return summary


def backfill(settings: Settings, plan: SimulationPlan, workers: int = 2) -> BackfillSummary:
    """Backfill every store of ``plan``, stores in parallel (``workers`` processes)."""
    started = time.monotonic()
    total = BackfillSummary()
    per_store = [replace(plan, stores=(store_id,)) for store_id in plan.stores]
    # spawn: a forked child would inherit the parent's Kafka client threads and locks
    with ProcessPoolExecutor(max(1, workers), mp_context=multiprocessing.get_context("spawn")) as pool:
        for summary in pool.map(backfill_store, [settings] * len(per_store), per_store):
            total.store_days += summary.store_days
            total.skipped_store_days += summary.skipped_store_days
            total.rows_landed.update(summary.rows_landed)
    total.seconds = time.monotonic() - started
    return total
