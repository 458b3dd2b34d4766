"""ALS training time: on the demo's data (two stores, four weeks of the twin's purchases) and on a
synthetic 100k-shopper x full-catalog set; plus the whole tuned evaluation on the demo data.

The synthetic set has the demo's shape scaled up: every shopper buys from ~25 products (lognormal
breadth, popularity-skewed choice), unit counts geometric. Fits use the served configuration (and
64 factors for comparison), 15 iterations, implicit's threads over both cores, BLAS single-threaded.
Each figure is the fastest of REPEATS fits.

Run from the repository root:  .venv/bin/python benchmarks/recsys_training.py
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.evaluate import evaluate_interactions
from recsys.interactions import UserItems, check_interactions, user_items
from recsys.models import fit_als
from recsys.train import DEFAULT_ALS
from twin.run import SimulationPlan, simulate_history
from walkout.catalog import load_catalog

COMMAND = ".venv/bin/python benchmarks/recsys_training.py"
DEMO_PLAN = SimulationPlan(("S001", "S002"), date(2026, 10, 26), 28, seed=7)
SYNTHETIC_SHOPPERS = 100_000
REPEATS = 2


def demo_purchases() -> pl.DataFrame:
    lines = [
        truth.receipts.join(truth.visits.select("visit_id", "shopper_id", "exited_at"), on="visit_id")
        for truth in simulate_history(load_catalog(), DEMO_PLAN)
    ]
    log = pl.concat(lines).select("shopper_id", "product_id", pl.col("exited_at").alias("ts"), "quantity")
    return check_interactions(log, "demo history")


def synthetic_history(shoppers: int, seed: int = 7) -> UserItems:
    """Shoppers x every catalog product, with the demo's breadth per shopper and skew per product."""
    products = sorted(load_catalog().products)
    rng = np.random.default_rng(seed)
    popularity = rng.lognormal(0.0, 1.0, size=len(products))
    popularity /= popularity.sum()
    breadth = np.clip(rng.lognormal(np.log(20), 0.6, size=shoppers).astype(int), 1, len(products))
    rows = np.repeat(np.arange(shoppers), breadth)
    columns = np.concatenate(
        [rng.choice(len(products), size=n, replace=False, p=popularity) for n in breadth]
    )
    units = rng.geometric(0.5, size=len(rows)).astype(np.float32)
    matrix = sp.csr_matrix((units, (rows, columns)), shape=(shoppers, len(products)), dtype=np.float32)
    return UserItems(tuple(f"X{i:06d}" for i in range(shoppers)), tuple(products), matrix, matrix)


def fastest(run: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    configs = {"served (16 factors)": DEFAULT_ALS, "64 factors": replace(DEFAULT_ALS, factors=64)}
    started = time.perf_counter()
    purchases = demo_purchases()
    seconds = time.perf_counter() - started
    print(f"demo history simulated in {seconds:.0f} s: {purchases.height:,} purchase lines")
    shoppers, products = sorted(purchases["shopper_id"].unique()), sorted(purchases["product_id"].unique())
    cases = {
        "demo (2 stores x 28 days)": user_items(purchases, shoppers, products),
        f"synthetic ({SYNTHETIC_SHOPPERS:,} shoppers)": synthetic_history(SYNTHETIC_SHOPPERS),
    }
    print(f"| case | shoppers | products | pairs | {' | '.join(configs)} |")
    print(f"|---|---|---|---|{'---|' * len(configs)}")
    for name, history in cases.items():
        fits = [fastest(lambda h=history, c=config: fit_als(h, c)) for config in configs.values()]
        print(
            f"| {name} | {len(history.shoppers):,} | {len(history.products)} | {history.confidence.nnz:,} | "
            + " | ".join(f"{s:.2f} s" for s in fits)
            + " |"
        )
    started = time.perf_counter()
    evaluate_interactions(purchases, k=10, test_days=7)
    seconds = time.perf_counter() - started
    print(f"\ntuned evaluation on the demo history (every model, both item sets): {seconds:.0f} s")
    print(f"served configuration: {DEFAULT_ALS}")
    print(f"reproduce: {COMMAND}")


if __name__ == "__main__":
    main()
