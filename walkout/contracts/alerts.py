"""Loss-prevention alerts: something in the store that an operator should look at, raised live.

An :class:`Alert` says what kind of trouble it is, how bad, when and where, who (pseudonymous track ids,
the visit if any) and the evidence in words and numbers: the goods at stake as lines of product, units and
unit price, and their value. It is raised once per act: its ``event_id`` comes from the kind, the store
and the evidence's own ids (:func:`alert_id`), so an alert sent again is the same alert.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from walkout.contracts.event import (
    Event,
    Identifier,
    Krw,
    Metres,
    UtcTimestamp,
    VisitId,
    make_event_id,
)

MAX_ALERT_UNITS = 1000  # units of one product an alert names: far more than one person carries
MAX_ALERT_TRACKS = 20  # track ids an alert names: a group and those who came in behind it
MAX_EVIDENCE_CHARS = 300  # the evidence in words: a sentence or two


class AlertKind(StrEnum):
    TAILGATING = "tailgating"  # came in behind a scanned group, admitted by no scan
    UNPAID_EXIT = "unpaid_exit"  # left carrying goods no visit was charged for
    SWEEP = "sweep"  # many units of one product, or of a high-loss category, at once
    RESTRICTED_ITEM = "restricted_item"  # alcohol or tobacco to a possible minor, or out of hours
    LOITERING = "loitering"  # far longer in a zone, or in the store, than shoppers stay
    WRONG_PLACE = "wrong_place"  # in a staff-only area, or behind the gate's exit lane


class AlertSeverity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class AlertItem(BaseModel):
    """Goods at stake: one product, its units and its catalog price."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    product_id: Identifier
    quantity: int = Field(ge=1, le=MAX_ALERT_UNITS, description="Units at stake.")
    unit_price_krw: Krw = Field(description="The product's catalog price (KRW).")


class Alert(Event):
    """Something an operator should look at (key = store). Raised once per act: the same act sent
    again has the same ``event_id`` (:func:`alert_id`)."""

    TOPIC: ClassVar[str] = "alerts"
    event_type: Literal["alert"] = "alert"
    ts: UtcTimestamp = Field(
        description="When the evidence was complete (UTC): the act, not the alert's sending."
    )
    kind: AlertKind = Field(
        description="tailgating, unpaid_exit, sweep, restricted_item, loitering or wrong_place."
    )
    severity: AlertSeverity = Field(description="low, medium or high.")
    zone_id: Identifier | None = Field(None, description="Zone where it happened, if known.")
    x_m: Metres | None = Field(None, description="Floor position (m, floor plan's x), if known.")
    y_m: Metres | None = Field(None, description="Floor position (m, floor plan's y), if known.")
    gate_id: Identifier | None = Field(None, description="Gate lane involved, if any.")
    track_ids: tuple[Identifier, ...] = Field(
        min_length=1, max_length=MAX_ALERT_TRACKS, description="Pseudonymous camera track ids of who did it."
    )
    visit_id: VisitId | None = Field(None, description="Visit involved (e.g. the group tailgated), if any.")
    evidence: str = Field(
        min_length=1, max_length=MAX_EVIDENCE_CHARS, description="What was seen, in a few words."
    )
    items: tuple[AlertItem, ...] = Field(
        (), max_length=200, description="Goods at stake, one line per product; none when no goods are."
    )
    value_krw: Krw = Field(0, description="Value of the goods at stake (KRW): the sum of units x price.")

    @model_validator(mode="after")
    def _numbers_agree(self) -> Self:
        if (self.x_m is None) != (self.y_m is None):
            raise ValueError("x_m and y_m are given together or not at all")
        if len({item.product_id for item in self.items}) != len(self.items):
            raise ValueError("items must name each product once")
        if self.value_krw != sum(item.quantity * item.unit_price_krw for item in self.items):
            raise ValueError("value_krw must equal the sum of the items' quantity x unit_price_krw")
        return self


def alert_id(kind: AlertKind, store_id: str, *evidence_ids: str) -> str:
    """The event id of an alert: one per kind, store and the ids of its evidence (the shelf events of an
    unpaid exit, the track of a tailgater), however often it is raised."""
    return make_event_id("alert", kind.value, store_id, *evidence_ids)
