"""Kafka bytes into events: the event types and their topics, and the strict parser every consumer uses."""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import ValidationError

from walkout.contracts.ads import AdImpression
from walkout.contracts.alerts import Alert
from walkout.contracts.checkout import Attribution, Cart, DwellSegment, Purchase, Visit
from walkout.contracts.dead_letters import DeadLetter
from walkout.contracts.edge import EDGE_TOPICS, CameraTrack, EdgeHeartbeat, GateScan, ShelfEvent
from walkout.contracts.event import ContractError, Event
from walkout.contracts.review import ReceiptAdjustment, ReceiptDispute

DEFAULT_MAX_EVENT_BYTES = 64 * 1024
EVENT_TYPES: tuple[type[Event], ...] = (
    GateScan,
    ShelfEvent,
    CameraTrack,
    Visit,
    DwellSegment,
    Purchase,
    Cart,
    Attribution,
    ReceiptDispute,
    ReceiptAdjustment,
    AdImpression,
    Alert,
    DeadLetter,
)
_PARSED_TYPES: tuple[type[Event], ...] = (*EVENT_TYPES, EdgeHeartbeat)
EVENT_TYPE_BY_NAME: dict[str, type[Event]] = {
    model.model_fields["event_type"].default: model for model in _PARSED_TYPES
}
EVENT_TYPE_BY_TOPIC: dict[str, type[Event]] = {model.TOPIC: model for model in EVENT_TYPES}
TOPICS: tuple[str, ...] = tuple(EVENT_TYPE_BY_TOPIC)


def first_error(error: ValidationError, whole: str = "(event)") -> tuple[str, str]:
    """The first offending field of a model (dotted; ``whole`` when the model as a whole failed) and why."""
    detail = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in detail["loc"]) or whole
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
        field, reason = first_error(error)
        raise ContractError(field, reason, name) from None
    except (ValueError, RecursionError, OverflowError) as error:  # what the validators' own code raised
        raise ContractError("(event)", f"{type(error).__name__}: {str(error)[:200]}", name) from None
