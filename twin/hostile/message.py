"""A hostile message: what it is, where in the day it is sent, and what the consumers must make of it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

Headers = list[tuple[str, bytes]]


class Fate(StrEnum):
    """What the consumers of the edge topics (the checkout, the lander) must make of a message."""

    REFUSED = "refused"
    """Both dead-letter it at its source position, naming ``field``: nothing of it is used or landed."""
    DUPLICATE = "refused as a duplicate"
    """A genuine device's second message with a taken id and other content: the checkout dead-letters it
    at its source position (a conflicting duplicate, or too late to be told from one); the lander
    keeps the first copy in the lake and skips this one."""
    CORRECTED = "corrected, charged to nobody"
    """A genuine plate's reading that the catalog corrects (the plate's product, the units its weight
    makes), dated where nobody stands: the checkout dead-letters the corrected event as unattributable
    (a dead letter without a source position: found by its event id); the lander lands the corrected
    reading."""
    HELD_APART = "held apart"
    """A genuine device's message dated a day ahead of its stream: the checkout holds it apart (it
    releases nothing early); the lander lands a frame under its own date (a heartbeat never lands)."""


class Place(StrEnum):
    BEFORE = "before the day"
    MIDDAY = "mid-day"
    END = "at the end"


@dataclass(frozen=True)
class HostileMessage:
    kind: str  # the class of hostile input (a row of the probe's table)
    variant: str  # how this one is made
    item: int  # the item of issue #25 that measured it
    topic: str
    before: int  # sent just before the day's event of this index (len(events): after all of them)
    key: bytes
    value: bytes | None
    headers: Headers
    fate: Fate
    field: str = ""  # its dead letters' error_field
    reason: str = ""  # a fragment of its dead letters' reason
    event_id: str | None = None


@dataclass(frozen=True)
class SentHostile:
    message: HostileMessage
    partition: int
    offset: int
    place: Place


def place_of(message: HostileMessage, events: int) -> Place:
    if message.before == 0:
        return Place.BEFORE
    return Place.END if message.before >= events else Place.MIDDAY
