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

The package is split by family, each module owning its events: :mod:`.event` (what every event shares),
:mod:`.edge`, :mod:`.checkout`, :mod:`.review` (disputes and adjustments), :mod:`.alerts` (loss
prevention), :mod:`.ads`, :mod:`.dead_letters` and :mod:`.parsing` (the event types by topic, and the
parser). Import from ``walkout.contracts``: it re-exports them all.
"""

from walkout.contracts.ads import AdImpression
from walkout.contracts.alerts import (
    MAX_ALERT_TRACKS,
    MAX_ALERT_UNITS,
    MAX_EVIDENCE_CHARS,
    Alert,
    AlertItem,
    AlertKind,
    AlertSeverity,
    alert_id,
)
from walkout.contracts.checkout import (
    Attribution,
    Cart,
    DwellSegment,
    Purchase,
    ReceiptLine,
    TakeCandidate,
    Visit,
    VisitStatus,
)
from walkout.contracts.dead_letters import DEAD_LETTER_KEEP_BYTES, DeadLetter, dead_letter, rejected_event
from walkout.contracts.edge import (
    EDGE_TOPICS,
    SIGNATURE_HEADER,
    CameraTrack,
    EdgeHeartbeat,
    GateDirection,
    GateScan,
    ScanOutcome,
    ScanRejection,
    ShelfAction,
    ShelfEvent,
)
from walkout.contracts.event import (
    EARLIEST_TS,
    MAX_CLOCK_SKEW,
    MAX_GROUP_SIZE,
    MAX_KRW,
    MAX_QUANTITY,
    SCHEMA_VERSION,
    Confidence,
    ContractError,
    Event,
    EventId,
    GroupSize,
    Identifier,
    Krw,
    KrwChange,
    LabValue,
    Metres,
    PayerId,
    Quantity,
    QuantityChange,
    Seconds,
    UtcTimestamp,
    VisitId,
    format_ts,
    make_event_id,
)
from walkout.contracts.parsing import (
    DEFAULT_MAX_EVENT_BYTES,
    EVENT_TYPE_BY_NAME,
    EVENT_TYPE_BY_TOPIC,
    EVENT_TYPES,
    TOPICS,
    first_error,
    parse_event,
)
from walkout.contracts.review import (
    MAX_DECISIONS,
    MAX_NOTE_CHARS,
    AdjustmentKind,
    AdjustmentLine,
    DisputeKind,
    DisputeNote,
    ReceiptAdjustment,
    ReceiptDispute,
    dispute_id,
)

__all__ = [
    "DEAD_LETTER_KEEP_BYTES",
    "DEFAULT_MAX_EVENT_BYTES",
    "EARLIEST_TS",
    "EDGE_TOPICS",
    "EVENT_TYPES",
    "EVENT_TYPE_BY_NAME",
    "EVENT_TYPE_BY_TOPIC",
    "MAX_ALERT_TRACKS",
    "MAX_ALERT_UNITS",
    "MAX_CLOCK_SKEW",
    "MAX_DECISIONS",
    "MAX_EVIDENCE_CHARS",
    "MAX_GROUP_SIZE",
    "MAX_KRW",
    "MAX_NOTE_CHARS",
    "MAX_QUANTITY",
    "SCHEMA_VERSION",
    "SIGNATURE_HEADER",
    "TOPICS",
    "AdImpression",
    "AdjustmentKind",
    "AdjustmentLine",
    "Alert",
    "AlertItem",
    "AlertKind",
    "AlertSeverity",
    "Attribution",
    "CameraTrack",
    "Cart",
    "Confidence",
    "ContractError",
    "DeadLetter",
    "DisputeKind",
    "DisputeNote",
    "DwellSegment",
    "EdgeHeartbeat",
    "Event",
    "EventId",
    "GateDirection",
    "GateScan",
    "GroupSize",
    "Identifier",
    "Krw",
    "KrwChange",
    "LabValue",
    "Metres",
    "PayerId",
    "Purchase",
    "Quantity",
    "QuantityChange",
    "ReceiptAdjustment",
    "ReceiptDispute",
    "ReceiptLine",
    "ScanOutcome",
    "ScanRejection",
    "Seconds",
    "ShelfAction",
    "ShelfEvent",
    "TakeCandidate",
    "UtcTimestamp",
    "Visit",
    "VisitId",
    "VisitStatus",
    "alert_id",
    "dead_letter",
    "dispute_id",
    "first_error",
    "format_ts",
    "make_event_id",
    "parse_event",
    "rejected_event",
]
