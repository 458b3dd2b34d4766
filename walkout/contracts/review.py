"""What the review console decides: an operator's correction of a receipt, as a new event.

A charged receipt is never edited: each decision on a review case is published as one or more
:class:`ReceiptAdjustment` events that the warehouse nets against the receipts (gross, adjustments,
net). A line moved to another visit is two adjustments, one out of each visit's charge.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from walkout.contracts.event import (
    Event,
    EventId,
    Identifier,
    Krw,
    KrwChange,
    PayerId,
    QuantityChange,
    UtcTimestamp,
    VisitId,
)

MAX_DECISIONS = 1000  # decisions on one case: far more than a person makes, bounded like every field


class AdjustmentKind(StrEnum):
    CONFIRM = "confirm"
    MOVE_LINE_OUT = "move_line_out"
    MOVE_LINE_IN = "move_line_in"
    REMOVE_LINE = "remove_line"
    CHANGE_QUANTITY = "change_quantity"
    ADD_LINE = "add_line"


# The sign each kind's unit changes must have (+1 added, -1 taken off, 0 either); confirm has no lines.
_SIGNS: dict[AdjustmentKind, int] = {
    AdjustmentKind.MOVE_LINE_OUT: -1,
    AdjustmentKind.REMOVE_LINE: -1,
    AdjustmentKind.MOVE_LINE_IN: +1,
    AdjustmentKind.ADD_LINE: +1,
    AdjustmentKind.CHANGE_QUANTITY: 0,
}


class AdjustmentLine(BaseModel):
    """One product's change to a charge, at the unit price it is charged (or credited) at."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    product_id: Identifier
    quantity_delta: QuantityChange = Field(description="Units added (+) or taken off (-); never 0.")
    unit_price_krw: Krw
    amount_delta_krw: KrwChange = Field(description="quantity_delta x unit_price_krw.")

    @model_validator(mode="after")
    def _amount_is_price_times_change(self) -> Self:
        if self.quantity_delta == 0:
            raise ValueError("quantity_delta must not be 0: a line that changes nothing is no line")
        if self.amount_delta_krw != self.unit_price_krw * self.quantity_delta:
            raise ValueError("amount_delta_krw must equal unit_price_krw * quantity_delta")
        return self


class ReceiptAdjustment(Event):
    """An operator's decision on one visit's charge (key = store, so one store's decisions stay in
    order). The same decision sent again has the same ``event_id``: derive it from the case, the
    decision's number and its kind."""

    TOPIC: ClassVar[str] = "receipt.adjustments"
    event_type: Literal["receipt.adjustment"] = "receipt.adjustment"
    ts: UtcTimestamp = Field(description="When the operator decided (UTC).")
    case_id: Identifier = Field(description="Review case decided.")
    decision: int = Field(
        ge=1,
        le=MAX_DECISIONS,
        description="The case's nth decision; both halves of a move share it.",
    )
    kind: AdjustmentKind = Field(
        description="confirm, remove_line, change_quantity, add_line, or one half of a move "
        "(move_line_out, move_line_in)."
    )
    visit_id: VisitId
    purchase_id: EventId | None = Field(
        description="Receipt adjusted (its event id); null for a line moved into a visit that was charged "
        "nothing."
    )
    shopper_id: PayerId
    lines: tuple[AdjustmentLine, ...] = Field(
        max_length=200, description="Per product, the units and amount added or taken off; none to confirm."
    )
    amount_delta_krw: KrwChange = Field(description="Sum of the lines' amount_delta_krw (KRW).")
    reason: str = Field(min_length=1, max_length=200, description="Why, in the operator's words.")
    decided_by: Identifier = Field(description="Pseudonymous id of the operator who decided.")

    @model_validator(mode="after")
    def _lines_fit_the_kind(self) -> Self:
        if self.amount_delta_krw != sum(line.amount_delta_krw for line in self.lines):
            raise ValueError("amount_delta_krw must equal the sum of the lines' amount_delta_krw")
        if len({line.product_id for line in self.lines}) != len(self.lines):
            raise ValueError("lines must name each product once")
        if self.kind is AdjustmentKind.CONFIRM:
            if self.lines:
                raise ValueError("a confirmation changes no line")
            return self
        if not self.lines:
            raise ValueError(f"{self.kind} needs at least one line")
        sign = _SIGNS[self.kind]
        if sign and any(line.quantity_delta * sign < 0 for line in self.lines):
            raise ValueError(f"{self.kind} lines must {'add' if sign > 0 else 'take off'} units")
        return self
