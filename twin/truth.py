"""Ground truth of a simulation, written next to its output so every later stage can be scored.

Tables (Parquet, one file per store-day, ``<data_dir>/ground_truth/<table>/store=<id>/date=<day>.parquet``):
visits, people, receipts (the true charge per visit and product), hands (every true pick and
put-back), paths (true positions at 1 Hz), stock (units per plate at the end of the day),
deliveries and stockouts. With an audits folder, every visit's true charge is also written as an audit
(:mod:`review.audits`), which the calibration of line confidence learns from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from review.audits import write_audit
from twin.trips import PlannedVisit, StoreShelves
from walkout.catalog import Catalog, Store


def _ts(values: list[float]) -> pl.Series:
    return pl.Series([datetime.fromtimestamp(v, UTC) for v in values], dtype=pl.Datetime("ms", "UTC"))


@dataclass(frozen=True)
class StoreDayTruth:
    store_id: str
    day: date
    visits: pl.DataFrame
    people: pl.DataFrame
    receipts: pl.DataFrame
    hands: pl.DataFrame
    paths: pl.DataFrame
    stock: pl.DataFrame
    deliveries: pl.DataFrame
    stockouts: pl.DataFrame

    TABLES = ("visits", "people", "receipts", "hands", "paths", "stock", "deliveries", "stockouts")

    def audit(self) -> dict[str, dict[str, int]]:
        """What each visit truly took, by the visit id the checkout gives it (store and QR token)."""
        taken: dict[str, dict[str, int]] = {}
        for visit_id, product_id, units in self.receipts.select(
            "visit_id", "product_id", "quantity"
        ).iter_rows():
            taken.setdefault(visit_id, {})[product_id] = units
        return {
            f"{self.store_id}-{token_id}": taken.get(visit_id, {})
            for visit_id, token_id in self.visits.select("visit_id", "token_id").iter_rows()
        }

    @classmethod
    def collect(
        cls,
        store: Store,
        catalog: Catalog,
        day: date,
        visits: list[PlannedVisit],
        tokens: dict[str, str],
        shelves: StoreShelves,
    ) -> StoreDayTruth:
        """Tabulate one store-day; drains the shelves' delivery and stock-out logs of that day."""
        sid = store.store_id
        visit_rows = pl.DataFrame(
            {
                "visit_id": [v.visit_id for v in visits],
                "store_id": sid,
                "shopper_id": [v.payer.member.member_id for v in visits],
                "gate_id": [v.gate_id for v in visits],
                "token_id": [tokens[v.visit_id] for v in visits],
                "group_size": [v.group_size for v in visits],
                "tailgaters": [len(v.trips) - v.group_size for v in visits],
                "entered_at": _ts([v.entered_at for v in visits]),
                "exited_at": _ts([v.exited_at for v in visits]),
            },
            schema_overrides={"group_size": pl.Int32, "tailgaters": pl.Int32},
        )
        people = [(v.visit_id, t.person, t.stops) for v in visits for t in v.trips]
        people_rows = pl.DataFrame(
            {
                "person_id": [p.person_id for _, p, _ in people],
                "visit_id": [vid for vid, _, _ in people],
                "role": [p.role for _, p, _ in people],
                "member_id": [p.member_id for _, p, _ in people],
                "age_band": [str(p.age_band) for _, p, _ in people],
                "gender": [str(p.gender) for _, p, _ in people],
                "stops": [stops for _, _, stops in people],
            },
            schema_overrides={"member_id": pl.String, "stops": pl.Int32},
        )
        receipt_lines = [
            (v.visit_id, product, qty) for v in visits for product, qty in v.true_receipt().items()
        ]
        receipts = pl.DataFrame(
            {
                "visit_id": [vid for vid, _, _ in receipt_lines],
                "product_id": [pid for _, pid, _ in receipt_lines],
                "quantity": [q for _, _, q in receipt_lines],
                "unit_price_krw": [catalog.product(pid).price_krw for _, pid, _ in receipt_lines],
            },
            schema={
                "visit_id": pl.String,
                "product_id": pl.String,
                "quantity": pl.Int32,
                "unit_price_krw": pl.Int64,
            },
        )
        hands = [(v.visit_id, h) for v in visits for t in v.trips for h in t.hands]
        hand_rows = pl.DataFrame(
            {
                "visit_id": [vid for vid, _ in hands],
                "person_id": [h.person_id for _, h in hands],
                "at": _ts([h.at for _, h in hands]),
                "plate_id": [h.plate_id for _, h in hands],
                "product_id": [h.product_id for _, h in hands],
                "action": [str(h.action) for _, h in hands],
                "quantity": [h.quantity for _, h in hands],
                "delta_g": [h.delta_g for _, h in hands],
            },
            schema_overrides={
                "visit_id": pl.String,
                "person_id": pl.String,
                "plate_id": pl.String,
                "product_id": pl.String,
                "action": pl.String,
                "quantity": pl.Int32,
                "delta_g": pl.Float64,
            },
        )
        path_parts = []
        for visit in visits:
            for trip in visit.trips:
                seconds = np.arange(np.ceil(trip.waypoints[0][0]), trip.waypoints[-1][0])
                xy = trip.positions(seconds)
                path_parts.append(
                    pl.DataFrame(
                        {
                            "person_id": trip.person.person_id,
                            "visit_id": visit.visit_id,
                            "at": _ts(seconds.tolist()),
                            "x_m": xy[:, 0].round(2),
                            "y_m": xy[:, 1].round(2),
                        }
                    )
                )
        stock = pl.DataFrame(
            {
                "store_id": sid,
                "date": day,
                "plate_id": [p.plate_id for p in store.plates],
                "product_id": [p.product_id for p in store.plates],
                "units": [shelves.units[p.plate_id] for p in store.plates],
            },
            schema_overrides={"units": pl.Int32},
        )
        deliveries = pl.DataFrame(
            {
                "at": _ts([at for at, _, _ in shelves.deliveries]),
                "plate_id": [pid for _, pid, _ in shelves.deliveries],
                "units": [units for _, _, units in shelves.deliveries],
            },
            schema_overrides={"plate_id": pl.String, "units": pl.Int32},
        )
        stockouts = pl.DataFrame(
            {
                "at": _ts([at for at, _ in shelves.stockouts]),
                "plate_id": [pid for _, pid in shelves.stockouts],
            },
            schema_overrides={"plate_id": pl.String},
        )
        shelves.deliveries.clear()
        shelves.stockouts.clear()
        return cls(
            sid,
            day,
            visit_rows,
            people_rows,
            receipts,
            hand_rows,
            pl.concat(path_parts) if path_parts else pl.DataFrame(),
            stock,
            deliveries,
            stockouts,
        )


class GroundTruth:
    """Where a run's truth lives (and, given ``audits``, where every visit is audited from it);
    re-simulating a store-day replaces its files."""

    def __init__(self, root: Path, audits: Path | None = None) -> None:
        self.root = root
        self.audits = audits

    def write(self, truth: StoreDayTruth) -> None:
        for table in StoreDayTruth.TABLES:
            target = self.root / table / f"store={truth.store_id}" / f"date={truth.day.isoformat()}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_suffix(".tmp")
            getattr(truth, table).write_parquet(temporary)
            temporary.replace(target)
        if self.audits is not None:
            write_audit(self.audits, truth.store_id, truth.day, truth.audit())

    def read(self, table: str, store_days: Iterable[tuple[str, date]] | None = None) -> pl.DataFrame:
        """One table over the given store-days (default: every store-day written so far)."""
        if table not in StoreDayTruth.TABLES:
            raise ValueError(f"unknown ground-truth table {table!r}")
        if store_days is None:
            files = sorted((self.root / table).glob("store=*/date=*.parquet"))
        else:
            files = [
                self.root / table / f"store={store}" / f"date={day.isoformat()}.parquet"
                for store, day in store_days
            ]
            files = [file for file in files if file.exists()]
        return (
            pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
            if files
            else pl.DataFrame()
        )
