"""What a review is about and what it decides: a shopper's dispute of a receipt line, and an operator's
correction of a receipt, each as a new event.

A shopper who disputes a line of their receipt in the member app files a :class:`ReceiptDispute`; the
warehouse makes it a review case of its own. A charged receipt is never edited: each decision on a review
case is published as one or more :class:`ReceiptAdjustment` events that the warehouse nets against the
receipts (gross, adjustments, net). A line moved to another visit is two adjustments, one out of each
visit's charge. A take charged to nobody that no visit took (someone not admitted, a plate's false alarm)
is written off: an adjustment of no visit that changes no charge and only closes its case.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from walkout.contracts.event import (
    Event,
    EventId,
    Identifier,
    Krw,
    KrwChange,
    PayerId,
    Quantity,
    QuantityChange,
    UtcTimestamp,
    VisitId,
    make_event_id,
)

MAX_DECISIONS = 1000  # decisions on one case: far more than a person makes, bounded like every field
MAX_NOTE_CHARS = 500  # a shopper's words on a dispute


class AdjustmentKind(StrEnum):
    CONFIRM = "confirm"
    MOVE_LINE_OUT = "move_line_out"
    MOVE_LINE_IN = "move_line_in"
    REMOVE_LINE = "remove_line"
    CHANGE_QUANTITY = "change_quantity"
    ADD_LINE = "add_line"
    WRITE_OFF = "write_off"  # a take charged to nobody stays charged to nobody: a loss, no visit's charge


# The sign each kind's unit changes must have (+1 added, -1 taken off, 0 either); confirm and write_off
# have no lines.
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
        description="confirm, remove_line, change_quantity, add_line, one half of a move "
        "(move_line_out, move_line_in), or write_off (a take charged to nobody stays so)."
    )
    visit_id: VisitId | None = Field(description="Visit whose charge changes; null only for a write_off.")
    purchase_id: EventId | None = Field(
        description="Receipt adjusted (its event id); null for a line moved into a visit that was charged "
        "nothing, and for a write_off."
    )
    shopper_id: PayerId | None = Field(
        description="Pseudonymous member id of the visit's payer; null only for a write_off."
    )
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
        if (self.kind is AdjustmentKind.WRITE_OFF) != (self.visit_id is None):
            raise ValueError("a write_off, and only a write_off, names no visit")
        if self.visit_id is None and (self.shopper_id is not None or self.purchase_id is not None):
            raise ValueError("a write_off names no visit, so no shopper and no receipt")
        if self.visit_id is not None and self.shopper_id is None:
            raise ValueError("shopper_id is required when a visit's charge changes")
        if self.kind in (AdjustmentKind.CONFIRM, AdjustmentKind.WRITE_OFF):
            if self.lines:
                raise ValueError(f"a {self.kind} changes no line")
            return self
        if not self.lines:
            raise ValueError(f"{self.kind} needs at least one line")
        sign = _SIGNS[self.kind]
        if sign and any(line.quantity_delta * sign < 0 for line in self.lines):
            raise ValueError(f"{self.kind} lines must {'add' if sign > 0 else 'take off'} units")
        return self


class DisputeKind(StrEnum):
    NOT_TAKEN = "not_taken"  # charged for units the shopper did not take
    MISSING = "missing"  # took units the receipt does not charge
    WRONG_QUANTITY = "wrong_quantity"  # the line charges a different number of units than taken


def _plain_note(note: str) -> str:
    """Free text as the shopper wrote it, without surrounding blanks or control characters (a newline or
    a tab inside is kept)."""
    note = note.strip()
    if any((ord(char) < 32 and char not in "\n\t") or ord(char) == 127 for char in note):
        raise ValueError("note must not contain control characters")
    return note


DisputeNote = Annotated[str, Field(max_length=MAX_NOTE_CHARS), AfterValidator(_plain_note)]


class ReceiptDispute(Event):
    """A shopper's dispute of one line of their receipt, filed from the member app (key = store). It
    opens a review case of its own (``dispute:<event_id>``), decided like any other by receipt
    adjustments. The same dispute filed again is the same event: ``event_id`` comes from the receipt,
    the product and the kind (:func:`dispute_id`)."""

    TOPIC: ClassVar[str] = "receipt.disputes"
    event_type: Literal["receipt.dispute"] = "receipt.dispute"
    ts: UtcTimestamp = Field(description="When the shopper filed the dispute (UTC).")
    purchase_id: EventId = Field(description="Receipt disputed (its event id).")
    visit_id: VisitId
    shopper_id: PayerId
    product_id: Identifier = Field(description="Product of the line disputed (or missing from the receipt).")
    kind: DisputeKind = Field(
        description="not_taken (charged, not taken), missing (taken, not charged) or wrong_quantity."
    )
    quantity: Quantity = Field(
        description="Units in question: not taken (not_taken), taken but not charged (missing), or taken "
        "in all (wrong_quantity), as the shopper says."
    )
    note: DisputeNote = Field(
        "", description="The shopper's own words (at most 500 characters; may be blank)."
    )

    @model_validator(mode="after")
    def _id_is_the_disputes(self) -> Self:
        if self.event_id != dispute_id(self.purchase_id, self.product_id, self.kind):
            raise ValueError("event_id must be dispute_id(purchase_id, product_id, kind)")
        return self


def dispute_id(purchase_id: str, product_id: str, kind: DisputeKind) -> str:
    """The event id of a shopper's dispute: one per receipt, product and kind, however often it is filed."""
    return make_event_id("dispute", purchase_id, product_id, kind.value)
