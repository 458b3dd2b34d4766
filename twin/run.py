"""Run the digital twin: store-days of visits, their edge events published to Kafka, ground truth on disk.

Each store-day draws from its own random stream (seed, store, day), so a run is deterministic for a
seed and a store-day does not change when more stores or days are simulated. Stock carries over
from one day to the next within a store; deliveries refill the plates at fixed local hours.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from rich.progress import Progress

from ingestion.gate import AdmissionLedger, SpeedGate, store_secret
from ingestion.gateway import Send, StoreGateway
from twin.arrivals import draw_arrivals
from twin.floor import build_floor_grid
from twin.sensors import (
    EdgeOutput,
    FaultRates,
    apply_transport_faults,
    emit_camera_tracks,
    emit_gate_scans,
    emit_shelf_events,
    visit_token_id,
)
from twin.shelf_evaluate import DetectionScore
from twin.shoppers import Shopper, ShopperBase, build_shoppers
from twin.speed import Speed
from twin.trips import PlannedVisit, StoreShelves, TripConfig, TripPlanner
from twin.truth import GroundTruth, StoreDayTruth
from walkout.catalog import Catalog, Category, Store, load_catalog
from walkout.contracts import Event
from walkout.edge import EdgeSigner
from walkout.errors import WalkoutError
from walkout.kafka import Outbox, create_topics, make_producer
from walkout.settings import DEMO_KEYS, Settings
from walkout.vocabulary import CameraSource

VISITS_PER_M2_PER_DAY = 5.5
DELIVERY_HOURS: dict[int, frozenset[Category] | None] = {
    7: None,  # the morning truck refills everything
    15: frozenset({Category.FRESH_FOOD, Category.DAIRY, Category.BAKERY}),
}


CONFIRM_EVERY = 10_000  # sends awaited at once, so a lost broker stops the run within seconds


class SimulationError(WalkoutError):
    """The simulation was asked for something it cannot do."""


@dataclass(frozen=True)
class SimulationPlan:
    stores: tuple[str, ...]
    start: date
    days: int
    seed: int
    trips: TripConfig = field(default_factory=TripConfig)
    faults: FaultRates = field(default_factory=FaultRates)
    warm_up_days: int = 0
    """Days before ``start`` the twin lives through first, unobserved, so its stock continues from
    them (e.g. from a backfilled history of the same seed) instead of starting full."""
    cameras: CameraSource = CameraSource.STAND_IN
    """Where ``camera.tracks`` come from: the stand-in tracker, or the real ceiling pipeline on
    rendered frames (minutes a store-day)."""
    gate_key: bytes = field(default=DEMO_KEYS["gate_key"], repr=False)
    """The chain's QR gate master key (the ``gate_key`` setting): members' tokens are signed and the
    gates check them with it. Commands pass the setting; offline tests keep the public demo key."""

    def store_days(self) -> Iterator[tuple[str, date]]:
        for store_id in self.stores:
            for offset in range(self.days):
                yield store_id, self.start + timedelta(days=offset)


@dataclass
class StoreDay:
    """Everything one store-day produced: the edge events in send order and the truth behind them."""

    store_id: str
    day: date
    events: list[tuple[float, Event]]
    truth: StoreDayTruth
    faults: Counter[str]
    shelf_score: DetectionScore
    lost: list[Event]  # messages the transport dropped (see ``FaultRates.dropped_rate``)


def fault_rates(overrides: Sequence[str]) -> FaultRates:
    """Default fault rates with ``name=value`` overrides (``--fault late_rate=0.05``)."""
    known = {item.name for item in fields(FaultRates)}
    values: dict[str, float] = {}
    for override in overrides:
        name, _, text = override.partition("=")
        if name not in known:
            raise SimulationError(
                f"unknown fault {name!r} in {override!r}; known: {', '.join(sorted(known))}"
            )
        try:
            value = float(text)
        except ValueError:
            raise SimulationError(f"fault {name} needs a number, got {text!r}") from None
        if value < 0 or (name.endswith(("_rate", "_share", "_prob")) and value > 1):
            raise SimulationError(f"fault {name}={value} is out of range (rates and shares are 0..1)")
        values[name] = value
    return replace(FaultRates(), **values)


def plan_for(
    catalog: Catalog,
    stores: int,
    days: int,
    seed: int,
    start: date | None,
    faults: FaultRates | None = None,
    cameras: CameraSource = CameraSource.STAND_IN,
    *,
    gate_key: bytes,
) -> SimulationPlan:
    """Check the request and pick the first ``stores`` stores; by default the days end yesterday."""
    if not 1 <= stores <= len(catalog.stores):
        raise SimulationError(
            f"--stores must be 1..{len(catalog.stores)} (the catalog has {len(catalog.stores)})"
        )
    if not 1 <= days <= 366:
        raise SimulationError("--days must be 1..366")
    first = start or (datetime.now(UTC).date() - timedelta(days=days))
    if first + timedelta(days=days) > datetime.now(UTC).date() + timedelta(days=1):
        raise SimulationError(f"the simulated days must not lie in the future (start {first}, {days} days)")
    return SimulationPlan(
        tuple(sorted(catalog.stores)[:stores]),
        first,
        days,
        seed,
        faults=faults or FaultRates(),
        cameras=cameras,
        gate_key=gate_key,
    )


class StoreTwin:
    """One store's twin across consecutive days: its shelves (stock), gate memory and shoppers."""

    def __init__(self, catalog: Catalog, base: ShopperBase, store: Store, plan: SimulationPlan) -> None:
        self.catalog = catalog
        self.store = store
        self.plan = plan
        self.shelves = StoreShelves(store, {plate.plate_id: plate.capacity_units for plate in store.plates})
        self.planner = TripPlanner(store, build_floor_grid(store), base, self.shelves, plan.trips)
        self.secret = store_secret(store.store_id, plan.gate_key)
        ledger = AdmissionLedger()  # shared: a token admits once per store, whichever lane it is shown at
        self.gates = {
            gate.gate_id: SpeedGate(
                store.store_id, gate.gate_id, self.secret, frozenset(), catalog.members, ledger=ledger
            )
            for gate in store.gates
        }
        self.regulars, self.weights = self._regulars(base)

    def _regulars(self, base: ShopperBase) -> tuple[list[Shopper], np.ndarray]:
        """Who shops here: home-store members, and a tenth as many from other stores."""
        regulars = sorted(base.shoppers.values(), key=lambda shopper: shopper.member.member_id)
        weights = np.array(
            [
                s.visits_per_week * (1.0 if s.member.home_store_id == self.store.store_id else 0.1)
                for s in regulars
            ]
        )
        return regulars, weights / weights.sum()

    def simulate_day(self, day: date) -> StoreDay:
        rng, day_start, visits = self._plan_day(day)
        return self._observe(rng, day, day_start, visits)

    def simulate_truth(self, day: date) -> StoreDayTruth:
        """The day's ground truth alone, without sensor events: the same visits and receipts as
        :meth:`simulate_day` (planning draws first from the day's stream), in a fraction of the time."""
        _, _, visits = self._plan_day(day)
        tokens = {visit.visit_id: visit_token_id(visit.visit_id) for visit in visits}
        return StoreDayTruth.collect(self.store, self.catalog, day, visits, tokens, self.shelves)

    def _plan_day(self, day: date) -> tuple[np.random.Generator, float, list[PlannedVisit]]:
        rng = np.random.default_rng(
            np.random.SeedSequence([self.plan.seed, int(self.store.store_id[1:]), day.toordinal()])
        )
        zone = ZoneInfo(self.store.timezone)
        day_start = datetime.combine(day, datetime.min.time(), tzinfo=zone).timestamp()
        arrivals = draw_arrivals(
            rng,
            day,
            self.store.timezone,
            VISITS_PER_M2_PER_DAY * self.store.area_m2,
            self.store.open_hour,
            self.store.close_hour,
        )
        deliveries = self._deliveries(day_start)
        visits: list[PlannedVisit] = []
        for number, arrival in enumerate(arrivals):
            at = arrival.timestamp()
            while deliveries and deliveries[0][0] <= at:
                self._deliver(*deliveries.pop(0))
            payer = self.regulars[int(rng.choice(len(self.regulars), p=self.weights))]
            gate = self.store.gates[int(rng.integers(len(self.store.gates)))]
            visit_id = f"{self.store.store_id}-{day:%Y%m%d}-{number:04d}"
            visits.append(self.planner.plan(rng, visit_id, payer, gate.gate_id, at))
        for when, categories in deliveries:
            self._deliver(when, categories)
        return rng, day_start, visits

    def _deliveries(self, day_start: float) -> list[tuple[float, frozenset[Category] | None]]:
        return [
            (day_start + hour * 3600.0, categories) for hour, categories in sorted(DELIVERY_HOURS.items())
        ]

    def _deliver(self, at: float, categories: frozenset[Category] | None) -> None:
        for plate in self.store.plates:
            if categories is None or self.catalog.product(plate.product_id).category in categories:
                self.shelves.refill(plate, at)

    def _observe(
        self, rng: np.random.Generator, day: date, day_start: float, visits: list[PlannedVisit]
    ) -> StoreDay:
        edge = EdgeOutput()
        tokens = emit_gate_scans(
            rng,
            self.store,
            self.catalog,
            self.gates,
            self.secret,
            visits,
            self.plan.faults,
            edge,
            store_secret("S999", self.plan.gate_key),
        )
        hands = [hand for visit in visits for trip in visit.trips for hand in trip.hands]
        emit_shelf_events(
            rng, self.store, self.catalog, hands, day_start, day_start + 86_400.0, self.plan.faults, edge
        )
        self._film(rng, visits, edge)
        sent = apply_transport_faults(rng, edge, self.plan.faults)
        truth = StoreDayTruth.collect(self.store, self.catalog, day, visits, tokens, self.shelves)
        assert edge.shelf_score is not None
        return StoreDay(self.store.store_id, day, sent, truth, edge.faults, edge.shelf_score, edge.lost)

    def _film(self, rng: np.random.Generator, visits: list[PlannedVisit], edge: EdgeOutput) -> None:
        """The day's ``camera.tracks``: the stand-in tracker's, or the real pipeline's on rendered frames."""
        if self.plan.cameras is CameraSource.STAND_IN:
            emit_camera_tracks(rng, self.store, visits, self.plan.faults, edge)
            return
        from twin.camera_day import film_store_day  # OpenCV, onnxruntime, SciPy: only when asked

        for sent_at, track in film_store_day(self.store, visits, seed=int(rng.integers(2**31))):
            edge.add(sent_at, track)


@dataclass
class SimulationSummary:
    """Counts a run prints at the end."""

    store_days: int = 0
    visits: int = 0
    events_by_topic: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    shelf_score: DetectionScore = field(default_factory=lambda: DetectionScore(0, 0, 0, 0))
    heartbeats: int = 0  # the gateways' word on quiet topics, besides the events
    seconds: float = 0.0

    @property
    def events(self) -> int:
        return sum(self.events_by_topic.values())


def simulate_store_days(catalog: Catalog, plan: SimulationPlan) -> Iterator[StoreDay]:
    """The store-days of a plan, in order (store by store, day by day), without publishing anything."""
    base = build_shoppers(catalog, plan.seed)
    for store_id in plan.stores:
        twin = StoreTwin(catalog, base, catalog.store(store_id), plan)
        for before in range(plan.warm_up_days, 0, -1):
            twin.simulate_truth(plan.start - timedelta(days=before))
        for offset in range(plan.days):
            yield twin.simulate_day(plan.start + timedelta(days=offset))


def simulate_history(catalog: Catalog, plan: SimulationPlan) -> Iterator[StoreDayTruth]:
    """The ground truth of a plan's store-days without sensor events: weeks of visits and receipts
    for what learns from history (forecasts, recommendations) at a fraction of the twin's cost."""
    base = build_shoppers(catalog, plan.seed)
    for store_id in plan.stores:
        twin = StoreTwin(catalog, base, catalog.store(store_id), plan)
        for offset in range(plan.days):
            yield twin.simulate_truth(plan.start + timedelta(days=offset))


def run_simulation(
    catalog: Catalog,
    plan: SimulationPlan,
    send: Send,
    truth: GroundTruth,
    speed: Speed = Speed.MAX,
    progress: Progress | None = None,
) -> SimulationSummary:
    """Simulate and hand every edge event, in send order through its store's gateway (so quiet topics
    get their heartbeats), to ``send``; write the ground truth."""
    summary = SimulationSummary()
    started = time.monotonic()
    days = progress.add_task("store-days", total=plan.days * len(plan.stores)) if progress else None
    gateways: dict[str, StoreGateway] = {}
    for store_day in simulate_store_days(catalog, plan):
        label = f"{store_day.store_id} {store_day.day}"
        events = progress.add_task(label, total=len(store_day.events)) if progress else None
        gateway = gateways.setdefault(store_day.store_id, StoreGateway(store_day.store_id, send))
        pace = (
            pacer(gateway, store_day.events[0][0]) if speed is Speed.REALTIME and store_day.events else None
        )
        for number, (at, event) in enumerate(store_day.events, start=1):
            if pace is not None:
                pace(at)
            gateway.forward(at, event)
            summary.events_by_topic[event.TOPIC] += 1
            if progress is not None and events is not None and number % 1000 == 0:
                progress.update(events, completed=number)
        truth.write(store_day.truth)
        summary.store_days += 1
        summary.visits += store_day.truth.visits.height
        summary.faults.update(store_day.faults)
        summary.shelf_score = summary.shelf_score + store_day.shelf_score
        if progress is not None and events is not None and days is not None:
            progress.remove_task(events)
            progress.advance(days)
    summary.heartbeats = sum(gateway.heartbeats for gateway in gateways.values())
    summary.seconds = time.monotonic() - started
    return summary


def forward_store_day(store_day: StoreDay, send: Send) -> None:
    """A simulated store-day's edge events through its gateway, in send order (tests replay days so)."""
    gateway = StoreGateway(store_day.store_id, send)
    for at, event in store_day.events:
        gateway.forward(at, event)


@contextmanager
def edge_to_kafka(settings: Settings) -> Iterator[Send]:
    """What the stores' gateways send to Kafka: each event signed by its device (keys from the
    ``edge_key`` setting), every send acknowledged before the block ends."""
    signer = EdgeSigner(settings.secret("edge_key"))
    create_topics(settings)
    outbox = Outbox(make_producer(settings))

    def send(event: Event, topic: str) -> None:
        outbox.send(event, topic=topic, signer=signer)
        if len(outbox) >= CONFIRM_EVERY:
            outbox.confirm()

    try:
        yield send
        outbox.confirm()
    finally:
        outbox.producer.close()


def simulate_to_kafka(
    settings: Settings, plan: SimulationPlan, speed: Speed = Speed.MAX, progress: Progress | None = None
) -> SimulationSummary:
    """The ``walkout simulate`` job: publish a plan's edge events to Kafka, the truth under the data dir."""
    with edge_to_kafka(settings) as send:
        return run_simulation(
            load_catalog(),
            plan,
            send,
            GroundTruth(settings.paths.ground_truth_dir, settings.paths.audits_dir),
            speed,
            progress,
        )


def pacer(
    gateway: StoreGateway,
    first_at: float,
    speed: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[float], None]:
    """``wait_until(at)``: sleep until the simulated instant ``at`` (``speed`` simulated seconds a wall
    second, from ``first_at`` now), driving the gateway's clock meanwhile: each heartbeat leaves when
    it falls due, as a live gateway's would, so a quiet store's receipts need not wait for the next
    shopper's first event (which would otherwise carry the night's heartbeats in one late burst)."""
    wall_start = clock()

    def sleep_until(at: float) -> None:
        delay = (at - first_at) / speed - (clock() - wall_start)
        if delay > 0:
            sleep(delay)

    def wait_until(at: float) -> None:
        while (beat := gateway.next_beat()) < at:
            sleep_until(beat)
            gateway.advance(beat)
        sleep_until(at)

    return wait_until
