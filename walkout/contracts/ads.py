"""What the in-store ad screens report: each ad shown, to whom, and what came of it."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from walkout.contracts.event import Event, Identifier, UtcTimestamp


class AdImpression(Event):
    """What an in-store screen showed, to whom, and whether it was clicked or scanned."""

    TOPIC: ClassVar[str] = "ad.impressions"
    event_type: Literal["ad.impression"] = "ad.impression"
    ts: UtcTimestamp = Field(description="When the ad was shown (UTC).")
    screen_id: Identifier = Field(description="Ad screen.")
    zone_id: Identifier = Field(description="Zone of the screen.")
    product_id: Identifier = Field(description="Advertised product.")
    creative_id: Identifier = Field(description="Creative shown.")
    reason: Identifier = Field(description="Why this ad was chosen.")
    shopper_ids: tuple[Identifier, ...] = Field(
        (), max_length=4, description="Shoppers in front of the screen, if known."
    )
    segment: Identifier | None = Field(None, description="Targeted segment, if any.")
    model_version: Identifier | None = Field(None, description="Recommendation model version.")
    clicked: bool = Field(False, description="The ad was clicked.")
    scanned: bool = Field(False, description="The ad's QR code was scanned.")
