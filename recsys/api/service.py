"""The ad service, apart from HTTP: the live audience of a screen ranked by the model and filtered by
:mod:`rules` (each ad shown becomes an impression), and, for the member app, a member's recommendations
and their disputes of a receipt line (:mod:`disputes`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from recsys import RecsysError
from recsys.api.context import Audience, LiveContext, Viewer, declared_age
from recsys.api.disputes import DisputeSink, ReceiptsUnavailableError, dispute_of, read_receipt
from recsys.api.impressions import ImpressionSink, creative_id, impressions_of
from recsys.api.keys import Screen
from recsys.api.metrics import Metrics
from recsys.api.published import Published
from recsys.api.ranking import rank_for
from recsys.api.rules import RepeatGuard, Shelves, choose_ads
from recsys.api.schemas import (
    AdOut,
    AudienceOut,
    DisputeFiled,
    DisputeIn,
    RecommendationOut,
    ScreenAds,
    ShopperRecommendations,
)
from recsys.artifact import ServedModel
from walkout.catalog import Catalog


class NotReadyError(RecsysError):
    """No model or published warehouse is loaded yet."""


class UnknownIdError(RecsysError):
    """No screen or member of the catalog has this id."""


@dataclass
class AdService:
    """Everything a request needs; built once per app."""

    catalog: Catalog
    screens: dict[str, Screen]
    published: Published
    context: LiveContext
    impressions: ImpressionSink
    disputes: DisputeSink
    repeats: RepeatGuard
    metrics: Metrics
    clock: Callable[[], datetime]

    def ready(self) -> tuple[ServedModel, Shelves]:
        model, shelves = self.published.model, self.published.shelves
        if model is None or shelves is None:
            raise NotReadyError("not ready: no recommendation model or published warehouse loaded yet")
        return model, shelves

    def screen(self, screen_id: str) -> Screen:
        screen = self.screens.get(screen_id)
        if screen is None:
            raise UnknownIdError(f"unknown screen {screen_id!r}")
        return screen

    def ads_for(self, screen: Screen, count: int) -> ScreenAds:
        model, shelves = self.ready()
        zone_id = screen.screen.zone_id
        audience = self.context.audience(screen.store.store_id, zone_id)
        ranked = rank_for(model, audience)
        now = self.clock()
        choices = choose_ads(
            ranked,
            screen=screen,
            audience=audience,
            catalog=self.catalog,
            shelves=shelves,
            recently_shown=self.repeats.recent(screen.screen_id, now.timestamp()),
            at=now,
            count=count,
        )
        self.repeats.remember(screen.screen_id, [c.product.product_id for c in choices], now.timestamp())
        impressions = impressions_of(screen, audience, ranked.segment, model.version, choices, now)
        self.impressions.publish(impressions)
        self.metrics.impressions.inc(len(impressions))
        return ScreenAds(
            screen_id=screen.screen_id,
            store_id=screen.store.store_id,
            zone_id=zone_id,
            model_version=model.version,
            audience=AudienceOut(
                people=len(audience.viewers),
                members=len(audience.shopper_ids),
                segment=ranked.segment,
                adults_only=audience.adults_only,
            ),
            ads=[
                AdOut(
                    product_id=choice.product.product_id,
                    name=choice.product.name,
                    brand=choice.product.brand,
                    category=choice.product.category,
                    price_krw=choice.product.price_krw,
                    creative_id=creative_id(choice.product),
                    reason=choice.reason,
                    impression_id=impression.event_id,
                )
                for choice, impression in zip(choices, impressions, strict=True)
            ],
        )

    def recommendations_for(self, shopper_id: str, count: int) -> ShopperRecommendations:
        model, _ = self.ready()
        member = self.catalog.members.get(shopper_id)
        if member is None:
            raise UnknownIdError(f"unknown member {shopper_id!r}")
        viewer = Viewer(shopper_id, member.declared_age_band, member.declared_gender, declared_age(member))
        audience = Audience((viewer,))
        ranked = rank_for(model, audience)
        picks = [
            RecommendationOut(
                product_id=product.product_id,
                name=product.name,
                category=product.category,
                price_krw=product.price_krw,
                reason=reason,
            )
            for product_id, reason in zip(ranked.product_ids, ranked.reasons, strict=True)
            if (product := self.catalog.products.get(product_id)) is not None
            and (audience.adults_only or not product.age_restricted)
        ]
        return ShopperRecommendations(
            shopper_id=shopper_id, model_version=model.version, recommendations=picks[:count]
        )

    def file_dispute(self, shopper_id: str, claim: DisputeIn) -> DisputeFiled:
        """File a member's dispute of a line of their receipt; it opens the review case ``dispute:<id>``."""
        try:
            receipt = read_receipt(self.published.warehouse, claim.purchase_id)
        except ReceiptsUnavailableError as error:
            raise NotReadyError(str(error)) from None
        dispute = dispute_of(claim, shopper_id, receipt, self.catalog, self.clock())
        self.disputes.file(dispute)
        return DisputeFiled(
            dispute_id=dispute.event_id,
            case_id=f"dispute:{dispute.event_id}",
            purchase_id=dispute.purchase_id,
            product_id=dispute.product_id,
            kind=dispute.kind,
            quantity=dispute.quantity,
            filed_at=dispute.ts,
        )
