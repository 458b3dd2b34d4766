"""Impressions: each ad a screen shows becomes an ``ad.impressions`` event, sent without waiting."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from kafka.errors import KafkaError
from prometheus_client import Counter

from recsys.api.context import Audience
from recsys.api.keys import Screen
from recsys.api.rules import Choice
from walkout.catalog import Product
from walkout.contracts import AdImpression, make_event_id
from walkout.kafka import make_producer, publish
from walkout.settings import Settings

log = logging.getLogger(__name__)

IMPRESSION_MAX_BLOCK_MS = 1000


class ImpressionSink(Protocol):
    def publish(self, impressions: Sequence[AdImpression]) -> None: ...


class KafkaImpressions:
    """Sends impressions to ``ad.impressions`` without waiting for the broker; counts what failed.

    A request never waits on Kafka for more than :data:`IMPRESSION_MAX_BLOCK_MS`: an impression that
    cannot be queued is counted as failed and the ads are still served.
    """

    def __init__(self, settings: Settings, failed: Counter) -> None:
        self.producer = make_producer(settings, max_block_ms=IMPRESSION_MAX_BLOCK_MS)
        self.failed = failed

    def publish(self, impressions: Sequence[AdImpression]) -> None:
        for impression in impressions:
            try:
                publish(self.producer, impression).add_errback(self._failed)
            except KafkaError as error:
                self._failed(error)

    def _failed(self, error: Exception) -> None:
        self.failed.inc()
        log.warning("an impression did not reach Kafka: %s", error)

    def close(self) -> None:
        self.producer.flush(timeout=10)
        self.producer.close(timeout=10)


def creative_id(product: Product) -> str:
    """One default creative per product, until a creative catalog exists."""
    return f"CR-{product.product_id}"


def impressions_of(
    screen: Screen,
    audience: Audience,
    segment: str | None,
    version: str,
    choices: list[Choice],
    at: datetime,
) -> list[AdImpression]:
    """One impression per ad of one answer; ids differ between answers, even of the same ads."""
    request_id = uuid.uuid4().hex
    return [
        AdImpression(
            event_id=make_event_id("ad.impression", screen.screen_id, request_id, choice.product.product_id),
            store_id=screen.store.store_id,
            ts=at,
            screen_id=screen.screen_id,
            zone_id=screen.screen.zone_id,
            product_id=choice.product.product_id,
            creative_id=creative_id(choice.product),
            reason=choice.reason.value,
            shopper_ids=audience.shopper_ids[:4],
            segment=segment,
            model_version=version,
        )
        for choice in choices
    ]
