"""The events the store's edge devices send: gate scans, shelf plate changes, camera tracks, and the
gateway's heartbeat on each of their topics. They travel signed (see :mod:`walkout.edge`)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from walkout.appearance import APPEARANCE_LENGTH, PART_BINS, PARTS
from walkout.contracts.event import (
    MAX_GROUP_SIZE,
    Confidence,
    Event,
    GroupSize,
    Identifier,
    LabValue,
    Metres,
    Quantity,
    UtcTimestamp,
)
from walkout.vocabulary import AgeBand, Gender

ROUNDING_SLACK = 0.1  # a part's rounded bins may sum this far from 1 (18 bins, each off by up to 0.005)
SIGNATURE_HEADER = "walkout-signature"  # Kafka header of an edge event: "<device id>:<hex HMAC-SHA256>"


class GateDirection(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


class ScanOutcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ScanRejection(StrEnum):
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    REPLAYED = "replayed"
    REVOKED = "revoked"
    WRONG_STORE = "wrong_store"
    UNKNOWN_MEMBER = "unknown_member"
    STORE_CLOSED = "store_closed"
    NOT_ENTERED = "not_entered"  # an exit scan whose token has no entry to close


class GateScan(Event):
    """A QR scan at a speed gate (entry or exit), with the gate's verdict."""

    TOPIC: ClassVar[str] = "gate.scans"
    event_type: Literal["gate.scan"] = "gate.scan"
    store_id: Identifier = Field(description="Store of the gate.")
    ts: UtcTimestamp = Field(description="When the QR code was scanned (UTC).")
    gate_id: Identifier = Field(description="Gate lane.")
    direction: GateDirection = Field(description="entry or exit.")
    token_id: Identifier | None = Field(None, description="Id of the QR token; never the secret itself.")
    shopper_id: Identifier | None = Field(None, description="Member the token belongs to (accepted scans).")
    outcome: ScanOutcome = Field(description="accepted or rejected.")
    rejection: ScanRejection | None = Field(None, description="Why a rejected scan was rejected.")
    group_size: GroupSize = Field(1, description=f"People one token admits (1-{MAX_GROUP_SIZE}).")
    people_passed: int = Field(1, ge=0, le=10, description="People the gate's beam counted.")
    tailgating: bool = Field(False, description="More people passed than the token admits.")

    @model_validator(mode="after")
    def _rejection_matches_outcome(self) -> Self:
        if (self.outcome is ScanOutcome.REJECTED) != (self.rejection is not None):
            raise ValueError("rejection is set exactly when outcome is 'rejected'")
        if self.outcome is ScanOutcome.ACCEPTED and self.shopper_id is None:
            raise ValueError("an accepted scan names its shopper_id")
        return self


class ShelfAction(StrEnum):
    PICK = "pick"
    PUT_BACK = "put_back"


class ShelfEvent(Event):
    """A pick or put-back detected by a shelf weight plate."""

    TOPIC: ClassVar[str] = "shelf.events"
    event_type: Literal["shelf.event"] = "shelf.event"
    store_id: Identifier = Field(description="Store of the plate.")
    ts: UtcTimestamp = Field(description="When the weight settled (UTC).")
    shelf_id: Identifier = Field(description="Shelf of the plate.")
    plate_id: Identifier = Field(description="Weight plate.")
    action: ShelfAction = Field(description="pick or put_back.")
    weight_delta_g: float = Field(
        ge=-50_000.0,
        le=50_000.0,
        description="Weight change in grams; negative when weight left the plate.",
    )
    product_id: Identifier = Field(description="Product inferred from the plate and the weight.")
    quantity: Quantity = Field(description="Units inferred from the weight.")
    confidence: Confidence = Field(description="Detector confidence (0-1).")

    @model_validator(mode="after")
    def _sign_matches_action(self) -> Self:
        if (self.action is ShelfAction.PICK) != (self.weight_delta_g < 0):
            raise ValueError("a pick removes weight (delta < 0), a put-back adds it (delta > 0)")
        return self


class CameraTrack(Event):
    """One tracked shopper position on the floor plan, as a tracker reports it (a few Hz)."""

    TOPIC: ClassVar[str] = "camera.tracks"
    event_type: Literal["camera.track"] = "camera.track"
    store_id: Identifier = Field(description="Store of the camera.")
    ts: UtcTimestamp = Field(description="When the position was observed (UTC).")
    camera_id: Identifier = Field(description="Ceiling camera.")
    track_id: Identifier = Field(description="Tracker id of one person (unique within a store).")
    x_m: Metres = Field(description="Floor-plan x in metres.")
    y_m: Metres = Field(description="Floor-plan y in metres.")
    zone_id: Identifier | None = Field(None, description="Zone containing the position.")
    colour_lab: tuple[LabValue, LabValue, LabValue] | None = Field(
        None,
        description="How the shopper looked from above in this frame: the mean CIELAB colour of their "
        "pixels (8-bit scale: L, a, b), to tell people apart after the tracker swapped their ids; null "
        "if unknown.",
    )
    appearance: tuple[Confidence, ...] | None = Field(
        None,
        description=f"How the shopper looked in this frame, richer than one colour: {PARTS} colour "
        f"histograms of {PART_BINS} CIELAB bins each (upper body, then lower body; see walkout.appearance), "
        "each summing to 1, rounded to 0.01; null if unknown or from a producer that does not compute it.",
    )
    age_band: AgeBand | None = Field(None, description="Entrance camera age estimate, if any.")
    gender: Gender | None = Field(None, description="Entrance camera gender estimate, if any.")
    demographic_confidence: Confidence | None = Field(None, description="Confidence of the estimates.")

    @model_validator(mode="after")
    def _appearance_is_histograms(self) -> Self:
        if self.appearance is None:
            return self
        if len(self.appearance) != APPEARANCE_LENGTH:
            raise ValueError(f"appearance has {APPEARANCE_LENGTH} bins, not {len(self.appearance)}")
        for part in range(PARTS):
            total = sum(self.appearance[part * PART_BINS : (part + 1) * PART_BINS])
            if abs(total - 1.0) > ROUNDING_SLACK:
                raise ValueError(f"each part of appearance sums to 1; part {part} sums to {total:.2f}")
        return self


class EdgeHeartbeat(Event):
    """The store gateway's word that every event of the topic it travels on, up to ``ts``, has been
    sent: a quiet stream (no scans at night) still shows how far it has got. Sent on each edge topic
    that has had nothing else to send for a moment; consumers keep it out of the lake."""

    TOPIC: ClassVar[str] = "(every edge topic)"
    event_type: Literal["edge.heartbeat"] = "edge.heartbeat"
    device_id: Identifier = Field(description="The gateway that vouches for the stream.")


EDGE_TOPICS: tuple[str, ...] = (GateScan.TOPIC, ShelfEvent.TOPIC, CameraTrack.TOPIC)
