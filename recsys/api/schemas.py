"""What the ad API answers, as the OpenAPI schema shows it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

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
