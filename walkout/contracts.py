"""Every walkout event, defined once: fields, units, schema version, topic, JSON bytes for Kafka.

Producers build these models, consumers and the lander parse bytes with :func:`parse_event`, and
the lake and the dbt sources keep their fields. Conventions:

* ``ts`` is UTC, serialized as ISO-8601 with a ``Z`` suffix and millisecond precision;
* ``event_id`` is stable across retries (derive it with :func:`make_event_id` from what makes the
  event unique), so every consumer can drop duplicates;
* money is integer KRW, weights grams, positions metres on the store's floor plan, durations seconds;
* parsing is strict: a wrong type is never coerced, an unknown field or event type is rejected.

Bad input never raises anything but :class:`ContractError`, which names the offending field, whatever
the bytes (none at all, a tombstone, deep nesting, huge numbers, NaN); :func:`dead_letter` wraps the
rejected bytes into a ``deadletter`` event that keeps them (a bounded prefix and their SHA-256, so the
dead letter itself can always be published and landed).

Edge events are signed by the device that sent them (see :mod:`walkout.edge`): the signature travels
in the Kafka header :data:`SIGNATURE_HEADER`. Each edge topic also carries the store gateway's
:class:`EdgeHeartbeat`: "every event of this topic up to ``ts`` has been sent", so consumers know
how far a quiet stream has got.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)

from walkout.errors import WalkoutError
from walkout.vocabulary import AgeBand, DemographicSource, Gender

SCHEMA_VERSION: Literal[1] = 1
DEFAULT_MAX_EVENT_BYTES = 64 * 1024
# Timestamps outside this window are absurd for a store that opened after 2015; a little future is
# allowed for edge clocks that run ahead.
EARLIEST_TS = datetime(2015, 1, 1, tzinfo=UTC)
MAX_CLOCK_SKEW = timedelta(days=2)
DEAD_LETTER_KEEP_BYTES = 16 * 1024  # a dead letter keeps this much of the rejected message, and its hash
SIGNATURE_HEADER = "walkout-signature"  # Kafka header of an edge event: "<device id>:<hex HMAC-SHA256>"
_EVENT_ID_NAMESPACE = uuid.UUID("6f1c2a52-2d4e-4b8e-9c1e-5a7b7d0e9a11")


class ContractError(WalkoutError, ValueError):
    """A message that does not follow its contract; ``field`` names what is wrong."""

    def __init__(
        self, field: str, reason: str, event_type: str | None = None, store_id: str | None = None
    ) -> None:
        self.field = field
        self.reason = reason
        self.event_type = event_type
        self.store_id = store_id  # of an event that parsed but may not be used
        where = f"{event_type}." if event_type else ""
        super().__init__(f"{where}{field}: {reason}")


def _check_utc_range(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a UTC offset (e.g. 2026-11-23T08:00:00Z)")
    # Milliseconds are the wire precision; truncating here makes a round trip exact.
    value = value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)
    latest = datetime.now(UTC) + MAX_CLOCK_SKEW
    if not EARLIEST_TS <= value <= latest:
        raise ValueError(f"timestamp {value.isoformat()} is outside {EARLIEST_TS.date()}..{latest.date()}")
    return value


def format_ts(value: datetime) -> str:
    """The wire format of every timestamp: UTC, milliseconds, ``Z``."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


UtcTimestamp = Annotated[
    datetime,
    AfterValidator(_check_utc_range),
    PlainSerializer(format_ts, return_type=str, when_used="json"),
]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")]
EventId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Confidence = Annotated[float, Field(ge=0.0, le=1.0)]
Metres = Annotated[float, Field(ge=-1.0, le=500.0)]
VisitId = Annotated[Identifier, Field(description="Visit.")]
PayerId = Annotated[Identifier, Field(description="Pseudonymous member id of the payer.")]
Seconds = Annotated[float, Field(ge=0.0, le=24 * 3600.0)]
Krw = Annotated[int, Field(ge=0, le=100_000_000)]
MAX_QUANTITY = 100  # units of one product in a shelf event or a receipt line
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
MAX_GROUP_SIZE = 4  # people one QR token admits
GroupSize = Annotated[int, Field(ge=1, le=MAX_GROUP_SIZE)]
LabValue = Annotated[float, Field(ge=0.0, le=255.0)]  # a CIELAB channel on OpenCV's 8-bit scale


def make_event_id(*parts: object) -> str:
    """A deterministic id from what makes an event unique, so a retried send keeps its id."""
    return uuid.uuid5(_EVENT_ID_NAMESPACE, "|".join(str(part) for part in parts)).hex


class Event(BaseModel):
    """Fields every event carries. Subclasses set ``TOPIC`` and a literal ``event_type``."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    TOPIC: ClassVar[str]

    event_id: EventId = Field(description="Unique id, stable across retries.")
    event_type: str
    schema_version: Literal[1] = Field(SCHEMA_VERSION, description="Contract version.")
    store_id: Identifier = Field(description="Store.")
    ts: UtcTimestamp = Field(description="When it happened (UTC).")  # each event says what that is

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @property
    def key(self) -> bytes:
        """Kafka key: one store's events share a partition, so they stay in order."""
        return self.store_id.encode()


# --- edge events -----------------------------------------------------------------------------


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
    age_band: AgeBand | None = Field(None, description="Entrance camera age estimate, if any.")
    gender: Gender | None = Field(None, description="Entrance camera gender estimate, if any.")
    demographic_confidence: Confidence | None = Field(None, description="Confidence of the estimates.")


# --- checkout events -------------------------------------------------------------------------


class VisitStatus(StrEnum):
    OPENED = "opened"
    CLOSED = "closed"


class Visit(Event):
    """A visit opened by an accepted entry scan and closed at exit."""

    TOPIC: ClassVar[str] = "visits"
    event_type: Literal["visit"] = "visit"
    store_id: Identifier = Field(description="Store visited.")
    ts: UtcTimestamp = Field(description="Entry time when opened, exit time when closed (UTC).")
    visit_id: VisitId
    shopper_id: PayerId
    status: VisitStatus = Field(description="opened or closed.")
    group_size: GroupSize = Field(description="People admitted by the token.")
    track_ids: tuple[Identifier, ...] = Field((), description="Camera track ids of the visit's people.")
    entered_at: UtcTimestamp = Field(description="Entry scan time (UTC).")
    exited_at: UtcTimestamp | None = Field(None, description="Exit time (UTC), set when closed.")
    age_band: AgeBand = Field(
        AgeBand.UNKNOWN,
        description="Payer's age band: declared by the member, else the entrance camera's estimate, "
        "else unknown.",
    )
    gender: Gender = Field(
        Gender.UNKNOWN, description="Payer's gender, from the same source as the age band."
    )
    demographic_source: DemographicSource = Field(
        DemographicSource.UNKNOWN, description="declared, estimated or unknown."
    )
    demographic_confidence: Confidence | None = Field(
        None,
        description="1.0 when declared, the entrance camera's confidence when estimated, null when unknown.",
    )

    @model_validator(mode="after")
    def _closed_visits_have_exit(self) -> Self:
        if (self.status is VisitStatus.CLOSED) != (self.exited_at is not None):
            raise ValueError("exited_at is set exactly when status is 'closed'")
        if self.exited_at is not None and self.exited_at < self.entered_at:
            raise ValueError("exited_at is before entered_at")
        return self


class DwellSegment(Event):
    """A visit's stay in one zone: pass-through when it did not stop."""

    TOPIC: ClassVar[str] = "dwell_paths"
    event_type: Literal["dwell.segment"] = "dwell.segment"
    ts: UtcTimestamp = Field(description="End of the segment (UTC).")
    visit_id: VisitId
    shopper_id: PayerId
    zone_id: Identifier = Field(description="Zone.")
    entered_at: UtcTimestamp = Field(description="When the person entered the zone (UTC).")
    exited_at: UtcTimestamp = Field(description="When the person left the zone (UTC).")
    dwell_s: Seconds = Field(description="Seconds in the zone.")
    stopped: bool = Field(description="The person stopped in the zone (else passed through).")

    @model_validator(mode="after")
    def _exit_after_entry(self) -> Self:
        if self.exited_at < self.entered_at:
            raise ValueError("exited_at is before entered_at")
        return self


class ReceiptLine(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    product_id: Identifier
    quantity: Quantity
    unit_price_krw: Krw
    amount_krw: Krw
    confidence: Confidence

    @model_validator(mode="after")
    def _amount_is_price_times_quantity(self) -> Self:
        if self.amount_krw != self.unit_price_krw * self.quantity:
            raise ValueError("amount_krw must equal unit_price_krw * quantity")
        return self


def _check_total(lines: tuple[ReceiptLine, ...], total_krw: int) -> None:
    if total_krw != sum(line.amount_krw for line in lines):
        raise ValueError("total_krw must equal the sum of the lines' amount_krw")


class Purchase(Event):
    """The receipt charged when a visit leaves the store (one per visit, key = visit_id)."""

    TOPIC: ClassVar[str] = "purchases"
    event_type: Literal["purchase"] = "purchase"
    ts: UtcTimestamp = Field(description="When the receipt was charged (UTC).")
    visit_id: VisitId
    shopper_id: PayerId
    group_size: GroupSize = Field(1, description="People admitted by the token.")
    lines: tuple[ReceiptLine, ...] = Field(
        min_length=1, max_length=200, description="Receipt lines, one per product."
    )
    total_krw: Krw = Field(description="Charged total in KRW; the sum of the lines.")
    confidence: Confidence = Field(
        description="Lowest confidence of what shaped the receipt: its lines, and put-backs that took a "
        "line away."
    )
    needs_review: bool = Field(description="Flagged for human review.")
    review_reasons: tuple[str, ...] = Field((), description="Why it needs review.")

    @model_validator(mode="after")
    def _total_is_sum_of_lines(self) -> Self:
        _check_total(self.lines, self.total_krw)
        return self


class Cart(Event):
    """A visit's virtual cart while it shops: what its people carry now, priced as the receipt would
    charge it. A new revision whenever a pick, a put-back or an undone id swap changes it; the
    visit's ``closed`` event ends it and its receipt is the last word (key = store, so in order)."""

    TOPIC: ClassVar[str] = "carts"
    event_type: Literal["cart"] = "cart"
    ts: UtcTimestamp = Field(description="When the checkout decided the change (UTC).")
    visit_id: VisitId
    shopper_id: PayerId
    revision: int = Field(
        ge=1, le=1_000_000, description="The cart's nth change in its visit; the highest is the latest."
    )
    lines: tuple[ReceiptLine, ...] = Field(
        (),
        max_length=200,
        description="What the visit's people carry, one line per product; empty when all was put back.",
    )
    total_krw: Krw = Field(description="The cart's value in KRW; the sum of the lines.")

    @model_validator(mode="after")
    def _total_is_sum_of_lines(self) -> Self:
        _check_total(self.lines, self.total_krw)
        return self


class EdgeHeartbeat(Event):
    """The store gateway's word that every event of the topic it travels on, up to ``ts``, has been
    sent: a quiet stream (no scans at night) still shows how far it has got. Sent on each edge topic
    that has had nothing else to send for a moment; consumers keep it out of the lake."""

    TOPIC: ClassVar[str] = "(every edge topic)"
    event_type: Literal["edge.heartbeat"] = "edge.heartbeat"
    device_id: Identifier = Field(description="The gateway that vouches for the stream.")


# --- readers' events -------------------------------------------------------------------------


class AdImpression(Event):
    """What an in-store screen showed, to whom, and whether it was clicked or scanned."""

    TOPIC: ClassVar[str] = "ad.impressions"
    event_type: Literal["ad.impression"] = "ad.impression"
    ts: UtcTimestamp = Field(description="When the ad was shown (UTC).")
    screen_id: Identifier = Field(description="Ad screen.")
    zone_id: Identifier = Field(description="Zone of the screen.")
    product_id: Identifier = Field(description="Advertised product.")
    creative_id: Identifier = Field(description="Creative shown.")
    reason: Identifier = Field(description="Why this ad was chosen.")
    shopper_ids: tuple[Identifier, ...] = Field(
        (), max_length=4, description="Shoppers in front of the screen, if known."
    )
    segment: Identifier | None = Field(None, description="Targeted segment, if any.")
    model_version: Identifier | None = Field(None, description="Recommendation model version.")
    clicked: bool = Field(False, description="The ad was clicked.")
    scanned: bool = Field(False, description="The ad's QR code was scanned.")


class DeadLetter(Event):
    """A rejected message: the original bytes (base64, the first :data:`DEAD_LETTER_KEEP_BYTES` of
    them), where they came from, and why."""

    TOPIC: ClassVar[str] = "deadletter"
    event_type: Literal["deadletter"] = "deadletter"
    store_id: Identifier = Field(description="Store, or unknown.")
    ts: UtcTimestamp = Field(description="When the message was rejected (UTC).")
    source_topic: str = Field(min_length=1, max_length=249, description="Topic the message came from.")
    source_partition: int | None = Field(None, ge=0, description="Its Kafka partition, if known.")
    source_offset: int | None = Field(None, ge=0, description="Its Kafka offset, if known.")
    rejected_by: Identifier = Field(description="Component that rejected it.")
    error_field: str = Field(max_length=200, description="Offending field.")
    reason: str = Field(max_length=2000, description="Why it was rejected.")
    original_b64: str = Field(
        max_length=(DEAD_LETTER_KEEP_BYTES + 2) // 3 * 4,
        description=f"The original bytes, base64 (the first {DEAD_LETTER_KEEP_BYTES // 1024} KiB of them).",
    )
    original_bytes: int | None = Field(
        None, ge=0, description="Length of the whole original message (null before it was kept)."
    )
    original_sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the whole original message (hex)."
    )

    def original(self) -> bytes:
        """What was kept of the original: all of it when ``original_bytes`` says so."""
        return base64.b64decode(self.original_b64)


EVENT_TYPES: tuple[type[Event], ...] = (
    GateScan,
    ShelfEvent,
    CameraTrack,
    Visit,
    DwellSegment,
    Purchase,
    Cart,
    AdImpression,
    DeadLetter,
)
_PARSED_TYPES: tuple[type[Event], ...] = (*EVENT_TYPES, EdgeHeartbeat)
EVENT_TYPE_BY_NAME: dict[str, type[Event]] = {
    model.model_fields["event_type"].default: model for model in _PARSED_TYPES
}
EVENT_TYPE_BY_TOPIC: dict[str, type[Event]] = {model.TOPIC: model for model in EVENT_TYPES}
TOPICS: tuple[str, ...] = tuple(EVENT_TYPE_BY_TOPIC)
EDGE_TOPICS: tuple[str, ...] = (GateScan.TOPIC, ShelfEvent.TOPIC, CameraTrack.TOPIC)


def _first_error(error: ValidationError) -> tuple[str, str]:
    detail = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in detail["loc"]) or "(event)"
    return field, detail["msg"]


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a contract accepts")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is out of range")
    return value


def _document(raw: bytes) -> Any:
    """The JSON document, or ContractError: whatever the bytes, nothing else escapes."""
    try:
        return json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ContractError("(payload)", f"not JSON: {error}") from None
    except RecursionError:
        raise ContractError("(payload)", "nested too deeply") from None
    except ValueError as error:  # NaN, Infinity, an integer past Python's digit limit
        raise ContractError("(payload)", f"not a valid number: {str(error)[:120]}") from None


def parse_event(
    raw: bytes | None, topic: str | None = None, max_bytes: int = DEFAULT_MAX_EVENT_BYTES
) -> Event:
    """Parse Kafka bytes into their event; ``topic`` additionally checks the event belongs there.

    Raises :class:`ContractError` for anything that is not a valid event, ``None`` (a tombstone) included.
    """
    if raw is None:
        raise ContractError("(payload)", "no value: a tombstone carries no event")
    if len(raw) > max_bytes:
        raise ContractError("(payload)", f"{len(raw)} bytes exceeds the {max_bytes}-byte limit")
    document = _document(raw)
    if not isinstance(document, dict):
        raise ContractError("(payload)", f"expected a JSON object, got {type(document).__name__}")
    name = document.get("event_type")
    if not isinstance(name, str):
        raise ContractError("event_type", "missing or not a string")
    model = EVENT_TYPE_BY_NAME.get(name)
    if model is None:
        raise ContractError("event_type", f"unknown event type {name[:64]!r}")
    if topic is not None and topic != model.TOPIC and not (model is EdgeHeartbeat and topic in EDGE_TOPICS):
        raise ContractError("event_type", f"{name!r} does not belong on topic {topic[:249]!r}", name)
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        field, reason = _first_error(error)
        raise ContractError(field, reason, name) from None
    except (ValueError, RecursionError, OverflowError) as error:  # what the validators' own code raised
        raise ContractError("(event)", f"{type(error).__name__}: {str(error)[:200]}", name) from None


def dead_letter(
    raw: bytes | None,
    source_topic: str,
    error: ContractError | str,
    rejected_by: str,
    store_id: str = "unknown",
    source_partition: int | None = None,
    source_offset: int | None = None,
    happened_at: datetime | None = None,
) -> DeadLetter:
    """Wrap a rejected message so nothing is lost: the original bytes (up to a bound, with the hash and
    length of all of them) and the reason travel on. It is dated ``happened_at`` when the message's own
    time is known (so it lands beside its day), else now."""
    raw = raw or b""
    field = error.field if isinstance(error, ContractError) else "(event)"
    reason = str(error)[:2000]
    digest = hashlib.sha256(raw).hexdigest()
    return DeadLetter(
        # one rejection of one message: a retry gets the same id, another consumer's rejection another
        event_id=make_event_id(
            "deadletter", rejected_by, source_topic, source_partition, source_offset, digest, reason
        ),
        store_id=store_id,
        ts=happened_at or datetime.now(UTC),
        source_topic=source_topic[:249] or "(none)",
        source_partition=source_partition,
        source_offset=source_offset,
        rejected_by=rejected_by,
        error_field=field[:200],
        reason=reason,
        original_b64=base64.b64encode(raw[:DEAD_LETTER_KEEP_BYTES]).decode(),
        original_bytes=len(raw),
        original_sha256=digest,
    )


def rejected_event(event: Event, reason: str, rejected_by: str) -> DeadLetter:
    """A valid event that could not be used (a store nobody knows, a pick nobody can be charged for)."""
    return dead_letter(
        event.to_bytes(), event.TOPIC, reason, rejected_by, event.store_id, happened_at=event.ts
    )
