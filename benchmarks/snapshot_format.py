"""The checkout's state snapshot against pickle: encode and decode time and size on a busy state.

One simulated store-day of the busiest store is fed through the service's state as the service feeds
it (arrival order, the ordering buffer, the fusion, expiry, de-duplication), without Kafka; the state
is taken where the most visits are open at once. The service encodes a snapshot about every second
(then writes it atomically and fsyncs, not timed here); it decodes one only when it restarts, and
decoding includes checking every field and re-validating every held event against its contract.

Run from the repository root:  .venv/bin/python benchmarks/snapshot_format.py
"""

from __future__ import annotations

import copyreg
import io
import math
import pickle
import time
import timeit
from collections.abc import Callable
from datetime import date
from pathlib import Path

from realtime.checkout.fusion import StoreCheckout
from realtime.checkout.service import DEDUPE_WINDOW_S, CheckoutState
from realtime.checkout.snapshot import decode_snapshot, encode_snapshot
from twin.run import SimulationPlan, simulate_store_days
from walkout.catalog import Catalog, load_catalog

COMMAND = ".venv/bin/python benchmarks/snapshot_format.py"
PLAN = SimulationPlan(("S001",), date(2026, 11, 18), 1, seed=7)
LOOK_EVERY = 1000  # events between looks at how busy the store is
REPEAT = 20
CATALOG = load_catalog()


def busiest_state(catalog: Catalog) -> tuple[CheckoutState, int]:
    """The state where the most visits were open, and how many."""
    (store_day,) = simulate_store_days(catalog, PLAN)
    state = CheckoutState()
    busiest, snapshot = -1, b""
    now = time.time()  # the day is long past: its events are decided from the data alone
    for number, (arrived, event) in enumerate(store_day.events):
        raw = event.to_bytes()
        if state.repeat_of(event.TOPIC, event, raw) is None:
            state.buffer.add(event, event.TOPIC, arrived, now)
            state.remember(event.TOPIC, event, raw)
        ready, marks = state.buffer.release(arrived, now)
        for released in ready:
            state.fusion(catalog, released.store_id).apply(released)
        for store_id, until in marks.items():
            if store_id in state.stores and until > -math.inf:
                state.stores[store_id].expire(until)
                state.forget_seen_before(store_id, until - DEDUPE_WINDOW_S)
        open_visits = sum(len(fusion.visits) for fusion in state.stores.values())
        if number % LOOK_EVERY == 0 and open_visits > busiest:
            busiest, snapshot = open_visits, encode_snapshot(state, {})
    return decode_snapshot(snapshot, CheckoutState, catalog, Path("busiest")).body, busiest


def _fusion_reduced(
    fusion: StoreCheckout,
) -> tuple[Callable[..., StoreCheckout], tuple[str, dict[str, object]]]:
    """Pickle a fusion as the service used to: its store named, its catalog and parameters left out."""
    attributes = {
        name: value for name, value in vars(fusion).items() if name not in ("store", "catalog", "params")
    }
    return _fusion_restored, (fusion.store.store_id, attributes)


def _fusion_restored(store_id: str, attributes: dict[str, object]) -> StoreCheckout:
    fusion = StoreCheckout(CATALOG.store(store_id), CATALOG)
    vars(fusion).update(attributes)
    return fusion


def pickled(state: CheckoutState) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, StoreCheckout: _fusion_reduced}
    pickler.dump(state)
    return buffer.getvalue()


def best_ms(action: Callable[[], object]) -> float:
    return min(timeit.repeat(action, number=1, repeat=REPEAT)) * 1000


def main() -> None:
    catalog = CATALOG
    state, open_visits = busiest_state(catalog)
    snapshot = encode_snapshot(state, {})
    pickle_bytes = pickled(state)
    fusions = list(state.stores.values())
    print(
        f"busy state ({PLAN.stores[0]}, {PLAN.start}, seed {PLAN.seed}): {open_visits} open visits, "
        f"{sum(len(fusion.tracks) for fusion in fusions)} tracks, {len(state.buffer)} held events, "
        f"{sum(len(ids) for ids in state.seen.values()):,} ids remembered"
    )
    print(f"{'':10}{'encode':>10}{'decode':>10}{'size':>12}")
    rows = [
        (
            "snapshot",
            best_ms(lambda: encode_snapshot(state, {})),
            best_ms(lambda: decode_snapshot(snapshot, CheckoutState, catalog, Path("busy"))),
            len(snapshot),
        ),
        (
            "pickle",
            best_ms(lambda: pickled(state)),
            best_ms(lambda: pickle.loads(pickle_bytes)),
            len(pickle_bytes),
        ),
    ]
    for name, encode_ms, decode_ms, size in rows:
        print(f"{name:10}{encode_ms:>8.1f}ms{decode_ms:>8.1f}ms{size / 1024:>9,.0f} KiB")
    print(f"best of {REPEAT}; reproduce: {COMMAND}")


if __name__ == "__main__":
    main()
