"""The checkout fusion on hand-built store moments, and on a simulated day against its ground truth.

The moments play in store S002 (one gate lane at x=6.6, y=0.7): shoppers come in through the lane,
walk to a plate's reach point, stand there, take something, and walk out again. Tracks are sampled
at 2 Hz like the tracker's, with no noise, so each test shows one behaviour of the fusion.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from ingestion.simulator.run import StoreDay
from realtime.checkout.evaluate import score_receipts
from realtime.checkout.fusion import StoreCheckout
from walkout.catalog import Catalog, load_catalog
from walkout.contracts import (
    CameraTrack,
    DeadLetter,
    Event,
    GateDirection,
    GateScan,
    Purchase,
    ScanOutcome,
    ShelfAction,
    ShelfEvent,
    Visit,
    VisitStatus,
    make_event_id,
)

STORE = "S002"
GATE = "S002-G1"
START = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
INSIDE = (6.6, 1.0)  # where people step in through the lane
OUTSIDE = (6.6, 0.4)  # where they vanish when leaving
PLATE_A = "S002-GD07-S3-P05"  # P0195, 94 g, reach point (4.684, 4.2)
PLATE_A_NEXT = "S002-GD07-S3-P06"  # P0196, 130 g, the neighbouring plate
PLATE_B = "S002-GD09-S3-P02"  # P0153, 115 g, reach point (5.493, 2.5)

Waypoint = tuple[float, float, float]  # seconds after START, x, y


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@dataclass
class Moment:
    """Events of a hand-built store moment, played through a fresh fusion in event-time order."""

    catalog: Catalog
    events: list[Event] = field(default_factory=list)

    def scan(self, at: float, direction: GateDirection, token: str, group_size: int = 1) -> None:
        self.events.append(
            GateScan(
                event_id=make_event_id("test-scan", token, direction, at),
                store_id=STORE,
                ts=START + timedelta(seconds=at),
                gate_id=GATE,
                direction=direction,
                token_id=token,
                shopper_id=f"M{token}",
                outcome=ScanOutcome.ACCEPTED,
                group_size=group_size,
            )
        )

    def walk(self, track_id: str, waypoints: Sequence[Waypoint]) -> None:
        """Samples of one tracker id every half second along straight walks between waypoints."""
        legs = list(itertools.pairwise(waypoints))
        for leg, ((t0, x0, y0), (t1, x1, y1)) in enumerate(legs):
            steps = round((t1 - t0) * 2)
            for step in range(steps + 1 if leg == len(legs) - 1 else steps):
                share = step / steps if steps else 1.0
                self._sample(track_id, t0 + (t1 - t0) * share, x0 + (x1 - x0) * share, y0 + (y1 - y0) * share)

    def _sample(self, track_id: str, at: float, x: float, y: float) -> None:
        self.events.append(
            CameraTrack(
                event_id=make_event_id("test-track", track_id, at),
                store_id=STORE,
                ts=START + timedelta(seconds=at),
                camera_id=f"{STORE}-CAM1",
                track_id=track_id,
                x_m=round(x, 3),
                y_m=round(y, 3),
            )
        )

    def shelf(self, at: float, plate_id: str, grams: float, quantity: int, confidence: float = 0.99) -> None:
        plate = self.catalog.store(STORE).plate(plate_id)
        self.events.append(
            ShelfEvent(
                event_id=make_event_id("test-shelf", plate_id, at),
                store_id=STORE,
                ts=START + timedelta(seconds=at),
                shelf_id=f"{plate.gondola_id}-SH{plate.shelf}",
                plate_id=plate_id,
                action=ShelfAction.PICK if grams < 0 else ShelfAction.PUT_BACK,
                weight_delta_g=grams,
                product_id=plate.product_id,
                quantity=quantity,
                confidence=confidence,
            )
        )

    def play(self) -> list[Event]:
        fusion = StoreCheckout(self.catalog.store(STORE), self.catalog)
        outputs: list[Event] = []
        for event in sorted(self.events, key=lambda event: (event.ts, event.event_id)):
            outputs += fusion.apply(event)
        return outputs + fusion.close_all()


def reach(plate_id: str, catalog: Catalog) -> tuple[float, float]:
    return catalog.store(STORE).plate(plate_id).reach_point


def shop(
    catalog: Catalog, enter: float, plate_id: str, arrive: float, leave: float, out: float
) -> list[Waypoint]:
    """Come in, walk to a plate, stand there from ``arrive`` to ``leave``, walk out (gone at ``out``)."""
    x, y = reach(plate_id, catalog)
    return [(enter, *INSIDE), (arrive, x, y), (leave, x, y), (out - 1.0, *INSIDE), (out, *OUTSIDE)]


def receipts(outputs: list[Event]) -> dict[str, dict[str, int]]:
    """Visit id → charged product → quantity."""
    return {
        event.visit_id: {line.product_id: line.quantity for line in event.lines}
        for event in outputs
        if isinstance(event, Purchase)
    }


def test_a_pick_is_charged_when_the_shopper_walks_out(catalog: Catalog) -> None:
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "T1")
    moment.walk("a", shop(catalog, 0.5, PLATE_A, 6.0, 20.0, 26.0))
    moment.shelf(14.0, PLATE_A, -94.0, 1)
    moment.scan(25.8, GateDirection.EXIT, "T1")
    outputs = moment.play()
    assert receipts(outputs) == {"S002-T1": {"P0195": 1}}
    purchase = next(event for event in outputs if isinstance(event, Purchase))
    assert not purchase.needs_review
    assert purchase.total_krw == 1900
    statuses = [event.status for event in outputs if isinstance(event, Visit)]
    assert statuses == [VisitStatus.OPENED, VisitStatus.CLOSED]


def test_a_put_back_leaves_the_cart(catalog: Catalog) -> None:
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "T1")
    moment.walk("a", shop(catalog, 0.5, PLATE_A, 6.0, 24.0, 30.0))
    moment.shelf(14.0, PLATE_A, -188.0, 2)
    moment.shelf(19.0, PLATE_A, 94.0, 1)
    moment.scan(29.8, GateDirection.EXIT, "T1")
    assert receipts(moment.play()) == {"S002-T1": {"P0195": 1}}


def test_a_put_back_on_the_wrong_plate_is_matched_by_weight(catalog: Catalog) -> None:
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "T1")
    moment.walk("a", shop(catalog, 0.5, PLATE_A, 6.0, 24.0, 30.0))
    moment.shelf(14.0, PLATE_A, -188.0, 2)
    moment.shelf(19.0, PLATE_A_NEXT, 94.0, 1, confidence=0.2)  # 94 g is not the 130 g product there
    moment.scan(29.8, GateDirection.EXIT, "T1")
    assert receipts(moment.play()) == {"S002-T1": {"P0195": 1}}


def test_a_group_is_charged_to_its_payer_on_one_receipt(catalog: Catalog) -> None:
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "T1", group_size=2)
    moment.walk("payer", shop(catalog, 0.5, PLATE_A, 6.0, 20.0, 26.0))
    moment.walk("friend", shop(catalog, 1.5, PLATE_B, 5.0, 20.0, 27.0))
    moment.shelf(14.0, PLATE_A, -94.0, 1)
    moment.shelf(15.0, PLATE_B, -230.0, 2)
    moment.scan(25.8, GateDirection.EXIT, "T1", group_size=2)
    outputs = moment.play()
    assert receipts(outputs) == {"S002-T1": {"P0195": 1, "P0153": 2}}
    assert [event.shopper_id for event in outputs if isinstance(event, Purchase)] == ["MT1"]


def test_a_tailgaters_pick_is_charged_to_nobody_and_dead_lettered(catalog: Catalog) -> None:
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "T1")
    moment.walk("payer", shop(catalog, 0.5, PLATE_A, 6.0, 20.0, 26.0))
    moment.walk("tailgater", shop(catalog, 1.5, PLATE_B, 5.0, 20.0, 27.0))
    moment.shelf(14.0, PLATE_A, -94.0, 1)
    moment.shelf(15.0, PLATE_B, -115.0, 1)
    moment.scan(25.8, GateDirection.EXIT, "T1")
    outputs = moment.play()
    assert receipts(outputs) == {"S002-T1": {"P0195": 1}}
    dead = [event for event in outputs if isinstance(event, DeadLetter)]
    assert len(dead) == 1
    assert dead[0].reason.startswith("unattributable")
    assert ShelfEvent.model_validate_json(dead[0].original()).plate_id == PLATE_B


def test_ids_swapped_between_two_shoppers_are_undone_at_the_exit(catalog: Catalog) -> None:
    """A and B cross at (5.1, 3.3); from then on the tracker follows A under "b" and B under "a"."""
    ax, ay = reach(PLATE_A, catalog)  # A goes on to plate A, north of the crossing
    bx, by = reach(PLATE_B, catalog)  # B goes on to plate B, south of it
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TA")
    moment.scan(2.0, GateDirection.ENTRY, "TB")
    moment.walk("a", [(0.5, *INSIDE), (6.0, 5.1, 1.4), (10.0, 5.1, 3.3), (12.0, bx, by), (28.0, bx, by)])
    moment.walk("b", [(2.5, *INSIDE), (6.0, 6.0, 4.6), (10.0, 5.1, 3.3), (12.0, ax, ay), (22.0, ax, ay)])
    moment.walk("b", [(22.0, ax, ay), (27.0, *INSIDE), (28.0, *OUTSIDE)])  # A walks out first
    moment.walk("a", [(28.0, bx, by), (33.0, *INSIDE), (34.0, *OUTSIDE)])
    moment.shelf(19.0, PLATE_A, -94.0, 1)  # A, under "b"
    moment.shelf(20.0, PLATE_B, -115.0, 1)  # B, under "a"
    moment.scan(27.8, GateDirection.EXIT, "TA")
    moment.scan(33.8, GateDirection.EXIT, "TB")
    assert receipts(moment.play()) == {"S002-TA": {"P0195": 1}, "S002-TB": {"P0153": 1}}


def test_a_track_that_breaks_is_stitched_back_to_its_shopper(catalog: Catalog) -> None:
    ax, ay = reach(PLATE_A, catalog)
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "T1")
    moment.walk("a", [(0.5, *INSIDE), (4.5, 6.2, 3.0)])  # lost here for two seconds ...
    moment.walk("a2", [(6.5, 5.5, 3.9), (8.0, ax, ay), (22.0, ax, ay), (27.0, *INSIDE), (28.0, *OUTSIDE)])
    moment.shelf(16.0, PLATE_A, -94.0, 1)
    moment.scan(27.8, GateDirection.EXIT, "T1")
    outputs = moment.play()
    assert receipts(outputs) == {"S002-T1": {"P0195": 1}}
    closed = [event for event in outputs if isinstance(event, Visit) and event.status is VisitStatus.CLOSED]
    assert closed[0].track_ids == ("a", "a2")


def test_a_simulated_day_is_charged_right(simulated_day: list[StoreDay], catalog: Catalog) -> None:
    day = simulated_day[0]
    fusion = StoreCheckout(catalog.store(day.store_id), catalog)
    outputs: list[Event] = []
    seen: set[str] = set()
    last_expiry = 0.0
    for event in sorted((event for _, event in day.events), key=lambda event: (event.ts, event.event_id)):
        if event.event_id in seen:
            continue
        seen.add(event.event_id)
        outputs += fusion.apply(event)
        if event.ts.timestamp() - last_expiry > 10.0:
            last_expiry = event.ts.timestamp()
            outputs += fusion.expire(last_expiry)
    outputs += fusion.close_all()
    score = score_receipts(
        [event for event in outputs if isinstance(event, Purchase)], day.truth.visits, day.truth.receipts
    )
    print(score)
    assert score.exact_receipt_rate >= 0.97
    assert score.review_rate <= 0.03
    assert score.line_precision >= 0.99
    assert score.line_recall >= 0.99
