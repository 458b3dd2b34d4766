"""The checkout's events: visits, their dwell in each zone, the live cart, the receipt charged and who
took what."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from walkout.contracts.edge import ShelfAction
from walkout.contracts.event import (
    Confidence,
    Event,
    EventId,
    GroupSize,
    Identifier,
    Krw,
    PayerId,
    Quantity,
    Seconds,
    UtcTimestamp,
    VisitId,
)
from walkout.vocabulary import AgeBand, DemographicSource, Gender


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
    calibration_version: Identifier | None = Field(
        None,
        exclude_if=lambda version: version is None,  # absent, not null: a receipt without one is as before
        description="The calibration of line confidence whose threshold decided the review flag; absent "
        "when the checkout had none and flagged by its own review_below.",
    )

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


class TakeCandidate(BaseModel):
    """Someone the checkout weighed as the taker of a shelf event, as they stood at the plate then: the
    evidence an operator reads when the take is contested (no frame is ever stored)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    visit_id: VisitId | None = Field(
        description="Their visit when the plate settled; null for someone the gate did not admit."
    )
    likelihood: Confidence = Field(description="Their share of the likelihood among the candidates.")
    distance_m: Annotated[float, Field(ge=0.0, le=50.0)] = Field(
        description="Their mean position's distance from the plate's reach point while a hand was on it."
    )
    stood_s: Seconds | None = Field(
        description="How long they had stood at the plate before the weight settled (at most the look "
        "back); null if not seen before it."
    )
    moved_on_s: Seconds | None = Field(
        description="How soon after it they walked away; null if they had not within the look ahead."
    )
    lost_at_plate: bool = Field(description="Whether the tracker lost them at the plate right after.")


class Attribution(Event):
    """Who took from a plate, or put back on one, as the checkout charged it: one per shelf event that
    reached a visit, sent when the visit closes (id swaps undone by then). A shelf event charged to
    nobody is a dead letter instead. Readers that ask "who took it?" read this, so the warehouse and
    the recommender agree with the receipts."""

    TOPIC: ClassVar[str] = "attributions"
    event_type: Literal["attribution"] = "attribution"
    ts: UtcTimestamp = Field(description="When the plate settled: the shelf event's time (UTC).")
    shelf_event_id: EventId = Field(description="The shelf event attributed.")
    visit_id: VisitId
    shopper_id: PayerId
    plate_id: Identifier = Field(description="Weight plate of the shelf event.")
    action: ShelfAction = Field(description="pick or put_back.")
    product_id: Identifier = Field(
        description="Product taken or put back: the plate's, or for a put-back on another product's "
        "plate, the carried product its weight matched."
    )
    quantity: Quantity = Field(description="Units taken or put back.")
    confidence: Confidence = Field(
        description="How sure the checkout was of this take, as its receipt line counts it: the taker's "
        "share of the likelihood against people of other visits, lowered by an unsure plate."
    )
    candidates: tuple[TakeCandidate, ...] = Field(
        (),
        max_length=8,
        description="Whom the checkout weighed, likeliest first, as they stood when the plate settled.",
    )
    swaps_undone: Annotated[int, Field(ge=0, le=1000)] = Field(
        0, description="How many times the take moved to another person when an id swap was undone."
    )
