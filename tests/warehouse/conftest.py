"""Fixtures of the warehouse tests: a small lake landed without Kafka, and one warehouse built from it
through Dagster (``build_warehouse``), shared by every test that only reads it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import polars as pl
import pytest

from ingestion.simulator.run import StoreDay
from orchestration.build import WarehouseBuild, build_warehouse
from realtime.checkout.fusion import StoreCheckout
from realtime.lander import LAKE_SCHEMAS, partition_dir
from walkout.catalog import load_catalog
from walkout.contracts import Event
from walkout.settings import Settings

EXPIRE_EVERY_S = 10.0
E = TypeVar("E", bound=Event)
Land = Callable[[Path, Iterable[Event], str], None]


def checkout_offline(store_day: StoreDay) -> list[Event]:
    """What the checkout service publishes for a store-day: its edge events once each, in event-time order."""
    catalog = load_catalog()
    fusion = StoreCheckout(catalog.store(store_day.store_id), catalog)
    unique = {event.event_id: event for _, event in store_day.events}.values()
    outputs: list[Event] = []
    expired_at = 0.0
    for event in sorted(unique, key=lambda e: (e.ts, e.event_id)):
        outputs += fusion.apply(event)
        if event.ts.timestamp() - expired_at > EXPIRE_EVERY_S:
            expired_at = event.ts.timestamp()
            outputs += fusion.expire(expired_at)
    return outputs + fusion.close_all()


def land_events(lake_dir: Path, events: Iterable[Event], file_name: str = "part-test.parquet") -> None:
    """Write events as the lander does: per topic and UTC date of ts, each event_id once."""
    partitions: dict[Path, dict[str, dict[str, object]]] = defaultdict(dict)
    landed_at = datetime.now(UTC)
    for offset, event in enumerate(events):
        row = {**event.model_dump(), "landed_at": landed_at, "kafka_partition": 0, "kafka_offset": offset}
        partitions[partition_dir(lake_dir, event.TOPIC, event.ts.date())][event.event_id] = row
    for directory, rows in partitions.items():
        directory.mkdir(parents=True, exist_ok=True)
        topic = directory.parent.name
        pl.DataFrame(list(rows.values()), schema=LAKE_SCHEMAS[topic]).write_parquet(directory / file_name)


@dataclass(frozen=True)
class SmallLake:
    """A lake of one simulated store-day: the edge events and the checkout's outputs."""

    settings: Settings
    store_day: StoreDay
    landed: list[Event]

    def of_type(self, kind: type[E]) -> list[E]:
        return [event for event in self.landed if isinstance(event, kind)]


@pytest.fixture(scope="session")
def small_lake(tmp_path_factory: pytest.TempPathFactory, simulated_day: list[StoreDay]) -> SmallLake:
    settings = Settings(data_dir=tmp_path_factory.mktemp("warehouse-data"))
    (store_day,) = simulated_day
    landed = [event for _, event in store_day.events] + checkout_offline(store_day)
    land_events(settings.lake_dir, landed)
    unique = list({event.event_id: event for event in landed}.values())
    return SmallLake(settings, store_day, unique)


@pytest.fixture(scope="session")
def land() -> Land:
    """Write events into a lake as the lander does (tests add bad files with it)."""
    return land_events


@pytest.fixture(scope="session")
def warehouse(small_lake: SmallLake) -> WarehouseBuild:
    """The warehouse of the small lake, built once through the Dagster job."""
    return build_warehouse(small_lake.settings)
