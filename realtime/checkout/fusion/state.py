"""What one store's fusion knows, and the records it keeps: the state every part of the fusion reads.

:class:`FusionState` holds the visits, tracks, people and takes, and answers the small questions all
parts ask of them (where someone was, what a party carries); the parts themselves (camera, gate,
exits, swaps, shelves, receipts) are functions over it. Its attributes are the snapshot's (see
:mod:`realtime.checkout.snapshot`): everything but the store, catalog and parameters is state.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from realtime.checkout.demographics import Estimate
from realtime.checkout.fusion.params import DEFAULT_PARAMS, FusionParams
from realtime.checkout.fusion.tracks import Gap, Person, Point, Sample, Track, distance
from walkout.calibration import Calibration
from walkout.catalog import Catalog, CatalogError, Plate, Store
from walkout.contracts import Event, GateScan, ShelfEvent, rejected_event


def epoch(value: datetime) -> float:
    return value.timestamp()


def utc(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True)
class Weighed:
    """Someone weighed as a shelf event's taker, as they stood then: the evidence kept for review."""

    visit_id: str | None
    likelihood: float  # their share among those weighed
    distance: float  # m, mean position from the reach point
    stood_s: float  # nan: not seen before; inf: longer than the look back
    moved_on_s: float  # nan: lost at the plate; inf: still there at the end of the look ahead


@dataclass(frozen=True)
class Take:
    """A shelf event as it changed one person's cart (a put-back takes a negative quantity), with whom
    it was weighed against and how often an undone id swap moved it."""

    at: float  # when the plate settled
    product_id: str
    quantity: int
    confidence: float
    event: ShelfEvent
    weighed: tuple[Weighed, ...] = ()
    swaps_undone: int = 0


@dataclass
class OpenVisit:
    visit_id: str
    shopper_id: str
    group_size: int
    gate_id: str
    entered_at: datetime
    person_ids: list[str] = field(default_factory=list)
    review_reasons: list[str] = field(default_factory=list)
    cart_revision: int = 0  # how many times its cart was shown
    cart_shown: tuple[tuple[str, int], ...] = ()  # products and quantities the cart last showed


@dataclass(frozen=True)
class PassCheck:
    """Look again at two ids once their close passes are over and both have been seen for a while after."""

    pair: tuple[str, str]
    since: float = -math.inf  # the passes from this instant on are yet to be looked at


class FusionState:
    """The live state of one store's fusion, and the questions every part asks of it."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        params: FusionParams = DEFAULT_PARAMS,
        calibration: Calibration | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.params = params  # settings, not state: a snapshot leaves them out
        # how sure a line must be not to go to review (None: ``params.review_below``); a setting the
        # service swaps in when a newer version appears, so a snapshot leaves it out too
        self.calibration = calibration
        self.visits: dict[str, OpenVisit] = {}
        self.tracks: dict[str, Track] = {}
        self.persons: dict[str, Person] = {}
        self.takes: dict[str, list[Take]] = {}  # person id → what they took, in time order
        self.passes: dict[tuple[str, str], list[Gap]] = {}  # id pair → frames they were close
        self.frame: tuple[float, list[tuple[str, float, float]]] = (0.0, [])  # ids in the latest frame
        self.exiting: dict[str, tuple[str, float, int]] = {}  # visit id → lane, time, group of undecided exit
        self.closed: dict[str, float] = {}  # visit id → when it closed
        self.departed: dict[str, float] = {}  # track id → when it left; late samples are ignored
        self.estimates: dict[str, Estimate] = {}  # track id → the entrance camera's surest guess
        self.minors: set[str] = set()  # track ids the entrance camera ever took for a minor
        self.pass_checks: set[tuple[str, str]] = set()  # id pairs whose close pass is yet to be looked at
        self.pending: list[tuple[float, str, GateScan | ShelfEvent | PassCheck | str]] = []
        self.clock = 0.0
        self.swept = 0.0

    def samples(self, person: Person, start: float, end: float) -> list[Sample]:
        samples: list[Sample] = []
        for track_id, begin, until in person.spans(start, end):
            track = self.tracks.get(track_id)  # gone with another person who already left
            if track is not None:
                samples += track.between(begin, until)
        return samples

    def last_seen(self, visit: OpenVisit) -> float:
        return max((self.last_sighting(self.persons[p]) for p in visit.person_ids), default=0.0)

    def last_sighting(self, person: Person) -> float:
        """When the person was last seen (their id may have left with someone else they swapped with)."""
        for track_id, begin, until in reversed(list(person.spans(-math.inf, math.inf))):
            track = self.tracks.get(track_id)
            samples = track.between(begin, until) if track is not None else []
            if samples:
                return samples[-1][0]
        return person.since

    def join(self, person: Person, visit: OpenVisit) -> None:
        person.visit_id = visit.visit_id
        visit.person_ids.append(person.person_id)

    def plate(self, plate_id: str) -> Plate | None:
        try:
            return self.store.plate(plate_id)
        except CatalogError:
            return None

    def lane_at(self, position: Point) -> str | None:
        """The gate lane someone at this position is passing through, if any. Lanes are compared by
        id: a restored snapshot holds copies of the store's gates."""
        gate = min(self.store.gates, key=lambda g: distance(position, (g.x_m, g.y_m)))
        return gate.gate_id if distance(position, (gate.x_m, gate.y_m)) <= self.params.gate_m else None

    def record(self, person: Person, take: Take) -> None:
        self.takes.setdefault(person.person_id, []).append(take)

    def cart(self, person: Person) -> Counter[str]:
        """What this person's party carries: the visit's cart, or the person's own if unclaimed."""
        visit = self.visits.get(person.visit_id or "")
        return self.carried(visit.person_ids if visit else [person.person_id])

    def carried(self, person_ids: list[str]) -> Counter[str]:
        """Units of each product these people took, less what they put back."""
        cart: Counter[str] = Counter()
        for person_id in person_ids:
            for take in self.takes.get(person_id, []):
                cart[take.product_id] += take.quantity
        return cart

    def reject(self, event: Event, reason: str) -> Event:
        return rejected_event(event, reason, "checkout")
