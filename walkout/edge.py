"""What the store edge may send, and how a consumer admits it: proof of origin, then the catalog's word.

**Proof of origin.** Every edge device signs the exact bytes it sends with a key of its own:
``HMAC-SHA256(device key, message)``, hex, in the Kafka header :data:`SIGNATURE_HEADER` as
``<device id>:<hex>``. Device keys derive from the ``edge_key`` setting, first per store, then per
device (``HMAC(HMAC(edge key, store), device)``), so a stolen gate or plate controller exposes its
own messages, never the store's or the chain's. The device of an event is the one that saw it: the
gate lane of a scan, the shelf controller of a plate event, the ceiling camera of a track, the store
gateway of a heartbeat.

**The device's clock.** A signed message dated more than :data:`CLOCK_AHEAD_S` after the consumer's
wall clock is refused: no device sees the future, and a consumer that lands it (the lake) or holds it
(the checkout) would keep a reading of an instant that has not happened.

**The catalog's word.** A signed message still has to make sense in its store: a known store, a gate
or plate that is there, a member that exists, a position on the floor. A shelf event names the
plate's product and the units its weight change makes; one that says otherwise is corrected from the
weight and marked unsure (so its receipt goes to review), never charged as it claimed; one that
weighs more units than its plate can hold is refused (a put-back may be a foreign item).

:class:`EdgeAdmission` does both for every consumer of the edge topics (the checkout, the lander, the
ad API's live feed); anything it refuses is a :class:`ContractError` naming why, to dead-letter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from walkout.catalog import Catalog, CatalogError, Store
from walkout.contracts import (
    DEFAULT_MAX_EVENT_BYTES,
    EDGE_TOPICS,
    MAX_QUANTITY,
    SIGNATURE_HEADER,
    CameraTrack,
    ContractError,
    EdgeHeartbeat,
    Event,
    GateScan,
    ScanOutcome,
    ShelfAction,
    ShelfEvent,
    parse_event,
)
from walkout.keys import derive, matches, signature

Headers = Sequence[tuple[str, bytes | None]]
UNSURE_READING = 0.5
"""A shelf event's confidence once the catalog corrected it: its receipt line goes to review."""
WEIGHT_STEP_G = 0.1  # a shelf event's weight change is rounded to this (ingestion.shelf.to_shelf_event)
FLOOR_MARGIN_M = 1.0  # a tracked position may stray this far off the floor plan (the tracker's noise)
CLOCK_AHEAD_S = 60.0  # an edge clock may run this far ahead of the consumer's


def gateway_id(store_id: str) -> str:
    """The store gateway: it forwards the devices' messages and vouches for quiet streams."""
    return f"{store_id}-EDGE"


def device_of(event: Event) -> str:
    """The device that saw an edge event and signs it."""
    if isinstance(event, GateScan):
        return event.gate_id
    if isinstance(event, ShelfEvent):
        return event.shelf_id
    if isinstance(event, CameraTrack):
        return event.camera_id
    if isinstance(event, EdgeHeartbeat):
        return event.device_id
    raise ContractError("event_type", f"{event.event_type!r} is not an edge event", event.event_type)


def device_key(edge_key: bytes, store_id: str, device_id: str) -> bytes:
    return derive(edge_key, f"walkout-edge-store:{store_id}", f"walkout-edge-device:{device_id}")


class _DeviceKeys:
    """Device keys by (store, device), derived once each."""

    def __init__(self, edge_key: bytes) -> None:
        if not edge_key:
            raise ValueError("an empty edge key signs nothing")
        self._edge_key = edge_key
        self._keys: dict[tuple[str, str], bytes] = {}

    def of(self, store_id: str, device_id: str) -> bytes:
        key = self._keys.get((store_id, device_id))
        if key is None:
            key = self._keys[(store_id, device_id)] = device_key(self._edge_key, store_id, device_id)
        return key


class EdgeSigner:
    """Signs edge events as their devices do (the twin plays every device of its stores)."""

    def __init__(self, edge_key: bytes) -> None:
        self._keys = _DeviceKeys(edge_key)

    def headers(self, event: Event, raw: bytes) -> list[tuple[str, bytes]]:
        device = device_of(event)
        digest = signature(self._keys.of(event.store_id, device), raw).hex()
        return [(SIGNATURE_HEADER, f"{device}:{digest}".encode())]


class EdgeAdmission:
    """Admits edge messages: the contract, the device's signature, then the catalog (see the module)."""

    def __init__(
        self,
        catalog: Catalog,
        edge_key: bytes,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        clock: Callable[[], float] = time.time,
    ):
        self.catalog = catalog
        self.max_event_bytes = max_event_bytes
        self.clock = clock  # the wall clock, epoch seconds
        self._keys = _DeviceKeys(edge_key)

    def admit(self, raw: bytes | None, topic: str, headers: Headers | None) -> Event:
        """The event as it may be used, or :class:`ContractError` saying why it may not."""
        event = parse_event(raw, topic, self.max_event_bytes)
        if topic not in EDGE_TOPICS:
            return event
        store = self._store(event)
        self._verify_origin(event, raw or b"", headers or ())
        ahead = event.ts.timestamp() - self.clock()
        if ahead > CLOCK_AHEAD_S:
            raise _refused(
                event, "ts", f"dated {ahead:.0f} s after the wall clock (a device clock running ahead?)"
            )
        if isinstance(event, GateScan):
            self._check_scan(store, event)
        elif isinstance(event, ShelfEvent):
            return self._weighed(store, event)
        elif isinstance(event, CameraTrack):
            self._check_track(store, event)
        elif isinstance(event, EdgeHeartbeat) and event.device_id != gateway_id(store.store_id):
            raise _refused(event, "device_id", f"{event.device_id!r} is not the gateway of {store.store_id}")
        return event

    def _store(self, event: Event) -> Store:
        try:
            return self.catalog.store(event.store_id)
        except CatalogError:
            raise _refused(event, "store_id", f"unknown store {event.store_id!r}") from None

    def _verify_origin(self, event: Event, raw: bytes, headers: Headers) -> None:
        device = device_of(event)
        presented = [value for name, value in headers if name == SIGNATURE_HEADER]
        if not presented or presented[0] is None:
            raise _refused(event, "(signature)", f"unsigned: no {SIGNATURE_HEADER} header from {device}")
        signer, _, digest = presented[0].partition(b":")  # bytes: any of them, ASCII or not, compare
        if signer != device.encode():
            named = signer[:64].decode("ascii", "replace")
            raise _refused(event, "(signature)", f"signed by {named!r}, not by {device}, which saw it")
        expected = signature(self._keys.of(event.store_id, device), raw).hex()
        if not matches(expected, digest):
            raise _refused(event, "(signature)", f"forged: not signed with {device}'s key")

    def _check_scan(self, store: Store, scan: GateScan) -> None:
        if scan.gate_id not in {gate.gate_id for gate in store.gates}:
            raise _refused(scan, "gate_id", f"no gate {scan.gate_id!r} in store {store.store_id}")
        if scan.outcome is ScanOutcome.ACCEPTED and scan.shopper_id not in self.catalog.members:
            raise _refused(scan, "shopper_id", f"accepted scan of unknown member {scan.shopper_id!r}")

    def _weighed(self, store: Store, event: ShelfEvent) -> ShelfEvent:
        """The event as its plate's weight says it happened: the plate's product, the units its weight
        change makes; a claim that differs is corrected and marked unsure."""
        try:
            plate = store.plate(event.plate_id)
        except CatalogError:
            where = f"no plate {event.plate_id!r} in store {store.store_id}"
            raise _refused(event, "plate_id", where) from None
        shelf_id = f"{plate.gondola_id}-SH{plate.shelf}"
        if event.shelf_id != shelf_id:
            raise _refused(event, "shelf_id", f"plate {plate.plate_id} is on shelf {shelf_id}")
        unit = self.catalog.product(plate.product_id).unit_weight_g
        weight = abs(event.weight_delta_g)
        units = _units(weight, unit)
        if event.action is ShelfAction.PICK and units > plate.capacity_units:  # a put-back may be foreign
            raise _refused(
                event,
                "weight_delta_g",
                f"{weight:.0f} g is {units} units of {plate.product_id}; "
                f"plate {plate.plate_id} holds at most {plate.capacity_units}",
            )
        # the edge counted on the change it measured, before rounding it to the wire's step
        fits = (
            _units(weight - WEIGHT_STEP_G / 2, unit)
            <= event.quantity
            <= _units(weight + WEIGHT_STEP_G / 2, unit)
        )
        if event.product_id == plate.product_id and fits:
            return event
        return event.model_copy(
            update={
                "product_id": plate.product_id,
                "quantity": units,
                "confidence": min(event.confidence, UNSURE_READING),
            }
        )

    def _check_track(self, store: Store, track: CameraTrack) -> None:
        for field, metres, floor_m in (("x_m", track.x_m, store.width_m), ("y_m", track.y_m, store.depth_m)):
            if not -FLOOR_MARGIN_M <= metres <= floor_m + FLOOR_MARGIN_M:
                where = f"({track.x_m}, {track.y_m}) is off the floor of {store.store_id}"
                raise _refused(track, field, where)
        if track.zone_id is not None and track.zone_id not in {zone.zone_id for zone in store.zones}:
            raise _refused(track, "zone_id", f"no zone {track.zone_id!r} in store {store.store_id}")


def _units(weight_g: float, unit_weight_g: float) -> int:
    """The units of a product a weight change makes, as a shelf event can say it."""
    return min(max(1, round(weight_g / unit_weight_g)), MAX_QUANTITY)


def _refused(event: Event, field: str, reason: str) -> ContractError:
    return ContractError(field, reason, event.event_type, event.store_id)
