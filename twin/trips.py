"""What happens inside the store during one visit: who walks where, stops, picks and puts back.

A visit is planned when its payer scans in: the payer (and up to three companions on the same QR,
plus, rarely, a tailgater who slipped in without scanning) each get a shopping list from their
tastes, visit the plates in a nearest-first tour through the aisles at 1.0-1.4 m/s, dwell at each
stop, pick, sometimes put back (now and then on the neighbouring plate), and the group leaves
together through the gate. Two bodies never share a spot at the shelf: whoever finds a spot taken
waits beside it until it is free. Everything here is ground truth: the sensors see it only through
noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from twin.floor import FloorGrid, Point
from twin.shoppers import Shopper, ShopperBase
from walkout.catalog import RESTRICTED_CATEGORIES, Plate, Product, Store
from walkout.contracts import ShelfAction
from walkout.vocabulary import AgeBand, Gender

COMPANION_BANDS = (AgeBand.MINOR, AgeBand.AGE_19_29, AgeBand.AGE_30_39, AgeBand.AGE_40_49)
BODY_M = 0.45  # two shoppers at a shelf stand at least this far apart (about shoulder width)
ASIDE_M = 0.6  # whoever finds their spot taken waits this far beside it (along the shelf, or back)


@dataclass(frozen=True)
class TripConfig:
    """Behaviour knobs of shoppers in the store (the field's numbers as defaults)."""

    walk_speed_mps: tuple[float, float] = (1.0, 1.4)
    put_back_share: float = 0.15
    wrong_plate_share: float = 0.25
    browse_stops_mean: float = 1.5
    stop_dwell_s: tuple[float, float] = (4.0, 25.0)
    tailgating_rate: float = 0.01
    empty_handed_share: float = 0.08
    habitual_pick_prob: float = 0.35


@dataclass(frozen=True)
class Person:
    """Someone walking through the store in a visit; only the payer scanned a QR."""

    person_id: str
    member_id: str | None
    age_band: AgeBand
    gender: Gender
    role: str  # payer | companion | tailgater


@dataclass(frozen=True)
class HandOnPlate:
    """A true pick or put-back: ``delta_g`` is the weight change the plate really saw."""

    at: float
    handling_s: float
    person_id: str
    plate_id: str
    product_id: str
    action: ShelfAction
    quantity: int
    delta_g: float


@dataclass
class Trip:
    """One person's walk: waypoints (epoch s, x, y), their hands on plates, and their stops."""

    person: Person
    waypoints: list[tuple[float, float, float]] = field(default_factory=list)
    hands: list[HandOnPlate] = field(default_factory=list)
    stops: int = 0

    @property
    def now(self) -> float:
        return self.waypoints[-1][0]

    @property
    def position(self) -> Point:
        return self.waypoints[-1][1], self.waypoints[-1][2]

    def walk(self, route: list[Point], speed_mps: float) -> None:
        for point in route[1:]:
            distance = float(np.hypot(point[0] - self.position[0], point[1] - self.position[1]))
            self.waypoints.append((self.now + distance / speed_mps, point[0], point[1]))

    def wait(self, seconds: float) -> None:
        self.waypoints.append((self.now + seconds, *self.position))

    def step_aside(self, arrival: int, hands_since: int, aside: Point, until: float, step_s: float) -> float:
        """Wait at ``aside`` instead of on the spot reached at waypoint ``arrival`` until ``until``, then
        step in: everything planned after the arrival happens that much later (returned, seconds)."""
        arrived_at, x, y = self.waypoints[arrival]
        delay = until + step_s - arrived_at
        later = [(t + delay, later_x, later_y) for t, later_x, later_y in self.waypoints[arrival + 1 :]]
        self.waypoints[arrival:] = [(arrived_at, *aside), (until, *aside), (until + step_s, x, y), *later]
        self.hands[hands_since:] = [replace(hand, at=hand.at + delay) for hand in self.hands[hands_since:]]
        return delay

    def positions(self, times: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """True (x, y) at the given instants, by linear interpolation between waypoints."""
        table = np.array(self.waypoints)
        return np.column_stack(
            [np.interp(times, table[:, 0], table[:, 1]), np.interp(times, table[:, 0], table[:, 2])]
        )


@dataclass
class PlannedVisit:
    """A whole visit as it truly happened."""

    visit_id: str
    store_id: str
    payer: Shopper
    gate_id: str
    entered_at: float
    trips: list[Trip]
    exited_at: float = 0.0

    @property
    def group_size(self) -> int:
        return sum(trip.person.role != "tailgater" for trip in self.trips)

    def true_receipt(self) -> dict[str, int]:
        """Product → quantity charged to the payer: what the group carried out (never a tailgater's)."""
        carried: dict[str, int] = {}
        for trip in self.trips:
            if trip.person.role == "tailgater":
                continue
            for hand in trip.hands:
                sign = 1 if hand.action is ShelfAction.PICK else -1
                carried[hand.product_id] = carried.get(hand.product_id, 0) + sign * hand.quantity
        return {product: quantity for product, quantity in sorted(carried.items()) if quantity > 0}


@dataclass
class StoreShelves:
    """Live shelf state of one store during the simulation: units per plate (the true stock)."""

    store: Store
    units: dict[str, int]
    stockouts: list[tuple[float, str]] = field(default_factory=list)
    deliveries: list[tuple[float, str, int]] = field(default_factory=list)

    def take(self, plate: Plate, wanted: int, at: float) -> int:
        available = self.units[plate.plate_id]
        taken = min(available, wanted)
        self.units[plate.plate_id] = available - taken
        if taken < wanted:
            self.stockouts.append((at, plate.plate_id))
        return taken

    def put_back(self, plate: Plate, quantity: int) -> None:
        self.units[plate.plate_id] += quantity

    def postpone_stockouts(self, since: int, delay: float) -> None:
        """The stock-outs logged from index ``since`` on happened ``delay`` seconds later."""
        self.stockouts[since:] = [(at + delay, plate_id) for at, plate_id in self.stockouts[since:]]

    def refill(self, plate: Plate, at: float) -> None:
        added = plate.capacity_units - self.units[plate.plate_id]
        if added > 0:
            self.units[plate.plate_id] = plate.capacity_units
            self.deliveries.append((at, plate.plate_id, added))


class TripPlanner:
    """Plans visits of one store with a shared random stream (deterministic for the stream)."""

    def __init__(
        self, store: Store, grid: FloorGrid, base: ShopperBase, shelves: StoreShelves, config: TripConfig
    ) -> None:
        self.store = store
        self.grid = grid
        self.base = base
        self.shelves = shelves
        self.config = config
        carried = [i for i, product in enumerate(base.products) if store.plates_of(product.product_id)]
        self.carried = np.array(carried)
        self.carried_set = frozenset(carried)
        self.restricted = np.array([base.products[i].category in RESTRICTED_CATEGORIES for i in carried])
        self.stands: list[tuple[float, float, float, float]] = []  # x, y, from, until: bodies at shelves

    def plan(
        self, rng: np.random.Generator, visit_id: str, payer: Shopper, gate_id: str, at: float
    ) -> PlannedVisit:
        gate = next(g for g in self.store.gates if g.gate_id == gate_id)
        local_hour = datetime.fromtimestamp(at, UTC).astimezone(ZoneInfo(self.store.timezone)).hour
        restricted_open = self.store.restricted_sale_allowed(local_hour)
        people = self._people(rng, visit_id, payer)
        self.stands = [stand for stand in self.stands if stand[3] > at]  # visits are planned as they come in
        trips: list[Trip] = []
        for order, person in enumerate(people):
            trip = Trip(person, [(at + 0.9 * order, gate.x_m, gate.y_m + 0.3)])
            minor = person.age_band in (AgeBand.MINOR, AgeBand.UNKNOWN)
            taste = payer if person.role == "payer" else None
            self._shop(rng, trip, taste, allow_restricted=restricted_open and not minor)
            trips.append(trip)
        leave_at = max(trip.now for trip in trips)
        for trip in trips:  # the group gathers at the gate and leaves together
            trip.walk(self.grid.route(trip.position, (gate.x_m, gate.y_m + 0.3)), 1.2)
        leave_at = max(trip.now for trip in trips) + 1.0
        for order, trip in enumerate(trips):
            trip.waypoints.append((leave_at + 0.8 * order, gate.x_m, max(gate.y_m - 0.3, 0.05)))
        return PlannedVisit(visit_id, self.store.store_id, payer, gate_id, at, trips, exited_at=leave_at)

    def _people(self, rng: np.random.Generator, visit_id: str, payer: Shopper) -> list[Person]:
        member = payer.member
        people = [Person(f"{visit_id}-p0", member.member_id, member.age_band, member.gender, "payer")]
        if rng.random() < payer.group_share:
            for n in range(int(rng.integers(1, 4))):
                band = AgeBand(rng.choice(COMPANION_BANDS)) if rng.random() < 0.5 else member.age_band
                gender = Gender.FEMALE if rng.random() < 0.5 else Gender.MALE
                people.append(Person(f"{visit_id}-p{n + 1}", None, band, gender, "companion"))
        if rng.random() < self.config.tailgating_rate:
            people.append(Person(f"{visit_id}-t", None, AgeBand.UNKNOWN, Gender.UNKNOWN, "tailgater"))
        return people

    def _shopping_list(
        self, rng: np.random.Generator, taste: Shopper | None, allow_restricted: bool
    ) -> list[int]:
        """Product indexes (into the shopper base) this person came for."""
        if taste is None:  # companions and tailgaters grab one or two popular things
            logits = np.zeros(len(self.carried))
            count = int(rng.integers(0, 3))
        else:
            logits = taste.product_logits[self.carried]
            if rng.random() < self.config.empty_handed_share:
                return []
            count = max(int(rng.poisson(taste.basket_mean)), 1)
        logits = np.where(self.restricted & ~allow_restricted, -np.inf, logits)
        wanted: list[int] = []
        if taste is not None:
            wanted = [
                i
                for i in taste.habitual
                if rng.random() < self.config.habitual_pick_prob
                and i in self.carried_set
                and (allow_restricted or self.base.products[i].category not in RESTRICTED_CATEGORIES)
            ]
        extra = max(count - len(wanted), 0)
        if extra:
            weights = np.exp(logits - logits[np.isfinite(logits)].max())
            weights = weights / weights.sum()
            extra = min(extra, int(np.count_nonzero(weights)))
            chosen = rng.choice(self.carried, size=extra, replace=False, p=weights)
            wanted.extend(int(i) for i in chosen if int(i) not in wanted)
        return wanted

    def _shop(
        self, rng: np.random.Generator, trip: Trip, taste: Shopper | None, allow_restricted: bool
    ) -> None:
        speed = float(rng.uniform(*self.config.walk_speed_mps))
        wanted = [self.base.products[i] for i in self._shopping_list(rng, taste, allow_restricted)]
        stops: list[tuple[Plate, Product | None]] = []
        for item in wanted:
            plates = self.store.plates_of(item.product_id)
            stops.append((plates[int(rng.integers(len(plates)))], item))
        for _ in range(int(rng.poisson(self.config.browse_stops_mean))):  # a look without buying
            stops.append((self.store.plates[int(rng.integers(len(self.store.plates)))], None))
        for plate, product in self._tour(trip.position, stops):
            trip.walk(self.grid.route(trip.position, plate.reach_point), speed)
            arrival, hands_since, stockouts_since = (
                len(trip.waypoints) - 1,
                len(trip.hands),
                len(self.shelves.stockouts),
            )
            trip.stops += 1
            trip.wait(float(rng.uniform(*self.config.stop_dwell_s)))
            if product is not None:
                self._pick(rng, trip, plate, product)
            trip.wait(float(rng.uniform(0.5, 3.0)))
            arrived_at = trip.waypoints[arrival][0]
            stay_s = trip.now - arrived_at
            start = self._free_from(plate.reach_point, arrived_at, stay_s)
            if start > arrived_at:  # someone stands on the spot: wait beside it
                aside = self._aside(plate, arrived_at, start)
                delay = trip.step_aside(arrival, hands_since, aside, start, ASIDE_M / speed)
                self.shelves.postpone_stockouts(stockouts_since, delay)
                self.stands.append((*aside, arrived_at, start))
            self.stands.append((*plate.reach_point, trip.now - stay_s, trip.now))

    def _taken(self, spot: Point, since: float, until: float) -> list[float]:
        """When the stands overlapping a spot between two instants end."""
        return [
            end
            for x, y, begin, end in self.stands
            if begin < until and since < end and math.hypot(x - spot[0], y - spot[1]) < BODY_M
        ]

    def _free_from(self, spot: Point, at: float, stay_s: float) -> float:
        """The first instant from ``at`` on that a spot is free for a stay of ``stay_s``."""
        while busy := self._taken(spot, at, at + stay_s):
            at = max(busy)
        return at

    def _aside(self, plate: Plate, since: float, until: float) -> Point:
        """Where to wait for a plate's spot: beside it along the shelf if free, else a step back."""
        x, y = plate.reach_point
        back = (x, y + math.copysign(ASIDE_M, y - plate.y_m))
        for spot in ((x + ASIDE_M, y), (x - ASIDE_M, y)):
            if 0.0 < spot[0] < self.store.width_m and not self._taken(spot, since, until):
                return spot
        return back

    def _tour(
        self, start: Point, stops: list[tuple[Plate, Product | None]]
    ) -> list[tuple[Plate, Product | None]]:
        """Nearest-first order of the stops, as people walk a small store."""
        remaining = list(stops)
        ordered: list[tuple[Plate, Product | None]] = []
        here = start
        while remaining:
            nearest = min(
                remaining,
                key=lambda stop: np.hypot(stop[0].reach_point[0] - here[0], stop[0].reach_point[1] - here[1]),
            )
            remaining.remove(nearest)
            ordered.append(nearest)
            here = nearest[0].reach_point
        return ordered

    def _pick(self, rng: np.random.Generator, trip: Trip, plate: Plate, product: Product) -> None:
        wanted = int(rng.choice([1, 1, 1, 1, 1, 1, 2, 2, 3]))
        taken = self.shelves.take(plate, wanted, trip.now)
        if taken == 0:
            return
        handling = float(rng.uniform(0.8, 2.0))
        trip.hands.append(
            HandOnPlate(
                trip.now,
                handling,
                trip.person.person_id,
                plate.plate_id,
                product.product_id,
                ShelfAction.PICK,
                taken,
                -taken * product.unit_weight_g,
            )
        )
        trip.wait(handling + float(rng.uniform(1.0, 6.0)))
        if rng.random() >= self.config.put_back_share:
            return
        back_on = self._neighbour(plate) if rng.random() < self.config.wrong_plate_share else plate
        if back_on is plate:  # a misplaced item stays foreign to its plate's stock until staff fix it
            self.shelves.put_back(plate, 1)
        handling = float(rng.uniform(0.8, 2.0))
        trip.hands.append(
            HandOnPlate(
                trip.now,
                handling,
                trip.person.person_id,
                back_on.plate_id,
                product.product_id,
                ShelfAction.PUT_BACK,
                1,
                float(product.unit_weight_g),
            )
        )
        trip.wait(handling)

    def _neighbour(self, plate: Plate) -> Plate:
        """The plate next to this one on the same shelf (where a put-back lands when it misses)."""
        same_shelf = [
            p
            for p in self.store.plates
            if p.gondola_id == plate.gondola_id
            and p.shelf == plate.shelf
            and abs(p.position - plate.position) == 1
        ]
        return same_shelf[0] if same_shelf else plate
