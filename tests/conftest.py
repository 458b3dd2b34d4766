"""Shared fixtures: one Kafka broker per test session, a small simulated store-day, its lake landed
without Kafka and one warehouse built from it through Dagster (``build_warehouse``), shared by the
warehouse and dashboard tests that only read it; and six weeks of the twin's true daily sales."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

import pytest

from forecasting.sales import SalesHistory
from orchestration.build import WarehouseBuild, build_warehouse
from realtime.checkout.replay import replay_checkout
from realtime.lander import land_offline
from twin.run import SimulationPlan, StoreDay, simulate_history, simulate_store_days
from twin.sales import twin_history
from walkout.broker import kafka_available
from walkout.catalog import load_catalog
from walkout.contracts import Event
from walkout.kafka import create_topics
from walkout.settings import Settings

TWIN_PLAN = SimulationPlan(("S002",), date(2026, 9, 7), days=42, seed=23)
"""The smallest store, six weeks: a backtest of three weekly folds on five, and one week to come."""

# Tests sign, verify and serve with the public demo keys, as `walkout demo` does (never a store).
os.environ.setdefault("WALKOUT_DEMO_KEYS", "1")

SIMULATED_OR_BUILT = frozenset({"simulated_day", "twin_sales", "small_lake", "warehouse", "purchase_history"})
"""Fixtures that simulate store-days, build the warehouse or learn from them: a test that uses one, even
through another fixture, is slow whatever its own marks say (``make test-fast`` skips it)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SIMULATED_OR_BUILT.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def session_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("walkout-data")


@pytest.fixture(scope="session")
def kafka_settings(session_data_dir: Path) -> Iterator[Settings]:
    """Settings with live Kafka: WALKOUT_KAFKA_BOOTSTRAP if set, else an embedded broker for the session."""
    settings = Settings(data_dir=session_data_dir)
    with kafka_available(settings):
        create_topics(settings)
        yield settings


@pytest.fixture(scope="session")
def simulated_day() -> list[StoreDay]:
    """One noisy day of the smallest store, simulated once per session (no Kafka)."""
    return list(
        simulate_store_days(load_catalog(), SimulationPlan(("S002",), date(2026, 11, 18), 1, seed=11))
    )


@pytest.fixture(scope="session")
def twin_sales() -> SalesHistory:
    """Six weeks of the twin's true daily sales (forecasting's tests), computed once per session."""
    catalog = load_catalog()
    return twin_history(catalog, simulate_history(catalog, TWIN_PLAN))


E = TypeVar("E", bound=Event)
Land = Callable[[Settings, Iterable[Event]], object]


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
    edge = [event for _, event in store_day.events]
    landed = edge + replay_checkout(load_catalog(), store_day.store_id, edge)
    land_offline(settings, landed)
    unique = list({event.event_id: event for event in landed}.values())
    return SmallLake(settings, store_day, unique)


@pytest.fixture(scope="session")
def land() -> Land:
    """Land events as the lander does (tests add bad data with it)."""
    return land_offline


@pytest.fixture(scope="session")
def warehouse(small_lake: SmallLake) -> WarehouseBuild:
    """The warehouse of the small lake, built once through the Dagster job."""
    return build_warehouse(small_lake.settings)
