"""Shelf plates at the edge: the detector on single scenes the twin synthesizes, and the contract event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from ingestion.shelf import PlateChange, ShelfError, detect_plate_events, to_shelf_event
from twin.plates import PlateInteraction, synthesize_plate_window
from walkout.contracts import ShelfAction, ShelfEvent, make_event_id, parse_event

RAMYUN_G = 80.0
CAN_G = 520.0
GUM_G = 30.0
ORIGIN = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
SEEDS = [0, 1, 2, 3]


def plate_changes(
    seed: int,
    unit_weight_g: float,
    hands: list[PlateInteraction],
    duration_s: float = 10.0,
    *,
    noise_g: float = 3.0,
    drift_g_per_min: float = 0.0,
    spikes_per_min: float = 0.0,
) -> list[PlateChange]:
    """One plate holding 20 units, seen for ``duration_s`` and run through the detector."""
    rng = np.random.default_rng(seed)
    plate = synthesize_plate_window(
        rng,
        500.0 + 20 * unit_weight_g,
        hands,
        0.0,
        duration_s,
        noise_g=noise_g,
        drift_g_per_min=drift_g_per_min,
        spikes_per_min=spikes_per_min,
    )
    return detect_plate_events(plate, unit_weight_g)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_single_pick_is_one_pick_of_one_unit(seed: int) -> None:
    [change] = plate_changes(seed, RAMYUN_G, [PlateInteraction(3.0, -RAMYUN_G, 1.5)])

    assert change.action is ShelfAction.PICK
    assert change.quantity == 1
    assert change.delta_g == pytest.approx(-RAMYUN_G, abs=5.0)
    assert change.confidence > 0.9
    assert change.start_s == pytest.approx(3.0, abs=1.0)
    assert change.end_s == pytest.approx(3.0 + 1.5, abs=1.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_three_can_pick_counts_three(seed: int) -> None:
    [change] = plate_changes(seed, CAN_G, [PlateInteraction(3.0, -3 * CAN_G, 2.5)])

    assert (change.action, change.quantity) == (ShelfAction.PICK, 3)
    assert change.confidence > 0.9


@pytest.mark.parametrize("seed", SEEDS)
def test_a_put_back_adds_a_unit(seed: int) -> None:
    [change] = plate_changes(seed, GUM_G, [PlateInteraction(3.0, GUM_G, 1.0)], noise_g=5.0)

    assert (change.action, change.quantity) == (ShelfAction.PUT_BACK, 1)
    assert change.delta_g == pytest.approx(GUM_G, abs=7.0)
    assert change.confidence > 0.9


@pytest.mark.parametrize("seed", SEEDS)
def test_slow_drift_creates_no_event(seed: int) -> None:
    assert plate_changes(seed, GUM_G, [], duration_s=600.0, drift_g_per_min=30.0) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_idle_noise_glitches_and_a_touch_that_takes_nothing_create_no_event(seed: int) -> None:
    touch = PlateInteraction(20.0, 0.0, 2.5)

    assert plate_changes(seed, GUM_G, [touch], duration_s=60.0, noise_g=5.0, spikes_per_min=20.0) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_drift_does_not_bias_a_pick(seed: int) -> None:
    [change] = plate_changes(seed, GUM_G, [PlateInteraction(3.0, -GUM_G, 2.0)], drift_g_per_min=30.0)

    assert (change.action, change.quantity) == (ShelfAction.PICK, 1)
    assert change.delta_g == pytest.approx(-GUM_G, abs=7.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_wrong_product_put_back_is_reported_with_low_confidence(seed: int) -> None:
    gum_on_the_ramyun_plate = PlateInteraction(3.0, GUM_G, 1.2)

    [change] = plate_changes(seed, RAMYUN_G, [gum_on_the_ramyun_plate])

    assert change.action is ShelfAction.PUT_BACK
    assert change.quantity >= 1
    assert change.confidence < 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_two_hands_picking_at_once_give_one_net_pick(seed: int) -> None:
    first, second = PlateInteraction(3.0, -CAN_G, 2.0), PlateInteraction(3.8, -2 * CAN_G, 1.5)

    [change] = plate_changes(seed, CAN_G, [first, second])

    assert (change.action, change.quantity) == (ShelfAction.PICK, 3)
    assert change.start_s == pytest.approx(3.0, abs=1.0)
    assert change.end_s == pytest.approx(3.8 + 1.5, abs=1.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_two_hands_whose_pick_and_put_back_cancel_report_nothing(seed: int) -> None:
    pick, put_back = PlateInteraction(3.0, -RAMYUN_G, 2.0), PlateInteraction(3.5, RAMYUN_G, 2.0)

    assert plate_changes(seed, RAMYUN_G, [pick, put_back]) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_two_hands_one_after_the_other_are_two_events(seed: int) -> None:
    hands = [PlateInteraction(3.0, -RAMYUN_G, 1.0), PlateInteraction(7.0, RAMYUN_G, 1.0)]

    changes = plate_changes(seed, RAMYUN_G, hands, duration_s=12.0)

    assert [(change.action, change.quantity) for change in changes] == [
        (ShelfAction.PICK, 1),
        (ShelfAction.PUT_BACK, 1),
    ]


def test_a_hand_still_on_the_plate_at_the_window_edge_is_not_reported_yet() -> None:
    assert plate_changes(0, RAMYUN_G, [PlateInteraction(8.0, -RAMYUN_G, 2.5)], duration_s=10.0) == []


def test_the_shelf_event_round_trips_through_the_contract() -> None:
    [change] = plate_changes(0, RAMYUN_G, [PlateInteraction(3.0, -2 * RAMYUN_G, 1.5)])

    event = to_shelf_event(
        change,
        store_id="S001",
        shelf_id="G03-S2",
        plate_id="G03-S2-P07",
        product_id="P0042",
        window_origin=ORIGIN,
    )

    assert parse_event(event.to_bytes(), topic=ShelfEvent.TOPIC) == event
    assert (event.action, event.quantity, event.product_id) == (ShelfAction.PICK, 2, "P0042")
    assert event.weight_delta_g == pytest.approx(change.delta_g, abs=0.05)
    assert abs(event.ts - (ORIGIN + timedelta(seconds=change.end_s))) < timedelta(milliseconds=1)
    ts_ms = int(event.ts.timestamp() * 1000)
    assert event.event_id == make_event_id("shelf", "S001", "G03-S2-P07", ts_ms)


def test_a_resent_change_keeps_its_event_id_and_quantity_stays_in_contract_bounds() -> None:
    crate = PlateChange(1.0, 4.2, -60_000.0, ShelfAction.PICK, 300, 0.7)
    ids = dict(store_id="S001", shelf_id="G01-S1", plate_id="G01-S1-P01", product_id="P0001")

    event = to_shelf_event(crate, window_origin=ORIGIN, **ids)

    assert event == to_shelf_event(crate, window_origin=ORIGIN, **ids)
    assert (event.quantity, event.weight_delta_g) == (100, -50_000.0)


def test_nonsense_settings_say_what_to_fix() -> None:
    plate = synthesize_plate_window(np.random.default_rng(0), 1000.0, [], 0.0, 5.0)

    with pytest.raises(ShelfError, match="unit_weight_g"):
        detect_plate_events(plate, 0.0)
    with pytest.raises(ShelfError, match="window"):
        detect_plate_events(plate, RAMYUN_G, window_s=0.01)
