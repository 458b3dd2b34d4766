"""What every event shares: the base :class:`Event`, its field types and units, ids, timestamps, and
:class:`ContractError`, the one exception bad input raises."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from walkout.errors import WalkoutError

SCHEMA_VERSION: Literal[1] = 1
# Timestamps outside this window are absurd for a store that opened after 2015; a little future is
# allowed for edge clocks that run ahead.
EARLIEST_TS = datetime(2015, 1, 1, tzinfo=UTC)
MAX_CLOCK_SKEW = timedelta(days=2)
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
MAX_KRW = 100_000_000
Krw = Annotated[int, Field(ge=0, le=MAX_KRW)]
KrwChange = Annotated[int, Field(ge=-MAX_KRW, le=MAX_KRW)]  # added to (+) or taken off (-) a charge
MAX_QUANTITY = 100  # units of one product in a shelf event or a receipt line
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
QuantityChange = Annotated[int, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY)]  # units added (+) or off (-)
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
