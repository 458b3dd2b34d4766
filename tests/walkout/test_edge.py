"""Edge admission: a device's signature over the exact bytes, the catalog's checks, the corrections
from a plate's weight, and no false refusal or correction on a whole simulated store-day."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from ingestion.shelf import PlateChange, to_shelf_event
from twin.run import StoreDay, forward_store_day
from walkout.catalog import Catalog, Plate, load_catalog
from walkout.contracts import (
    EDGE_TOPICS,
    SIGNATURE_HEADER,
    CameraTrack,
    ContractError,
    EdgeHeartbeat,
    Event,
    GateDirection,
    GateScan,
    ScanOutcome,
    ScanRejection,
    ShelfAction,
    ShelfEvent,
    Visit,
    VisitStatus,
    make_event_id,
    parse_event,
)
from walkout.edge import UNSURE_READING, EdgeAdmission, EdgeSigner, Headers, device_key, gateway_id
from walkout.settings import DEMO_KEYS

KEY = DEMO_KEYS["edge_key"]
SIGNER = EdgeSigner(KEY)
TS = datetime(2026, 11, 20, 9, 30, 0, 125_000, tzinfo=UTC)
STORE = "S002"
GATE = "S002-G1"
CAMERA = "S002-CAM2"
PLATE = "S002-GD07-S4-P04"  # P0178, 82 g a unit, holds 4
LIGHT_PLATE = "S002-GD06-S5-P03"  # P0401, 22 g a unit, holds 10
MEMBER = "M000001"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def admission(catalog: Catalog) -> EdgeAdmission:
    return EdgeAdmission(catalog, KEY)


def plate(catalog: Catalog, plate_id: str = PLATE) -> Plate:
    return catalog.store(STORE).plate(plate_id)


def unit_g(catalog: Catalog, plate_id: str = PLATE) -> float:
    return catalog.product(plate(catalog, plate_id).product_id).unit_weight_g


def scan(
    shopper_id: str = MEMBER,
    gate_id: str = GATE,
    store_id: str = STORE,
    outcome: ScanOutcome = ScanOutcome.ACCEPTED,
) -> GateScan:
    return GateScan(
        event_id=make_event_id("scan", store_id, gate_id, shopper_id),
        store_id=store_id,
        ts=TS,
        gate_id=gate_id,
        direction=GateDirection.ENTRY,
        token_id="tok1",
        shopper_id=shopper_id,
        outcome=outcome,
        rejection=ScanRejection.UNKNOWN_MEMBER if outcome is ScanOutcome.REJECTED else None,
    )


def shelf_event(
    catalog: Catalog,
    *,
    units: float = 1,
    quantity: int = 1,
    product_id: str | None = None,
    plate_id: str = PLATE,
    shelf_id: str | None = None,
    action: ShelfAction = ShelfAction.PICK,
) -> ShelfEvent:
    """A pick (or put-back) on a plate whose weight changed by ``units`` of its product."""
    where = plate(catalog, plate_id)
    weight = units * unit_g(catalog, plate_id)
    return ShelfEvent(
        event_id=make_event_id("shelf", STORE, plate_id, units, quantity, product_id),
        store_id=STORE,
        ts=TS,
        shelf_id=shelf_id or f"{where.gondola_id}-SH{where.shelf}",
        plate_id=plate_id,
        action=action,
        weight_delta_g=-weight if action is ShelfAction.PICK else weight,
        product_id=product_id or where.product_id,
        quantity=quantity,
        confidence=0.97,
    )


def track(
    x_m: float = 3.0, y_m: float = 2.0, zone_id: str | None = "S002-aisle-1", camera: str = CAMERA
) -> CameraTrack:
    return CameraTrack(
        event_id=make_event_id("track", STORE, camera, x_m, y_m, zone_id),
        store_id=STORE,
        ts=TS,
        camera_id=camera,
        track_id="T1",
        x_m=x_m,
        y_m=y_m,
        zone_id=zone_id,
    )


def heartbeat(device_id: str = gateway_id(STORE)) -> EdgeHeartbeat:
    return EdgeHeartbeat(
        event_id=make_event_id("heartbeat", device_id, TS), store_id=STORE, ts=TS, device_id=device_id
    )


def topic_of(event: Event) -> str:
    return EDGE_TOPICS[0] if isinstance(event, EdgeHeartbeat) else event.TOPIC


def admit_signed(admission: EdgeAdmission, event: Event) -> Event:
    raw = event.to_bytes()
    return admission.admit(raw, topic_of(event), SIGNER.headers(event, raw))


def refusal(admission: EdgeAdmission, event: Event, raw: bytes, headers: Headers | None) -> ContractError:
    with pytest.raises(ContractError) as refused:
        admission.admit(raw, topic_of(event), headers)
    return refused.value


def test_each_device_signs_with_its_own_key_and_admission_verifies_it(catalog: Catalog) -> None:
    admission = EdgeAdmission(catalog, KEY)
    for event in [scan(), shelf_event(catalog), track(), heartbeat()]:
        raw = event.to_bytes()
        [(name, value)] = SIGNER.headers(event, raw)

        assert admission.admit(raw, topic_of(event), [("other", b"x"), (name, value)]) == event
        assert name == SIGNATURE_HEADER
    signed = [SIGNER.headers(event, b"same bytes")[0][1] for event in [scan(), track(), heartbeat()]]
    assert signed == [
        f"{device}:{hmac.new(device_key(KEY, STORE, device), b'same bytes', 'sha256').hexdigest()}".encode()
        for device in [GATE, CAMERA, gateway_id(STORE)]
    ], "each device its own key"


def test_an_empty_edge_key_signs_nothing(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="empty edge key"):
        EdgeSigner(b"")
    with pytest.raises(ValueError, match="empty edge key"):
        EdgeAdmission(catalog, b"")


def forgeries() -> list[tuple[str, Event, bytes, Headers | None]]:
    """(what, event, bytes as received, headers as received) of messages no device of the store signed."""
    seen = track()
    raw = seen.to_bytes()
    other_camera = seen.model_copy(update={"camera_id": "S002-CAM1"})
    moved = seen.model_copy(update={"x_m": 6.5}).to_bytes()
    stolen = hmac.new(device_key(KEY, "S001", CAMERA), raw, hashlib.sha256).hexdigest()
    return [
        ("no headers", seen, raw, None),
        ("no signature header", seen, raw, [("trace", b"abc")]),
        ("a signature header without a value", seen, raw, [(SIGNATURE_HEADER, None)]),
        ("another key", seen, raw, EdgeSigner(b"not the store's key").headers(seen, raw)),
        (
            "another store's key for a camera of that name",
            seen,
            raw,
            [(SIGNATURE_HEADER, f"{CAMERA}:{stolen}".encode())],
        ),
        ("another device of the store", seen, raw, SIGNER.headers(other_camera, raw)),
        ("bytes changed after signing", seen, moved, SIGNER.headers(seen, raw)),
        ("a digest that is not hex", seen, raw, [(SIGNATURE_HEADER, CAMERA.encode() + b":\xff\xfe" * 32)]),
        ("a digest cut short", seen, raw, [(SIGNATURE_HEADER, SIGNER.headers(seen, raw)[0][1][:-2])]),
    ]


@pytest.mark.parametrize(("what", "event", "raw", "headers"), forgeries(), ids=[f[0] for f in forgeries()])
def test_a_message_its_device_did_not_sign_is_refused(
    admission: EdgeAdmission, what: str, event: Event, raw: bytes, headers: Headers | None
) -> None:
    refused = refusal(admission, event, raw, headers)

    assert refused.field == "(signature)", what
    assert refused.store_id == STORE
    assert CAMERA in refused.reason


def test_a_heartbeat_counts_only_from_the_store_gateway(admission: EdgeAdmission) -> None:
    assert admit_signed(admission, heartbeat()) == heartbeat()
    for impostor in [CAMERA, gateway_id("S001")]:
        beat = heartbeat(impostor)
        raw = beat.to_bytes()  # signed by the device it names: still not the store's gateway

        assert refusal(admission, beat, raw, SIGNER.headers(beat, raw)).field == "device_id"


def test_only_edge_topics_are_checked_for_signature_and_catalog(admission: EdgeAdmission) -> None:
    visit = Visit(
        event_id=make_event_id("visit", "S009"),
        store_id="S009",
        ts=TS,
        visit_id="v1",
        shopper_id=MEMBER,
        status=VisitStatus.OPENED,
        group_size=1,
        entered_at=TS,
    )

    assert admission.admit(visit.to_bytes(), Visit.TOPIC, None) == visit


def catalog_refusals(catalog: Catalog) -> list[tuple[str, Event, str]]:
    """(what, a signed event that makes no sense in its store, the field refused)."""
    elsewhere = track(zone_id=None).model_copy(update={"store_id": "S404"})
    return [
        ("unknown store", elsewhere, "store_id"),
        ("gate of another store", scan(gate_id="S001-G1"), "gate_id"),
        ("accepted scan of no member", scan(shopper_id="M999999"), "shopper_id"),
        (
            "unknown plate",
            shelf_event(catalog).model_copy(update={"plate_id": "S002-GD07-S4-P99"}),
            "plate_id",
        ),
        (
            "plate of another store",
            shelf_event(catalog).model_copy(update={"plate_id": "S001-GD07-S4-P04"}),
            "plate_id",
        ),
        ("plate on another shelf", shelf_event(catalog, shelf_id="S002-GD07-SH3"), "shelf_id"),
        ("track beyond the floor's width", track(x_m=7.6 + 1.2), "x_m"),
        ("track beyond the floor's depth", track(y_m=6.0 + 1.01), "y_m"),
        ("zone of another store", track(zone_id="S001-aisle-1"), "zone_id"),
    ]


def test_a_signed_event_that_makes_no_sense_in_its_store_is_refused(
    catalog: Catalog, admission: EdgeAdmission
) -> None:
    for what, event, field in catalog_refusals(catalog):
        raw = event.to_bytes()
        refused = refusal(admission, event, raw, SIGNER.headers(event, raw))

        assert (refused.field, refused.store_id) == (field, event.store_id), what
        assert refused.event_type == event.event_type


def test_what_the_store_allows_is_admitted_as_sent(catalog: Catalog, admission: EdgeAdmission) -> None:
    allowed = [
        scan(shopper_id="M999999", outcome=ScanOutcome.REJECTED),  # the gate refused it: nothing to forge
        track(x_m=7.6 + 1.0, y_m=-1.0),  # the tracker's noise, just off the floor plan
        track(zone_id=None),
        shelf_event(catalog, units=4, quantity=4),  # the plate's whole capacity
    ]
    for event in allowed:
        assert admit_signed(admission, event) == event


def test_a_shelf_event_naming_another_product_is_corrected_to_the_plates_and_sent_to_review(
    catalog: Catalog, admission: EdgeAdmission
) -> None:
    claimed = shelf_event(catalog, product_id="P0001")  # a 540 g cola, off an 82 g plate of P0178

    corrected = admit_signed(admission, claimed)

    assert isinstance(corrected, ShelfEvent)
    assert (corrected.product_id, corrected.quantity) == (plate(catalog).product_id, 1)
    assert corrected.confidence == UNSURE_READING
    assert corrected.model_copy(update={"product_id": "P0001", "confidence": 0.97}) == claimed


def test_a_hundred_unit_pick_that_weighs_one_unit_is_one_unit_sent_to_review(
    catalog: Catalog, admission: EdgeAdmission
) -> None:
    corrected = admit_signed(admission, shelf_event(catalog, units=1, quantity=100))

    assert isinstance(corrected, ShelfEvent)
    assert (corrected.product_id, corrected.quantity, corrected.confidence) == (
        plate(catalog).product_id,
        1,
        UNSURE_READING,
    )
    assert parse_event(corrected.to_bytes(), ShelfEvent.TOPIC) == corrected


def test_a_confidence_already_under_the_cap_stays_when_corrected(
    catalog: Catalog, admission: EdgeAdmission
) -> None:
    unsure = shelf_event(catalog, units=2, quantity=1).model_copy(update={"confidence": 0.2})

    corrected = admit_signed(admission, unsure)

    assert isinstance(corrected, ShelfEvent)
    assert (corrected.quantity, corrected.confidence) == (2, 0.2)


def test_a_pick_weighing_more_units_than_its_plate_holds_is_refused(
    catalog: Catalog, admission: EdgeAdmission
) -> None:
    capacity = plate(catalog).capacity_units
    event = shelf_event(catalog, units=capacity + 1, quantity=capacity + 1)
    raw = event.to_bytes()

    refused = refusal(admission, event, raw, SIGNER.headers(event, raw))

    assert (refused.field, refused.store_id) == ("weight_delta_g", STORE)
    assert f"at most {capacity}" in refused.reason


def test_a_heavy_put_back_may_be_a_foreign_item_and_is_admitted_unchanged(
    catalog: Catalog, admission: EdgeAdmission
) -> None:
    """More units than the plate holds: someone left a foreign item on it, or many of its own."""
    units = plate(catalog).capacity_units + 5
    put_back = shelf_event(catalog, units=units, quantity=units, action=ShelfAction.PUT_BACK)

    assert admit_signed(admission, put_back) == put_back


def detected(catalog: Catalog, plate_id: str, delta_g: float) -> ShelfEvent:
    """The shelf edge's event for a settled weight change, as its detector counts the units
    (:func:`ingestion.shelf.detect_plate_events`: the unrounded change, clamped to the contract)."""
    units = max(1, round(abs(delta_g) / unit_g(catalog, plate_id)))
    change = PlateChange(
        start_s=1.0,
        end_s=2.0,
        delta_g=delta_g,
        action=ShelfAction.PICK if delta_g < 0 else ShelfAction.PUT_BACK,
        quantity=units,
        confidence=0.4,
    )
    where = plate(catalog, plate_id)
    return to_shelf_event(
        change,
        store_id=STORE,
        shelf_id=f"{where.gondola_id}-SH{where.shelf}",
        plate_id=plate_id,
        product_id=where.product_id,
        window_origin=TS,
    )


def test_a_put_back_heavier_than_a_hundred_units_is_admitted_as_the_edge_clamped_it(
    catalog: Catalog, admission: EdgeAdmission
) -> None:
    """3 kg left on a 22 g plate weighs 136 units; a shelf event says at most 100."""
    put_back = detected(catalog, LIGHT_PLATE, 3000.0)

    admitted = admit_signed(admission, put_back)

    assert admitted == put_back
    assert parse_event(admitted.to_bytes(), ShelfEvent.TOPIC) == admitted


@pytest.mark.parametrize("delta_g", [-122.96, 205.04])
def test_an_honest_reading_at_half_a_unit_is_not_corrected_by_the_wires_rounding(
    catalog: Catalog, admission: EdgeAdmission, delta_g: float
) -> None:
    """The detector counts units on the change it measured; the event carries it to a tenth of a gram
    (82 g a unit: 122.96 g is 1 unit, 123.0 g would be 2; 205.04 g is 3, 205.0 g would be 2)."""
    reading = detected(catalog, PLATE, delta_g)

    assert admit_signed(admission, reading) == reading


@pytest.mark.slow
def test_every_edge_message_of_a_simulated_store_day_is_admitted_as_sent(
    catalog: Catalog, admission: EdgeAdmission, simulated_day: list[StoreDay]
) -> None:
    """The regression guard: signed as their devices sign them, the twin's messages (its faults
    included) and the gateway's heartbeats meet no refusal and no correction."""
    (store_day,) = simulated_day
    sent: list[tuple[Event, str]] = []
    forward_store_day(store_day, lambda event, topic: sent.append((event, topic)))
    changed: list[tuple[Event, Event | str]] = []
    for event, topic in sent:
        raw = event.to_bytes()
        try:
            admitted = admission.admit(raw, topic, SIGNER.headers(event, raw))
        except ContractError as refused:
            changed.append((event, str(refused)))
        else:
            if admitted.to_bytes() != raw:
                changed.append((event, admitted))

    assert changed == []
    assert {type(event) for event, _ in sent} == {GateScan, ShelfEvent, CameraTrack, EdgeHeartbeat}
    assert len(sent) > len(store_day.events)
