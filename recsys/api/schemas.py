"""What the ad API answers, as the OpenAPI schema shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from walkout.contracts import MAX_QUANTITY, DisputeKind, DisputeNote, EventId

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$"
"""What a screen or shopper id in a path may look like (anything else is a 422)."""


class Health(BaseModel):
    status: Literal["ok", "not ready"]
    problems: list[str]
    model_version: str | None
    live_events: int
    live_events_skipped: int


class AudienceOut(BaseModel):
    people: int
    members: int
    segment: str | None
    adults_only: bool


class AdOut(BaseModel):
    product_id: str
    name: str
    brand: str
    category: str
    price_krw: int
    creative_id: str
    reason: str
    impression_id: str


class ScreenAds(BaseModel):
    screen_id: str
    store_id: str
    zone_id: str
    model_version: str
    audience: AudienceOut
    ads: list[AdOut]


class RecommendationOut(BaseModel):
    product_id: str
    name: str
    category: str
    price_krw: int
    reason: str


class ShopperRecommendations(BaseModel):
    shopper_id: str
    model_version: str
    recommendations: list[RecommendationOut]


class DisputeIn(BaseModel):
    """A shopper's dispute of one line of their receipt, as the member app sends it."""

    model_config = ConfigDict(extra="forbid")

    purchase_id: EventId = Field(description="The receipt (its id on the shopper's receipt).")
    product_id: str = Field(pattern=ID_PATTERN, description="The product of the line, e.g. P0001.")
    kind: DisputeKind = Field(
        description="not_taken (charged for something not taken), missing (took something not charged) "
        "or wrong_quantity."
    )
    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)] | None = Field(
        None,
        description="Units in question: not taken (default: every unit charged), taken but not charged "
        "(default 1), or taken in all (required for wrong_quantity).",
    )
    note: DisputeNote = Field("", description="The shopper's own words, at most 500 characters.")


class DisputeFiled(BaseModel):
    """A dispute filed: the review case it opens is ``case_id``."""

    dispute_id: str
    case_id: str
    purchase_id: str
    product_id: str
    kind: DisputeKind
    quantity: int
    filed_at: datetime
