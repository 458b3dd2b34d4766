"""The checkout fusion on hand-built store moments, and on a simulated day against its ground truth.

The moments play in store S002 (one gate lane at x=6.6, y=0.7): shoppers come in through the lane,
walk to a plate's reach point, stand there, take something, and walk out again. Tracks are sampled
at 2 Hz like the tracker's, with no noise, so each test shows one behaviour of the fusion.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from realtime.checkout.fusion import (
    AGE_NOT_VERIFIED,
    DEFAULT_PARAMS,
    AlertRules,
    FusionParams,
    StoreCheckout,
    swaps,
)
from realtime.checkout.fusion.tracks import (
    Colour,
    Look,
    closest,
    misfit,
    split_passes,
    swap_odds_from_looks,
)
from realtime.checkout.replay import replay_checkout
from realtime.checkout.service import CheckoutState, load_state, save_state
from twin.checkout_evaluate import score_receipts
from twin.run import SimulationPlan, StoreDay, simulate_store_days
from walkout.appearance import Appearance, part_histogram, rounded
from walkout.calibration import Calibration
from walkout.catalog import Catalog, load_catalog
from walkout.contracts import (
    Alert,
    AlertKind,
    AlertSeverity,
    Attribution,
    CameraTrack,
    Cart,
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
    alert_id,
    make_event_id,
    parse_event,
)
from walkout.vocabulary import AgeBand

STORE = "S002"
GATE = "S002-G1"
START = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
INSIDE = (6.6, 1.0)  # where people step in through the lane
OUTSIDE = (6.6, 0.4)  # where they vanish when leaving
PLATE_A = "S002-GD07-S3-P05"  # P0195, 94 g, reach point (4.684, 4.2)
PLATE_A_NEXT = "S002-GD07-S3-P06"  # P0196, 130 g, the neighbouring plate (reach point 0.1 m away)
PLATE_A_ABOVE = "S002-GD07-S4-P05"  # P0179, 175 g, the plate above: the same reach point
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

    def scan(
        self, at: float, direction: GateDirection, token: str, group_size: int = 1, shopper: str = ""
    ) -> None:
        self.events.append(
            GateScan(
                event_id=make_event_id("test-scan", token, direction, at),
                store_id=STORE,
                ts=START + timedelta(seconds=at),
                gate_id=GATE,
                direction=direction,
                token_id=token,
                shopper_id=shopper or f"M{token}",
                outcome=ScanOutcome.ACCEPTED,
                group_size=group_size,
            )
        )

    def walk(
        self,
        track_id: str,
        waypoints: Sequence[Waypoint],
        looks: Colour | None = None,
        seen_as: tuple[AgeBand, float] | None = None,
        appearance: Appearance | None = None,
    ) -> None:
        """Samples of one tracker id every half second along straight walks between waypoints, showing
        the colour ``looks`` and the ``appearance`` if given; the entrance camera took them for
        ``seen_as`` (band, confidence)."""
        legs = list(itertools.pairwise(waypoints))
        for leg, ((t0, x0, y0), (t1, x1, y1)) in enumerate(legs):
            steps = round((t1 - t0) * 2)
            for step in range(steps + 1 if leg == len(legs) - 1 else steps):
                share = step / steps if steps else 1.0
                at, x, y = t0 + (t1 - t0) * share, x0 + (x1 - x0) * share, y0 + (y1 - y0) * share
                self._sample(
                    track_id, at, x, y, looks, seen_as if at == waypoints[0][0] else None, appearance
                )

    def _sample(
        self,
        track_id: str,
        at: float,
        x: float,
        y: float,
        looks: Colour | None,
        seen_as: tuple[AgeBand, float] | None = None,
        appearance: Appearance | None = None,
    ) -> None:
        self.events.append(
            CameraTrack(
                event_id=make_event_id("test-track", track_id, at),
                store_id=STORE,
                ts=START + timedelta(seconds=at),
                camera_id=f"{STORE}-CAM1",
                track_id=track_id,
                x_m=round(x, 3),
                y_m=round(y, 3),
                colour_lab=looks,
                appearance=appearance,
                age_band=seen_as[0] if seen_as else None,
                demographic_confidence=seen_as[1] if seen_as else None,
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

    def play(
        self,
        snapshot: Path | None = None,
        params: FusionParams = DEFAULT_PARAMS,
        calibration: Calibration | None = None,
    ) -> list[Event]:
        """Events in event-time order through a fusion tuned by ``params`` (and flagging receipts by
        ``calibration``); with ``snapshot``, the state goes through a snapshot and back after every event,
        as a restarted service would load it (its calibration set again, as the service does)."""
        fusion = StoreCheckout(self.catalog.store(STORE), self.catalog, params, calibration)
        outputs: list[Event] = []
        for event in sorted(self.events, key=lambda event: (event.ts, event.event_id)):
            outputs += fusion.apply(event)
            if snapshot is not None:
                save_state(CheckoutState(stores={STORE: fusion}), snapshot)
                fusion = load_state(snapshot, self.catalog).stores[STORE]
                fusion.calibration = calibration
        return outputs + fusion.close_all()


def reach(plate_id: str, catalog: Catalog) -> tuple[float, float]:
    return catalog.store(STORE).plate(plate_id).reach_point


def shop(
    catalog: Catalog, enter: float, plate_id: str, arrive: float, leave: float, out: float
) -> list[Waypoint]:
    """Come in, walk to a plate, stand there from ``arrive`` to ``leave``, walk out (gone at ``out``)."""
    x, y = reach(plate_id, catalog)
    return [(enter, *INSIDE), (arrive, x, y), (leave, x, y), (out - 1.0, *INSIDE), (out, *OUTSIDE)]


def charged_lines(purchases: list[Purchase]) -> list[tuple[str, str]]:
    """(visit id, product) of every receipt line, in order."""
    return [(receipt.visit_id, line.product_id) for receipt in purchases for line in receipt.lines]


def receipts(outputs: list[Event]) -> dict[str, dict[str, int]]:
    """Visit id → charged product → quantity."""
    return {
        event.visit_id: {line.product_id: line.quantity for line in event.lines}
        for event in outputs
        if isinstance(event, Purchase)
    }


PLATE_BEER = "S002-GD05-S4-P01"  # P0349, 530 g, age-restricted
ADULT_MEMBER, UNDECLARED_MEMBER = "M001502", "M001506"  # 60+ declared; 19-29 but never declared


@pytest.mark.parametrize(
    ("shopper", "seen_as", "age_check"),
    [
        (ADULT_MEMBER, None, False),  # a declared adult
        (ADULT_MEMBER, (AgeBand.MINOR, 0.4), True),  # any estimate of a minor wins, however unsure
        (UNDECLARED_MEMBER, (AgeBand.AGE_19_29, 0.9), False),  # a sure estimate of an adult
        (UNDECLARED_MEMBER, (AgeBand.AGE_19_29, 0.63), True),  # an unsure one is unknown
        (UNDECLARED_MEMBER, None, True),  # not seen by the entrance camera: unknown
    ],
)
def test_alcohol_taken_by_someone_not_known_to_be_an_adult_goes_to_review(
    catalog: Catalog, shopper: str, seen_as: tuple[AgeBand, float] | None, age_check: bool
) -> None:
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "T1", shopper=shopper)
    moment.walk("a", shop(catalog, 0.5, PLATE_BEER, 6.0, 20.0, 26.0), seen_as=seen_as)
    moment.shelf(14.0, PLATE_BEER, -530.0, 1)
    moment.scan(25.8, GateDirection.EXIT, "T1", shopper=shopper)
    (purchase,) = [event for event in moment.play() if isinstance(event, Purchase)]
    assert [(line.product_id, line.quantity) for line in purchase.lines] == [("P0349", 1)]
    assert (AGE_NOT_VERIFIED in purchase.review_reasons) is age_check
    assert purchase.needs_review is age_check


def one_pick(catalog: Catalog) -> Moment:
    """One shopper alone in the store takes one item from plate A and walks out."""
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "T1")
    moment.walk("a", shop(catalog, 0.5, PLATE_A, 6.0, 20.0, 26.0))
    moment.shelf(14.0, PLATE_A, -94.0, 1)
    moment.scan(25.8, GateDirection.EXIT, "T1")
    return moment


def test_a_pick_is_charged_when_the_shopper_walks_out(catalog: Catalog) -> None:
    outputs = one_pick(catalog).play()
    assert receipts(outputs) == {"S002-T1": {"P0195": 1}}
    purchase = next(event for event in outputs if isinstance(event, Purchase))
    assert not purchase.needs_review
    assert purchase.total_krw == 1900
    statuses = [event.status for event in outputs if isinstance(event, Visit)]
    assert statuses == [VisitStatus.OPENED, VisitStatus.CLOSED]


def test_a_fusion_tuned_stricter_sends_a_sure_receipt_to_review(catalog: Catalog) -> None:
    """The parameters are the fusion's own: a review threshold above the take's 0.99 flags it."""
    stricter = dataclasses.replace(DEFAULT_PARAMS, review_below=0.995)
    (purchase,) = [event for event in one_pick(catalog).play(params=stricter) if isinstance(event, Purchase)]
    assert purchase.review_reasons == ("low attribution confidence",)


def test_a_calibration_flags_by_its_threshold_and_names_itself_on_the_receipt(
    catalog: Catalog, tmp_path: Path
) -> None:
    """A take the fusion is 0.99 sure of: a calibration that finds such lines right half the time, with
    a threshold of 0.6, flags it; one that finds them always right, with the same threshold, does not.
    Through a snapshot after every event, as a restarted service scores: the calibration is a setting."""
    doubtful = Calibration("20261208T000000000000Z-doubtful", (0.5, 0.99), (0.3, 0.5), 0.6, 0.001, {})
    trusted = Calibration("20261208T000000000000Z-trusted", (0.5, 0.99), (0.3, 1.0), 0.6, 0.001, {})
    played = {
        name: [
            event
            for event in one_pick(catalog).play(tmp_path / name, calibration=calibration)
            if isinstance(event, Purchase)
        ]
        for name, calibration in (("doubtful", doubtful), ("trusted", trusted))
    }
    ((flagged,), (charged,)) = played["doubtful"], played["trusted"]
    assert flagged.review_reasons == ("low attribution confidence",)
    assert flagged.calibration_version == doubtful.version
    assert not charged.needs_review
    assert charged.calibration_version == trusted.version
    assert b'"calibration_version":"20261208T000000000000Z-trusted"' in charged.to_bytes()


def test_without_a_calibration_the_receipt_is_as_before(catalog: Catalog) -> None:
    (purchase,) = [event for event in one_pick(catalog).play() if isinstance(event, Purchase)]
    assert purchase.calibration_version is None
    assert b"calibration_version" not in purchase.to_bytes()  # absent, not null: the same bytes as before


def carts(outputs: list[Event]) -> list[tuple[str, int, dict[str, int]]]:
    """(visit id, revision, product → quantity) of every cart shown, in order."""
    return [
        (event.visit_id, event.revision, {line.product_id: line.quantity for line in event.lines})
        for event in outputs
        if isinstance(event, Cart)
    ]


def pick_then_put_back(catalog: Catalog, picked: int, put_back: int) -> list[Event]:
    """One shopper takes ``picked`` units of plate A's 94 g product, then puts ``put_back`` back."""
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "T1")
    moment.walk("a", shop(catalog, 0.5, PLATE_A, 6.0, 24.0, 30.0))
    moment.shelf(14.0, PLATE_A, -94.0 * picked, picked)
    moment.shelf(19.0, PLATE_A, 94.0 * put_back, put_back)
    moment.scan(29.8, GateDirection.EXIT, "T1")
    return moment.play()


def test_a_put_back_leaves_the_cart(catalog: Catalog) -> None:
    """The cart shows each change while the shopper is in; the receipt charges what is left."""
    outputs = pick_then_put_back(catalog, picked=2, put_back=1)
    assert receipts(outputs) == {"S002-T1": {"P0195": 1}}
    assert carts(outputs) == [("S002-T1", 1, {"P0195": 2}), ("S002-T1", 2, {"P0195": 1})]
    shown = [event for event in outputs if isinstance(event, Cart)]
    assert [event.total_krw for event in shown] == [3800, 1900]
    assert outputs.index(shown[-1]) < next(i for i, e in enumerate(outputs) if isinstance(e, Purchase))


def test_a_cart_emptied_by_put_backs_is_shown_empty(catalog: Catalog) -> None:
    """Whoever puts everything back sees an empty cart, and walks out with no charge."""
    outputs = pick_then_put_back(catalog, picked=1, put_back=1)
    assert carts(outputs) == [("S002-T1", 1, {"P0195": 1}), ("S002-T1", 2, {})]
    assert receipts(outputs) == {}


def test_a_put_back_on_the_wrong_plate_is_matched_by_weight(catalog: Catalog) -> None:
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "T1")
    moment.walk("a", shop(catalog, 0.5, PLATE_A, 6.0, 24.0, 30.0))
    moment.shelf(14.0, PLATE_A, -188.0, 2)
    moment.shelf(19.0, PLATE_A_NEXT, 94.0, 1, confidence=0.2)  # 94 g is not the 130 g product there
    moment.scan(29.8, GateDirection.EXIT, "T1")
    outputs = moment.play()
    assert receipts(outputs) == {"S002-T1": {"P0195": 1}}
    # the attributions say what the receipt charged: the put-back as the product its weight matched
    assert [
        (event.visit_id, event.plate_id, event.action, event.product_id, event.quantity)
        for event in outputs
        if isinstance(event, Attribution)
    ] == [
        ("S002-T1", PLATE_A, ShelfAction.PICK, "P0195", 2),
        ("S002-T1", PLATE_A_NEXT, ShelfAction.PUT_BACK, "P0195", 1),
    ]


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
    attributed = [event.plate_id for event in outputs if isinstance(event, Attribution)]
    assert attributed == [PLATE_A]  # the tailgater's pick is attributed to no visit


def alerts(outputs: list[Event]) -> list[Alert]:
    return [event for event in outputs if isinstance(event, Alert)]


def tailgated(catalog: Catalog) -> Moment:
    """A shopper scans in alone; someone walks in right behind them, takes two from plate B and slips
    out behind them."""
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "T1")
    moment.walk("payer", shop(catalog, 0.5, PLATE_A, 6.0, 20.0, 26.0))
    moment.walk("tailgater", shop(catalog, 1.5, PLATE_B, 5.0, 20.0, 27.0))
    moment.shelf(14.0, PLATE_A, -94.0, 1)
    moment.shelf(15.0, PLATE_B, -230.0, 2)
    moment.scan(25.8, GateDirection.EXIT, "T1")
    return moment


def test_a_tailgater_raises_one_tailgating_alert_naming_the_group_it_came_in_behind(catalog: Catalog) -> None:
    (alert,) = [a for a in alerts(tailgated(catalog).play()) if a.kind is AlertKind.TAILGATING]
    assert (alert.track_ids, alert.visit_id, alert.gate_id) == (("tailgater",), "S002-T1", GATE)
    assert alert.severity is AlertSeverity.MEDIUM
    assert alert.ts == START + timedelta(seconds=1.5)  # when it came in
    assert (alert.x_m, alert.y_m) == INSIDE
    assert not alert.items


def test_a_person_not_admitted_who_leaves_with_goods_raises_an_unpaid_exit_beside_the_dead_letter(
    catalog: Catalog,
) -> None:
    outputs = tailgated(catalog).play()
    assert receipts(outputs) == {"S002-T1": {"P0195": 1}}  # the receipt is as without alerts
    (dead,) = [event for event in outputs if isinstance(event, DeadLetter)]
    (alert,) = [a for a in alerts(outputs) if a.kind is AlertKind.UNPAID_EXIT]
    price = catalog.product("P0153").price_krw
    assert [(item.product_id, item.quantity, item.unit_price_krw) for item in alert.items] == [
        ("P0153", 2, price)
    ]
    assert alert.value_krw == 2 * price
    assert alert.track_ids == ("tailgater",)
    assert alert.visit_id is None
    assert alert.ts == START + timedelta(seconds=27.0)  # last seen, leaving
    assert alert.ts == dead.ts + timedelta(seconds=12.0)
    rules = DEFAULT_PARAMS.alerts
    assert alert.severity is (
        AlertSeverity.HIGH
        if alert.value_krw >= rules.unpaid_high_krw
        else AlertSeverity.MEDIUM
        if alert.value_krw >= rules.unpaid_medium_krw
        else AlertSeverity.LOW
    )


def test_an_unpaid_exits_severity_follows_the_rules_thresholds(catalog: Catalog) -> None:
    cheap = dataclasses.replace(DEFAULT_PARAMS, alerts=AlertRules(unpaid_medium_krw=1, unpaid_high_krw=1))
    (alert,) = [a for a in alerts(tailgated(catalog).play(params=cheap)) if a.kind is AlertKind.UNPAID_EXIT]
    assert alert.severity is AlertSeverity.HIGH


def test_what_a_tailgater_put_back_is_not_at_stake(catalog: Catalog) -> None:
    moment = tailgated(catalog)
    moment.shelf(18.0, PLATE_B, 115.0, 1)
    (alert,) = [a for a in alerts(moment.play()) if a.kind is AlertKind.UNPAID_EXIT]
    assert [(item.product_id, item.quantity) for item in alert.items] == [("P0153", 1)]


def test_normal_visits_raise_no_alert(catalog: Catalog) -> None:
    assert alerts(one_pick(catalog).play()) == []
    group = Moment(catalog)
    group.scan(0.0, GateDirection.ENTRY, "T1", group_size=2)
    group.walk("payer", shop(catalog, 0.5, PLATE_A, 6.0, 20.0, 26.0))
    group.walk("friend", shop(catalog, 1.5, PLATE_B, 5.0, 20.0, 27.0))
    group.shelf(14.0, PLATE_A, -94.0, 1)
    group.scan(25.8, GateDirection.EXIT, "T1", group_size=2)
    assert alerts(group.play()) == []


def test_alerts_replayed_or_restored_from_a_snapshot_keep_their_ids(catalog: Catalog, tmp_path: Path) -> None:
    moment = tailgated(catalog)
    first = alerts(moment.play())
    assert len(first) == 2
    assert alerts(moment.play()) == first
    assert alerts(moment.play(snapshot=tmp_path / "checkout.snapshot")) == first


def beer_pick(
    catalog: Catalog, shopper: str, seen_as: tuple[AgeBand, float] | None, later_s: float = 0.0
) -> Moment:
    """A shopper scans in alone, takes a beer from plate P0349 and walks out; ``later_s`` after START
    (10:00 UTC, 19:00 in Seoul: S002 sells no alcohol or tobacco from 22h to 8h)."""
    moment = Moment(catalog)
    moment.scan(later_s, GateDirection.ENTRY, "T1", shopper=shopper)
    moment.walk(
        "a",
        shop(catalog, later_s + 0.5, PLATE_BEER, later_s + 6.0, later_s + 20.0, later_s + 26.0),
        seen_as=seen_as,
    )
    moment.shelf(later_s + 14.0, PLATE_BEER, -530.0, 1)
    moment.scan(later_s + 25.8, GateDirection.EXIT, "T1", shopper=shopper)
    return moment


def restricted(outputs: list[Event]) -> list[Alert]:
    return [alert for alert in alerts(outputs) if alert.kind is AlertKind.RESTRICTED_ITEM]


def test_a_likely_minor_picking_alcohol_raises_one_high_restricted_item_alert(catalog: Catalog) -> None:
    outputs = beer_pick(catalog, ADULT_MEMBER, seen_as=(AgeBand.MINOR, 0.4)).play()
    (alert,) = alerts(outputs)
    assert (alert.kind, alert.severity) == (AlertKind.RESTRICTED_ITEM, AlertSeverity.HIGH)
    price = catalog.product("P0349").price_krw
    assert [(item.product_id, item.quantity, item.unit_price_krw) for item in alert.items] == [
        ("P0349", 1, price)
    ]
    assert alert.value_krw == price
    assert (alert.track_ids, alert.visit_id) == (("a",), "S002-T1")
    plate = catalog.store(STORE).plate(PLATE_BEER)
    assert (alert.zone_id, alert.x_m, alert.y_m) == (plate.zone_id, plate.x_m, plate.y_m)
    assert alert.ts == START + timedelta(seconds=14.0)  # the pick, raised when it is attributed
    (attribution,) = [event for event in outputs if isinstance(event, Attribution)]
    assert alert.event_id == alert_id(AlertKind.RESTRICTED_ITEM, STORE, attribution.shelf_event_id)
    assert "minor" in alert.evidence
    assert outputs.index(alert) < next(i for i, e in enumerate(outputs) if isinstance(e, Purchase))
    assert receipts(outputs) == {"S002-T1": {"P0349": 1}}  # charged as without alerts


@pytest.mark.parametrize(
    ("shopper", "seen_as", "severity"),
    [
        (ADULT_MEMBER, None, None),  # a declared adult: no alert
        (UNDECLARED_MEMBER, (AgeBand.AGE_19_29, 0.9), None),  # a sure estimate of an adult
        (UNDECLARED_MEMBER, (AgeBand.AGE_19_29, 0.63), AlertSeverity.MEDIUM),  # not known to be an adult
        (UNDECLARED_MEMBER, None, AlertSeverity.MEDIUM),  # not seen by the entrance camera
    ],
)
def test_alcohol_raises_a_restricted_item_alert_unless_the_taker_is_known_to_be_an_adult(
    catalog: Catalog, shopper: str, seen_as: tuple[AgeBand, float] | None, severity: AlertSeverity | None
) -> None:
    raised = alerts(beer_pick(catalog, shopper, seen_as).play())
    assert [(alert.kind, alert.severity) for alert in raised] == (
        [] if severity is None else [(AlertKind.RESTRICTED_ITEM, severity)]
    )


def test_alcohol_picked_outside_the_selling_hours_raises_a_medium_restricted_item_alert(
    catalog: Catalog,
) -> None:
    late = 4 * 3600.0  # 14:00 UTC: 23:00 in Seoul
    (alert,) = alerts(beer_pick(catalog, ADULT_MEMBER, seen_as=None, later_s=late).play())
    assert (alert.kind, alert.severity) == (AlertKind.RESTRICTED_ITEM, AlertSeverity.MEDIUM)
    assert "23h local, outside its selling hours" in alert.evidence
    assert [(item.product_id, item.quantity) for item in alert.items] == [("P0349", 1)]
    assert alert.ts == START + timedelta(seconds=late + 14.0)


def test_restricted_item_alerts_replayed_or_restored_from_a_snapshot_keep_their_ids(
    catalog: Catalog, tmp_path: Path
) -> None:
    moment = beer_pick(catalog, ADULT_MEMBER, seen_as=(AgeBand.MINOR, 0.4))
    first = restricted(moment.play())
    assert len(first) == 1
    assert restricted(moment.play()) == first
    assert restricted(moment.play(snapshot=tmp_path / "checkout.snapshot")) == first


def crossed_pair(catalog: Catalog, a_from_plate_a: Sequence[Waypoint]) -> Moment:
    """A (token TA) and B (TB) cross at (5.1, 3.3); from then on the tracker follows A under "b" and
    B under "a". A picks at plate A (north of the crossing), B at plate B (south of it); A leaves plate
    A at 22 s along ``a_from_plate_a`` and scans out at 27.8 s, B walks out and scans at 33.8 s."""
    ax, ay = reach(PLATE_A, catalog)
    bx, by = reach(PLATE_B, catalog)
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TA")
    moment.scan(2.0, GateDirection.ENTRY, "TB")
    moment.walk("a", [(0.5, *INSIDE), (6.0, 5.1, 1.4), (10.0, 5.1, 3.3), (12.0, bx, by), (28.0, bx, by)])
    moment.walk("b", [(2.5, *INSIDE), (6.0, 6.0, 4.6), (10.0, 5.1, 3.3), (12.0, ax, ay), (22.0, ax, ay)])
    moment.walk("b", [(22.0, ax, ay), *a_from_plate_a])
    moment.walk("a", [(28.0, bx, by), (33.0, *INSIDE), (34.0, *OUTSIDE)])
    moment.shelf(19.0, PLATE_A, -94.0, 1)  # A, under "b"
    moment.shelf(20.0, PLATE_B, -115.0, 1)  # B, under "a"
    moment.scan(27.8, GateDirection.EXIT, "TA")
    moment.scan(33.8, GateDirection.EXIT, "TB")
    return moment


A_WALKS_OUT = ((27.0, *INSIDE), (28.0, *OUTSIDE))


def test_ids_swapped_between_two_shoppers_are_undone_at_the_exit(catalog: Catalog) -> None:
    moment = crossed_pair(catalog, A_WALKS_OUT)  # A walks out first
    outputs = moment.play()
    assert receipts(outputs) == {"S002-TA": {"P0195": 1}, "S002-TB": {"P0153": 1}}
    # For review, each take says it moved when the swap was undone, and whom it was weighed against
    # then: the person under the id at the plate, who was still taken for the other shopper.
    taken = {event.visit_id: event for event in outputs if isinstance(event, Attribution)}
    assert {visit: event.swaps_undone for visit, event in taken.items()} == {"S002-TA": 1, "S002-TB": 1}
    assert taken["S002-TA"].candidates[0].visit_id == "S002-TB"
    assert taken["S002-TB"].candidates[0].visit_id == "S002-TA"


def test_a_swap_late_in_a_long_pass_leaves_an_earlier_take_with_its_taker(catalog: Catalog) -> None:
    """A stands at plate A with B 0.62 m beside her for 14 s; B steps within 0.25 m at 22 s and the
    tracker swaps their ids there. One noisy frame at 9 s put B 0.36 m from A, within the noise of
    two people standing still: the swap is not placed there, and A's take at 14 s stays A's."""
    ax, ay = reach(PLATE_A, catalog)
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TA")
    moment.scan(2.0, GateDirection.ENTRY, "TB")
    moment.walk("a", [(0.5, *INSIDE), (5.0, ax, ay), (21.5, ax, ay)])  # A
    moment.walk("b", [(2.5, *INSIDE), (7.0, ax + 0.62, ay), (21.0, ax + 0.62, ay), (21.5, ax + 0.435, ay)])
    b_walks_out = [(30.0, ax + 0.62, ay), (35.0, *INSIDE), (36.0, *OUTSIDE)]
    moment.walk("a", [(22.0, ax + 0.25, ay), (23.0, ax + 0.62, ay), *b_walks_out])  # B, from the swap on
    moment.walk("b", [(22.0, ax, ay), (24.0, ax, ay), (29.0, *INSIDE), (30.0, *OUTSIDE)])  # A
    noisy = next(
        index
        for index, event in enumerate(moment.events)
        if isinstance(event, CameraTrack)
        and event.track_id == "b"
        and event.ts == START + timedelta(seconds=9)
    )
    moment.events[noisy] = moment.events[noisy].model_copy(update={"x_m": round(ax + 0.36, 3)})
    moment.shelf(14.0, PLATE_A, -94.0, 1)  # A, under "a"
    moment.scan(29.8, GateDirection.EXIT, "TA")
    moment.scan(35.8, GateDirection.EXIT, "TB")
    assert receipts(moment.play()) == {"S002-TA": {"P0195": 1}}


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


def test_a_shopper_the_tracker_lost_on_the_way_out_still_left_with_the_visit(catalog: Catalog) -> None:
    """A and B swap ids as they cross (A goes on under "b"); the tracker then loses A a metre short of
    the lane, seconds before A's exit scan, and never sees them again. A still left with that scan,
    under "b": the swap is undone and each is charged their own pick."""
    moment = crossed_pair(catalog, [(25.0, 6.6, 2.0)])  # lost here as A walks out
    assert receipts(moment.play()) == {"S002-TA": {"P0195": 1}, "S002-TB": {"P0153": 1}}


RED = (120.0, 170.0, 150.0)
DARK = (40.0, 130.0, 120.0)


@pytest.mark.parametrize("seen", [True, False], ids=["colours seen", "colours unseen"])
def test_a_swap_only_looks_tell_is_undone_before_a_put_back(catalog: Catalog, seen: bool) -> None:
    """A takes one from plate A, then stands beside a tailgater T; the tracker swaps their ids there.
    Standing, neither walk shows it; their looks do (A red, T dark). A, now under "t", puts the item
    back on plate B (another plate: matched by weight to whoever carries that product). Seen in colour,
    the swap is undone right after the pass, the put-back is A's and A leaves owing nothing. Unseen,
    the put-back looks like T's, who carries nothing: A is charged for an item put back."""
    ax, ay = reach(PLATE_A, catalog)
    bx, by = reach(PLATE_B, catalog)
    red, dark = (RED, DARK) if seen else (None, None)
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TA")
    moment.walk("a", [(0.5, *INSIDE), (5.0, ax, ay), (12.0, ax, ay), (15.0, 5.1, 3.3), (20.0, 5.1, 3.3)], red)
    moment.walk("t", [(1.5, *INSIDE), (15.0, 5.4, 3.3), (20.0, 5.4, 3.3)], dark)
    moment.walk(
        "a", [(20.5, 5.4, 3.3), (24.0, 6.0, 4.6), (40.0, 6.0, 4.6), (44.0, *INSIDE), (45.0, *OUTSIDE)], dark
    )
    moment.walk(
        "t", [(20.5, 5.1, 3.3), (23.0, bx, by), (33.0, bx, by), (38.0, *INSIDE), (39.0, *OUTSIDE)], red
    )
    moment.shelf(9.0, PLATE_A, -94.0, 1)  # A takes one
    moment.shelf(29.0, PLATE_B, 94.0, 1)  # ... and puts it back on plate B, under "t"
    moment.scan(38.8, GateDirection.EXIT, "TA")
    charged = receipts(moment.play())
    if seen:
        assert charged == {}
    else:
        assert charged == {"S002-TA": {"P0195": 1}}


NAVY_LAB, KHAKI_LAB = (40.0, 130.0, 112.0), (160.0, 126.0, 154.0)
ONE_MEAN = (100.0, 128.0, 133.0)  # navy over khaki and khaki over navy: one mean colour


def dressed(upper: Colour, lower: Colour) -> Appearance:
    return rounded(np.concatenate(part_histogram(np.array([upper, lower]))))


@pytest.mark.parametrize("seen", [True, False], ids=["appearance seen", "only the mean colour seen"])
def test_a_swap_between_shoppers_of_one_mean_colour_is_undone_by_their_appearance(
    catalog: Catalog, seen: bool
) -> None:
    """As above, A and the tailgater T swap ids standing side by side, and A, under "t", puts the item
    back on plate B; but A wears navy over khaki and T khaki over navy: one mean colour, so the
    colour alone cannot tell the swap. Their appearance (upper and lower body) does: the swap is
    undone and A leaves owing nothing. With only the mean colour seen, A is charged for an item put
    back."""
    ax, ay = reach(PLATE_A, catalog)
    bx, by = reach(PLATE_B, catalog)
    a_looks, t_looks = (dressed(NAVY_LAB, KHAKI_LAB), dressed(KHAKI_LAB, NAVY_LAB)) if seen else (None, None)
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TA")
    a_before = [(0.5, *INSIDE), (5.0, ax, ay), (12.0, ax, ay), (15.0, 5.1, 3.3), (20.0, 5.1, 3.3)]
    moment.walk("a", a_before, ONE_MEAN, appearance=a_looks)
    moment.walk("t", [(1.5, *INSIDE), (15.0, 5.4, 3.3), (20.0, 5.4, 3.3)], ONE_MEAN, appearance=t_looks)
    t_after = [(20.5, 5.4, 3.3), (24.0, 6.0, 4.6), (40.0, 6.0, 4.6), (44.0, *INSIDE), (45.0, *OUTSIDE)]
    moment.walk("a", t_after, ONE_MEAN, appearance=t_looks)
    a_after = [(20.5, 5.1, 3.3), (23.0, bx, by), (33.0, bx, by), (38.0, *INSIDE), (39.0, *OUTSIDE)]
    moment.walk("t", a_after, ONE_MEAN, appearance=a_looks)
    moment.shelf(9.0, PLATE_A, -94.0, 1)  # A takes one
    moment.shelf(29.0, PLATE_B, 94.0, 1)  # ... and puts it back on plate B, under "t"
    moment.scan(38.8, GateDirection.EXIT, "TA")
    assert receipts(moment.play()) == ({} if seen else {"S002-TA": {"P0195": 1}})


def test_a_swap_followed_by_another_close_pass_moments_later_is_still_undone(catalog: Catalog) -> None:
    """As above, A and the tailgater T swap ids standing side by side (A red, T dark), and A, under
    "t", goes to plate B. Four seconds after they part, T (under "a") walks up to within a metre of A
    and back: a second close pass of the same two ids, where nothing is swapped. Each pass is looked
    at, not only the latest, so the first swap is undone and A's put-back on plate B is A's."""
    ax, ay = reach(PLATE_A, catalog)
    bx, by = reach(PLATE_B, catalog)
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TA")
    moment.walk("a", [(0.5, *INSIDE), (5.0, ax, ay), (12.0, ax, ay), (15.0, 5.1, 3.3), (20.0, 5.1, 3.3)], RED)
    moment.walk("t", [(1.5, *INSIDE), (15.0, 5.4, 3.3), (20.0, 5.4, 3.3)], DARK)
    moment.walk(
        "a",
        [
            (20.5, 5.4, 3.3),
            (24.0, 6.0, 4.6),
            (26.0, 6.4, 3.2),
            (27.0, 6.4, 3.2),
            (29.0, 6.0, 4.6),
            (44.0, 6.0, 4.6),
            (47.0, *INSIDE),
            (48.0, *OUTSIDE),
        ],
        DARK,
    )
    moment.walk(
        "t", [(20.5, 5.1, 3.3), (23.0, bx, by), (37.0, bx, by), (41.0, *INSIDE), (42.0, *OUTSIDE)], RED
    )
    moment.shelf(9.0, PLATE_A, -94.0, 1)  # A takes one
    moment.shelf(34.0, PLATE_B, 94.0, 1)  # ... and puts it back on plate B, under "t"
    moment.scan(41.8, GateDirection.EXIT, "TA")
    assert receipts(moment.play()) == {}


def test_a_take_between_two_close_passes_of_a_swapped_pair_is_less_sure(catalog: Catalog) -> None:
    """A and B stand side by side (0.1 m apart) and the tracker swaps their ids; A, now under "b", takes
    from plate A; later the two stand side by side again, where nothing is swapped. A leaves under "b",
    so the swap is undone at the first pass (the tracker swaps ids the first time people come that
    close) and A's take is A's. But standing people's walks cannot tell which pass it was, and had it
    been the second one the take was B's: the line is only as sure as the first pass is likely, below
    the 0.99 cap that a take the swap leaves no doubt about keeps (as when two people cross)."""
    ax, ay = reach(PLATE_A, catalog)
    bx, by = reach(PLATE_B, catalog)
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TA")
    moment.scan(2.0, GateDirection.ENTRY, "TB")
    moment.walk("a", [(0.5, *INSIDE), (6.0, 5.1, 3.3), (8.0, 5.1, 3.3)])  # A
    moment.walk("b", [(2.5, *INSIDE), (6.0, 5.2, 3.3), (8.0, 5.2, 3.3)])  # B
    b_after = [(12.0, bx, by), (24.0, bx, by), (26.0, 5.7, 2.0), (34.0, 5.7, 2.0), (35.0, *INSIDE)]
    moment.walk("a", [(8.5, 5.2, 3.3), (10.0, 5.2, 3.3), *b_after, (36.0, *OUTSIDE)])  # B, from the swap on
    a_after = [(12.0, ax, ay), (22.0, ax, ay), (26.0, 5.6, 2.0), (28.0, 5.6, 2.0), (30.0, *INSIDE)]
    moment.walk("b", [(8.5, 5.1, 3.3), (10.0, 5.1, 3.3), *a_after, (31.0, *OUTSIDE)])  # A, from the swap on
    moment.shelf(19.0, PLATE_A, -94.0, 1)  # A, under "b"
    moment.scan(30.8, GateDirection.EXIT, "TA")
    moment.scan(35.8, GateDirection.EXIT, "TB")
    outputs = moment.play()
    assert receipts(outputs) == {"S002-TA": {"P0195": 1}}
    (taken,) = [event for event in outputs if isinstance(event, Attribution)]
    assert taken.swaps_undone == 1
    assert 0.7 < taken.confidence < 0.95
    (charged,) = [event for event in outputs if isinstance(event, Purchase)]
    assert charged.confidence == taken.confidence
    crossed = [event for event in crossed_pair(catalog, A_WALKS_OUT).play() if isinstance(event, Attribution)]
    assert [event.swaps_undone for event in crossed] == [1, 1]
    assert all(event.confidence > 0.98 for event in crossed)  # walks that cross tell where they swapped


def test_a_take_is_as_sure_as_the_swap_undone_around_it_is_on_its_side() -> None:
    """Two close passes where a pair may have swapped, three to one for the first: a take between them
    that the undone swap (at the first) moved is right three times in four, if the swap was real at all;
    one it left before both passes is right, and one after both is as sure as the swap."""
    passes = [(10.0, 3.0), (30.0, 1.0)]
    assert swaps.charged_right(20.0, True, 1.0, 10.0, passes) == pytest.approx(0.75)
    assert swaps.charged_right(20.0, True, 0.9, 10.0, passes) == pytest.approx(0.675)
    assert swaps.charged_right(5.0, False, 0.9, 10.0, passes) == pytest.approx(1.0)
    assert swaps.charged_right(40.0, True, 0.9, 10.0, passes) == pytest.approx(0.9)
    # undone at the second pass instead, a take between them stays: right if the swap was not real, or
    # came after the take (one time in four)
    assert swaps.charged_right(20.0, False, 0.9, 30.0, passes) == pytest.approx(0.1 + 0.9 * 0.25)


def test_looks_tell_a_swap_from_a_third_person_taking_an_id_over() -> None:
    """Two ids' looks before and after a close pass: exchanged means swapped, kept means not; when one
    id's look turns into nobody's of the two (a third person), that says nothing about these two."""
    red, dark, other = Look(RED), Look(DARK), Look((90.0, 110.0, 160.0))
    odds = functools.partial(swap_odds_from_looks, params=DEFAULT_PARAMS)
    assert odds((red, dark), (dark, red)) > 6
    assert odds((red, dark), (red, dark)) < -6
    assert abs(odds((red, dark), (other, Look((200.0, 100.0, 100.0))))) < 1
    assert odds((red, dark), (other, dark)) < -3  # the second id kept its look
    assert odds((red, None), (dark, red)) > 3  # one look before is enough
    assert odds((red, dark), (None, None)) == 0


def test_a_shopper_coming_in_as_another_leaves_is_not_taken_for_a_leaver(catalog: Catalog) -> None:
    """A scans out; B scans in at that lane a moment later and the tracker loses B a metre in (a break),
    within the moments A is being seen out. B came in after A's scan: B is not someone who left with A."""
    bx, by = reach(PLATE_B, catalog)
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TA")
    moment.walk("a", shop(catalog, 0.5, PLATE_A, 6.0, 20.0, 26.0))
    moment.scan(25.8, GateDirection.EXIT, "TA")
    moment.scan(26.5, GateDirection.ENTRY, "TB")
    moment.walk("b", [(27.0, *INSIDE), (27.5, 6.4, 1.7)])  # lost here for three seconds ...
    moment.walk("b2", [(30.5, 6.0, 2.6), (33.0, bx, by), (45.0, bx, by), (50.0, *INSIDE), (51.0, *OUTSIDE)])
    moment.shelf(14.0, PLATE_A, -94.0, 1)
    moment.shelf(40.0, PLATE_B, -115.0, 1)
    moment.scan(50.8, GateDirection.EXIT, "TB")
    assert receipts(moment.play()) == {"S002-TA": {"P0195": 1}, "S002-TB": {"P0153": 1}}


def test_a_shopper_lost_by_the_lane_as_another_leaves_is_not_the_leaver(catalog: Catalog) -> None:
    """B waits by the lane as A walks out past them; the tracker loses B there a moment before A
    vanishes through the lane and finds B again under "b2". A left with A's scan, not B."""
    bx, by = reach(PLATE_B, catalog)
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TA")
    moment.scan(2.0, GateDirection.ENTRY, "TB")
    moment.walk("a", shop(catalog, 0.5, PLATE_A, 6.0, 20.0, 26.0))
    moment.walk("b", [(2.5, *INSIDE), (6.0, 6.9, 1.3), (25.0, 6.9, 1.3)])  # lost here for two seconds ...
    moment.walk("b2", [(27.0, 6.9, 1.4), (31.0, bx, by), (45.0, bx, by), (50.0, *INSIDE), (51.0, *OUTSIDE)])
    moment.shelf(14.0, PLATE_A, -94.0, 1)
    moment.shelf(40.0, PLATE_B, -115.0, 1)
    moment.scan(25.8, GateDirection.EXIT, "TA")
    moment.scan(50.8, GateDirection.EXIT, "TB")
    outputs = moment.play()
    assert receipts(outputs) == {"S002-TA": {"P0195": 1}, "S002-TB": {"P0153": 1}}
    closed = {
        event.visit_id: event.track_ids
        for event in outputs
        if isinstance(event, Visit) and event.status is VisitStatus.CLOSED
    }
    assert closed == {"S002-TA": ("a",), "S002-TB": ("b", "b2")}  # no swap was made up between them


def test_a_shopper_passing_the_plate_as_it_changes_is_not_the_taker(catalog: Catalog) -> None:
    """B browses slowly along the shelf, right through the reach point as the weight settles (on
    average exactly there); A had stood at it for a while (5 cm off, as the tracker has it) and moves
    on a few seconds later."""
    x, y = reach(PLATE_A, catalog)
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TA")
    moment.scan(2.0, GateDirection.ENTRY, "TB")
    moment.walk(
        "a", [(0.5, *INSIDE), (6.0, x, y + 0.05), (18.0, x, y + 0.05), (24.0, *INSIDE), (25.0, *OUTSIDE)]
    )
    moment.walk(
        "b", [(2.5, *INSIDE), (9.0, x - 0.9, y), (14.0, x + 0.9, y), (22.0, *INSIDE), (23.0, *OUTSIDE)]
    )
    moment.shelf(13.5, PLATE_A, -94.0, 1)
    moment.scan(22.8, GateDirection.EXIT, "TB")
    moment.scan(24.8, GateDirection.EXIT, "TA")
    assert receipts(moment.play()) == {"S002-TA": {"P0195": 1}}


def test_picks_made_at_once_from_one_spot_go_to_different_shoppers(catalog: Catalog) -> None:
    """Two shoppers stand at the same reach point; two plates there change half a second apart. Each
    took one: one person seldom has a hand on two plates at once."""
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TA")
    moment.scan(2.0, GateDirection.ENTRY, "TB")
    moment.walk("a", shop(catalog, 0.5, PLATE_A, 6.0, 21.0, 27.0))
    moment.walk("b", shop(catalog, 2.5, PLATE_A, 8.0, 23.0, 31.0))
    moment.shelf(16.0, PLATE_A, -94.0, 1)
    moment.shelf(16.5, PLATE_A_ABOVE, -175.0, 1)
    moment.scan(26.8, GateDirection.EXIT, "TA")
    moment.scan(30.8, GateDirection.EXIT, "TB")
    charged = receipts(moment.play())
    assert sorted(charged) == ["S002-TA", "S002-TB"]
    assert all(len(lines) == 1 for lines in charged.values())
    assert {product for lines in charged.values() for product in lines} == {"P0195", "P0179"}


def test_a_shopper_lost_at_the_plate_after_a_pick_is_not_ruled_out(catalog: Catalog) -> None:
    """A and B stand at the same reach point as the weight settles; B walks away six seconds later, as
    takers do, and A's id breaks three seconds after it (back as a2 a few seconds later). That the
    tracker lost A says neither that A stayed on nor that A walked away like a taker: B is the likelier
    taker, but only about two to one, and the receipt line says so."""
    x, y = reach(PLATE_A, catalog)
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TA")
    moment.scan(2.0, GateDirection.ENTRY, "TB")
    moment.walk("a", [(0.5, *INSIDE), (6.0, x, y), (19.0, x, y)])
    moment.walk("a2", [(25.0, x, y), (28.0, x, y), (34.0, *INSIDE), (35.0, *OUTSIDE)])
    moment.walk("b", shop(catalog, 2.5, PLATE_A, 8.0, 22.0, 29.0))
    moment.shelf(16.0, PLATE_A, -94.0, 1)
    moment.scan(28.8, GateDirection.EXIT, "TB")
    moment.scan(34.8, GateDirection.EXIT, "TA")
    charged = [event for event in moment.play() if isinstance(event, Purchase)]
    assert charged_lines(charged) == [("S002-TB", "P0195")]
    assert 0.6 < charged[0].confidence < 0.7


def test_a_take_about_as_likely_someone_elses_goes_to_review(catalog: Catalog) -> None:
    """A and B stand at one reach point alike, B 3.5 cm further from it than A (the tracker's noise):
    A is the likelier taker, but only about three to two, so the receipt is charged and sent to
    review (a line that sure is wrong about one time in three)."""
    x, y = reach(PLATE_A, catalog)
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TA")
    moment.scan(2.0, GateDirection.ENTRY, "TB")
    moment.walk("a", shop(catalog, 0.5, PLATE_A, 6.0, 22.0, 29.0))
    moment.walk(
        "b", [(2.5, *INSIDE), (8.0, x, y + 0.035), (22.0, x, y + 0.035), (33.0, *INSIDE), (34.0, *OUTSIDE)]
    )
    moment.shelf(16.0, PLATE_A, -94.0, 1)
    moment.scan(28.8, GateDirection.EXIT, "TA")
    moment.scan(33.8, GateDirection.EXIT, "TB")
    outputs = moment.play()
    charged = [event for event in outputs if isinstance(event, Purchase)]
    assert charged_lines(charged) == [("S002-TA", "P0195")]
    assert 0.55 < charged[0].confidence < 0.65
    assert charged[0].needs_review
    assert charged[0].review_reasons == ("low attribution confidence",)
    # The operator sees both candidates with their odds and how each stood at the plate.
    (taken,) = [event for event in outputs if isinstance(event, Attribution)]
    a, b = taken.candidates
    assert (a.visit_id, b.visit_id) == ("S002-TA", "S002-TB")
    assert 0.55 < a.likelihood < 0.65
    assert a.likelihood + b.likelihood == pytest.approx(1.0, abs=1e-3)
    assert a.distance_m < b.distance_m < 0.2
    assert a.stood_s == b.stood_s == 8.0  # both there since before the look back
    assert a.moved_on_s is not None
    assert b.moved_on_s is not None
    assert 5.0 < a.moved_on_s < b.moved_on_s  # A left at 22 s, B stayed till after it
    assert not a.lost_at_plate
    assert taken.swaps_undone == 0


def test_a_near_tie_sends_the_other_shoppers_receipt_to_review_too(catalog: Catalog) -> None:
    """As above, A and B stand alike at plate A when one item is taken, A about three to two the
    likelier taker. B took something else before, for sure. If B took plate A's item, A's receipt
    is wrong and so is B's, which lacks it: both go to review, not just the one charged."""
    x, y = reach(PLATE_A, catalog)
    bx, by = reach(PLATE_B, catalog)
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TA")
    moment.scan(2.0, GateDirection.ENTRY, "TB")
    moment.walk("a", shop(catalog, 0.5, PLATE_A, 6.0, 30.0, 36.0))
    moment.walk(
        "b",
        [
            (2.5, *INSIDE),
            (4.5, bx, by),
            (9.0, bx, by),
            (11.0, x, y + 0.035),
            (30.0, x, y + 0.035),
            (38.0, *INSIDE),
            (39.0, *OUTSIDE),
        ],
    )
    moment.shelf(7.0, PLATE_B, -115.0, 1)
    moment.shelf(22.0, PLATE_A, -94.0, 1)
    moment.scan(35.8, GateDirection.EXIT, "TA")
    moment.scan(38.8, GateDirection.EXIT, "TB")
    charged = {event.visit_id: event for event in moment.play() if isinstance(event, Purchase)}
    assert receipts(list(charged.values())) == {"S002-TA": {"P0195": 1}, "S002-TB": {"P0153": 1}}
    assert charged["S002-TA"].review_reasons == ("low attribution confidence",)
    assert charged["S002-TB"].confidence > 0.9
    assert charged["S002-TB"].review_reasons == ("may have taken an item charged to another visit",)


def test_an_unsure_put_back_sends_both_carriers_receipts_to_review(catalog: Catalog) -> None:
    """A and B each took one of plate A's product while alone there, then stand there alike when
    one is put back, A about three to two the likelier. The put-back leaves A's line at nothing, so
    A's receipt shows only a sure line, yet it hangs on that unsure put-back; B's may hold the item
    B put back. Both go to review."""
    x, y = reach(PLATE_A, catalog)
    bx, by = reach(PLATE_B, catalog)
    aside = (2.72, 4.9)  # where B waits while A takes, 2 m from plate A
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TB")
    moment.scan(1.5, GateDirection.ENTRY, "TA")
    moment.walk(
        "b",
        [
            (0.5, *INSIDE),
            (3.5, x, y + 0.035),
            (12.0, x, y + 0.035),
            (14.0, *aside),
            (24.0, *aside),
            (26.0, x, y + 0.035),
            (42.0, x, y + 0.035),
            (48.0, *INSIDE),
            (49.0, *OUTSIDE),
        ],
    )
    moment.walk(
        "a",
        [
            (2.0, *INSIDE),
            (4.5, bx, by),
            (14.0, bx, by),
            (16.0, x, y),
            (42.0, x, y),
            (46.0, *INSIDE),
            (47.0, *OUTSIDE),
        ],
    )
    moment.shelf(9.0, PLATE_A, -94.0, 1)  # B, alone at plate A
    moment.shelf(10.0, PLATE_B, -115.0, 1)  # A
    moment.shelf(21.0, PLATE_A, -94.0, 1)  # A, with B aside
    moment.shelf(36.0, PLATE_A, 94.0, 1)  # one of them puts one back
    moment.scan(46.8, GateDirection.EXIT, "TA")
    moment.scan(48.8, GateDirection.EXIT, "TB")
    charged = {event.visit_id: event for event in moment.play() if isinstance(event, Purchase)}
    assert receipts(list(charged.values())) == {"S002-TA": {"P0153": 1}, "S002-TB": {"P0195": 1}}
    assert charged["S002-TA"].confidence < 0.65
    assert charged["S002-TA"].review_reasons == ("low attribution confidence",)
    assert charged["S002-TB"].review_reasons == ("may have taken an item charged to another visit",)


def test_a_put_back_on_a_bystanders_plate_goes_to_whoever_holds_that_product(catalog: Catalog) -> None:
    """A takes two of P0195 and puts one back on the next plate, where B stands nearer than A does."""
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TA")
    moment.scan(2.0, GateDirection.ENTRY, "TB")
    moment.walk("a", shop(catalog, 0.5, PLATE_A, 6.0, 24.0, 30.0))
    moment.walk("b", shop(catalog, 2.5, PLATE_A_NEXT, 8.0, 26.0, 34.0))
    moment.shelf(14.0, PLATE_A, -188.0, 2)
    moment.shelf(19.0, PLATE_A_NEXT, 94.0, 1, confidence=0.2)  # 94 g is not the 130 g product there
    moment.scan(29.8, GateDirection.EXIT, "TA")
    moment.scan(33.8, GateDirection.EXIT, "TB")
    assert receipts(moment.play()) == {"S002-TA": {"P0195": 1}}


def test_a_put_back_moved_by_a_swap_stays_with_whoever_carries_the_item(catalog: Catalog) -> None:
    """A stands at plate A with B a step beside, takes one at 12 s and puts it back at 16 s. Told
    later that the tracker swapped their ids at 12.5 s (a swap inside a side-by-side stand is placed
    only roughly), the fusion moves what followed the swap to the other id's person; the put-back
    still goes to A, the only one carrying that product, rather than to whoever now stands nearer."""
    x, y = reach(PLATE_A, catalog)
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "TA")
    moment.scan(2.0, GateDirection.ENTRY, "TB")
    moment.walk("a", [(0.5, *INSIDE), (6.0, x, y), (30.0, x, y)])
    moment.walk("b", [(2.5, *INSIDE), (8.0, x + 0.3, y), (30.0, x + 0.3, y)])
    moment.shelf(12.0, PLATE_A, -94.0, 1)
    moment.shelf(16.0, PLATE_A, 94.0, 1)
    fusion = StoreCheckout(catalog.store(STORE), catalog)
    for event in sorted(moment.events, key=lambda event: (event.ts, event.event_id)):
        fusion.apply(event)
    a, b = (fusion.persons[fusion.tracks[track_id].person_id] for track_id in ("a", "b"))
    assert [take.quantity for take in fusion.takes[a.person_id]] == [1, -1]
    assert not fusion.takes.get(b.person_id)
    swaps.swap(fusion, a, b, START.timestamp() + 12.5)
    assert [take.quantity for take in fusion.takes[a.person_id]] == [1, -1]
    assert not fusion.takes.get(b.person_id)


def test_two_groups_scanned_in_moments_apart_keep_their_own_members(catalog: Catalog) -> None:
    """Groups of two scan in 0.4 s apart at one lane and come through between each other."""
    moment = Moment(catalog)
    moment.scan(0.0, GateDirection.ENTRY, "T1", group_size=2)
    moment.scan(0.4, GateDirection.ENTRY, "T2", group_size=2)
    moment.walk("1a", shop(catalog, 0.0, PLATE_A, 6.0, 20.0, 30.0))
    moment.walk("2a", shop(catalog, 0.5, PLATE_B, 5.5, 30.0, 40.0))
    moment.walk("1b", [(1.0, *INSIDE), (4.0, 6.0, 3.0), (26.0, 6.0, 3.0), (30.0, *INSIDE), (30.8, *OUTSIDE)])
    moment.walk("2b", [(1.5, *INSIDE), (4.5, 7.0, 3.5), (36.0, 7.0, 3.5), (40.0, *INSIDE), (40.8, *OUTSIDE)])
    moment.shelf(14.0, PLATE_A, -94.0, 1)
    moment.shelf(15.0, PLATE_B, -115.0, 1)
    moment.scan(29.8, GateDirection.EXIT, "T1", group_size=2)
    moment.scan(39.8, GateDirection.EXIT, "T2", group_size=2)
    outputs = moment.play()
    opened = {
        event.visit_id: event.track_ids
        for event in outputs
        if isinstance(event, Visit) and event.status is VisitStatus.OPENED
    }
    assert opened == {"S002-T1": ("1a", "1b"), "S002-T2": ("2a", "2b")}
    assert receipts(outputs) == {"S002-T1": {"P0195": 1}, "S002-T2": {"P0153": 1}}
    assert alerts(outputs) == []  # the second group came in behind the first, admitted by its own scan


def test_a_restored_snapshot_decides_the_same(catalog: Catalog, tmp_path: Path) -> None:
    """The id swap above, with the state saved and restored after every event as a restarted
    service loads it (its fusion linked to the live catalog again), decides the same."""
    moment = crossed_pair(catalog, A_WALKS_OUT)
    moment.walk("later", [(60.0, 2.0, 3.0), (61.0, 2.0, 3.0)])  # time moves on: exits decided in stream
    uninterrupted = moment.play()
    assert receipts(uninterrupted) == {"S002-TA": {"P0195": 1}, "S002-TB": {"P0153": 1}}
    assert moment.play(snapshot=tmp_path / "checkout.snapshot") == uninterrupted


def test_a_pass_is_as_close_as_its_fitted_walks_say() -> None:
    """Noise-free relative positions: a walk straight past within 0.2 m is a close pass whose likeliest
    swap frame is where the two first came within 0.5 m; standing 0.8 m apart never is, unless one
    frame shows a brush that the fitted walk smooths away."""
    passing = [(t * 0.5, 1.0 - t * 0.25, 0.2) for t in range(9)]  # dx from 1.0 to -1.0, dy 0.2
    closeness, frames = closest(passing, DEFAULT_PARAMS)
    assert closeness > 0.99
    assert max(frames, key=lambda frame: frame[1])[0] == 1.5  # dx 0.25: the first frame within 0.5 m
    assert all(prior < 0.1 for at, prior in frames if at > 1.5)  # later frames: only if someone came by
    standing = [(t * 0.5, 0.8, 0.0) for t in range(9)]
    assert (
        closest(standing, DEFAULT_PARAMS)[0] < DEFAULT_PARAMS.swap_frame_min
    )  # as far as a frame's noise reaches, no further
    brush = [*standing[:4], (2.0, 0.15, 0.0), *standing[5:]]  # 0.65 m off: 4.6 times the noise
    closeness, frames = closest(brush, DEFAULT_PARAMS)
    assert closeness > 0.9
    assert max(frames, key=lambda frame: frame[1])[0] == 2.0
    assert [
        len(run) for run in split_passes([(0.0, 1, 1), (0.5, 1, 1), (1.5, 1, 1), (5.0, 1, 1)], DEFAULT_PARAMS)
    ] == [3, 1]


def test_walks_that_join_up_fit_better_than_swapped_ones() -> None:
    """A straight walk continues itself; joined to where another person stands, it misses."""
    walk = [(t * 0.5, t * 0.6, 0.0, None) for t in range(8)]
    standing = [(t * 0.5, 2.4, 0.4, None) for t in range(4, 8)]
    assert misfit(walk[:4], walk[4:]) < 1e-9
    assert misfit(walk[:4], standing) > 0.1


@pytest.fixture(scope="module")
def simulated_day_outputs(simulated_day: list[StoreDay], catalog: Catalog) -> list[Event]:
    day = simulated_day[0]
    return replay_checkout(catalog, day.store_id, (event for _, event in day.events))


def test_a_simulated_day_is_charged_right(
    simulated_day: list[StoreDay], simulated_day_outputs: list[Event]
) -> None:
    day, outputs = simulated_day[0], simulated_day_outputs
    score = score_receipts(
        [event for event in outputs if isinstance(event, Purchase)], day.truth.visits, day.truth.receipts
    )
    print(score)
    assert score.exact_receipt_rate >= 0.98  # measured 0.9926 (seed 11: 2 of 272 wrong); the goal is 0.99
    assert score.charge_review_rate <= 0.03
    assert score.review_rate == score.charge_review_rate + score.age_check_rate > 0.03  # both kinds meet
    assert score.line_precision >= 0.98
    assert score.line_recall >= 0.98


def test_carts_on_a_simulated_day_lead_up_to_the_receipts(simulated_day_outputs: list[Event]) -> None:
    """Each visit's cart is shown revision after revision while it shops, and what it last showed is
    mostly what the receipt charges. The exit may still change it: items held on a shopper the entry
    did not place (joined to the visit as they leave with it), an id swap undone as they leave."""
    outputs = simulated_day_outputs
    opened: set[str] = set()
    shown: dict[str, Cart] = {}
    for event in outputs:
        if isinstance(event, Visit):
            (opened.add if event.status is VisitStatus.OPENED else opened.discard)(event.visit_id)
        if isinstance(event, Cart):
            assert event.visit_id in opened  # shown while the visit shops, never after it closed
            assert event.revision == (shown[event.visit_id].revision + 1 if event.visit_id in shown else 1)
            shown[event.visit_id] = event
    charged = receipts(outputs)
    assert len(charged) > 100
    last = {visit: {line.product_id: line.quantity for line in cart.lines} for visit, cart in shown.items()}
    agree = sum(last.get(visit) == lines for visit, lines in charged.items())
    assert agree / len(charged) >= 0.8  # measured 201 of 235 (seed 11)


def test_on_a_simulated_day_every_shelf_event_is_attributed_once_or_dead_lettered_and_receipts_add_up(
    simulated_day: list[StoreDay], simulated_day_outputs: list[Event]
) -> None:
    """The checkout's attributions are what the warehouse reads for "who took it?": each shelf event
    of the day ends in one attribution or one dead letter, and each visit's attributions (picks less
    put-backs) are exactly its receipt's lines."""
    outputs = simulated_day_outputs
    shelf_events = {event.event_id for _, event in simulated_day[0].events if isinstance(event, ShelfEvent)}
    attributions = [event for event in outputs if isinstance(event, Attribution)]
    attributed = [event.shelf_event_id for event in attributions]
    dead = [
        parse_event(event.original()).event_id
        for event in outputs
        if isinstance(event, DeadLetter) and event.source_topic == ShelfEvent.TOPIC
    ]
    assert len(attributed) == len(set(attributed)) > 100
    assert sorted(attributed + dead) == sorted(shelf_events)
    net: dict[str, Counter[str]] = {}
    for event in attributions:
        sign = 1 if event.action is ShelfAction.PICK else -1
        net.setdefault(event.visit_id, Counter())[event.product_id] += sign * event.quantity
    assert receipts(outputs) == {
        visit: {product: units for product, units in sorted(counts.items()) if units > 0}
        for visit, counts in net.items()
        if any(units > 0 for units in counts.values())
    }


@pytest.mark.slow
def test_every_store_on_a_whole_day_meets_the_receipt_target(catalog: Catalog) -> None:
    """The checkout's goal, at the twin's default fault rates: 99 % of visits charged exactly, at most
    3 % sent to review for their charge, over all three stores' whole day (their morning, lunch and
    evening peaks). Age checks (alcohol or tobacco carried out by someone not known to be an adult)
    come on top: they are about who may buy, not what was taken."""
    plan = SimulationPlan(("S001", "S002", "S003"), date(2026, 11, 18), 1, seed=11)
    receipts: list[Purchase] = []
    visits, lines = [], []
    for day in simulate_store_days(catalog, plan):
        outputs = replay_checkout(catalog, day.store_id, (event for _, event in day.events))
        receipts += [event for event in outputs if isinstance(event, Purchase)]
        visits.append(day.truth.visits)
        lines.append(day.truth.receipts)
    score = score_receipts(receipts, pl.concat(visits), pl.concat(lines))
    print(score)
    assert score.visits > 1000
    assert score.exact_receipt_rate >= 0.99  # measured 0.9968 (4 of 1,231 wrong)
    assert score.charge_review_rate <= 0.03
