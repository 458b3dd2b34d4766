"""The ad API (FastAPI): screens pull ads for whoever stands in front of them; the member app pulls its
shopper's recommendations.

* ``GET /v1/screens/{screen_id}/ads?n=3`` — ``Authorization: Bearer <screen key>``: the live audience
  of the screen's zone, ranked by the model (cold start by segment), filtered by :mod:`rules`; each ad
  shown is published to ``ad.impressions``;
* ``GET /v1/shoppers/{shopper_id}/recommendations?k=10`` — ``Authorization: Bearer <member app key>``;
* ``GET /healthz``: 503 with the problems until a model and the published warehouse are loaded, and
  whenever the live feed is not following Kafka; ``GET /metrics`` (Prometheus text: requests, latency,
  impressions, model version, live events applied and skipped), ``/docs`` (OpenAPI).

401 for a missing or wrong key, whatever the id (so screen ids cannot be probed); 404 for an unknown
screen (correctly keyed) or member; 422 for malformed parameters.
A :class:`Published` thread reloads a new model version or a new published warehouse in the
background and swaps it in whole: requests in flight keep the one they started with.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal, Protocol

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Query, Response
from fastapi import Path as PathParameter
from fastapi.responses import PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from kafka.errors import KafkaError
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recsys import RecsysError
from recsys.api.context import Audience, LiveContext, LiveFeed, Viewer, declared_age
from recsys.api.keys import Screen, key_matches, master_key, member_app_key, screen_key, screens_of
from recsys.api.ranking import rank_for
from recsys.api.rules import REPEAT_WINDOW_S, Choice, RepeatGuard, Shelves, choose_ads, load_shelves
from recsys.artifact import ServedModel, artifact_dir, current_version, load_model
from walkout.catalog import Catalog, Product, load_catalog
from walkout.contracts import AdImpression, make_event_id
from walkout.kafka import make_producer, publish
from walkout.settings import Settings

log = logging.getLogger(__name__)

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$"
RELOAD_INTERVAL_S = 2.0
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


class Metrics:
    """The API's Prometheus metrics, in a registry of its own (several apps may live in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ad_api_requests", "Requests by route and status.", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "ad_api_request_seconds",
            "Request latency by route.",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.impressions = Counter("ad_api_impressions", "Impressions published.", registry=self.registry)
        self.impressions_failed = Counter(
            "ad_api_impressions_failed", "Impressions Kafka did not take.", registry=self.registry
        )
        self.model = Gauge(
            "ad_api_model_info", "The model version served (value 1).", ["version"], registry=self.registry
        )
        self.live_events = Gauge("ad_api_live_events", "Live events applied.", registry=self.registry)
        self.live_skipped = Gauge(
            "ad_api_live_events_skipped",
            "Live messages skipped: unreadable, or of a store, zone or plate the catalog lacks.",
            registry=self.registry,
        )


class RequestMetrics:
    """ASGI middleware counting requests by route template and status, and timing them."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(route=route, status=str(status)).inc()
            self.metrics.latency.labels(route=route).observe(time.perf_counter() - started)


class Published:
    """The current model and shelves; a thread swaps in new versions as they are published."""

    def __init__(self, artifacts: Path, warehouse: Path, metrics: Metrics) -> None:
        self.artifacts = artifacts
        self.warehouse = warehouse
        self.metrics = metrics
        self.model: ServedModel | None = None
        self.shelves: Shelves | None = None
        self._warehouse_version: tuple[int, int] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="ad-api-reload", daemon=True)

    def refresh(self) -> None:
        """Load whatever changed since the last look (a no-op when nothing did)."""
        version = current_version(self.artifacts)
        if version is not None and (self.model is None or self.model.version != version):
            model = load_model(self.artifacts, version)
            if self.model is not None:
                self.metrics.model.remove(self.model.version)
            self.model = model
            self.metrics.model.labels(version=version).set(1)
            log.info("serving model %s", version)
        if self.warehouse.is_file():
            stat = self.warehouse.stat()
            if (stat.st_ino, stat.st_mtime_ns) != self._warehouse_version:
                self.shelves = load_shelves(self.warehouse)
                self._warehouse_version = (stat.st_ino, stat.st_mtime_ns)

    def _watch(self, interval_s: float = RELOAD_INTERVAL_S) -> None:
        while not self._stop.wait(interval_s):
            try:
                self.refresh()
            except (RecsysError, OSError) as error:  # keep serving the last good version
                log.warning("keeping the loaded model and shelves: %s", error)

    def start(self) -> None:
        try:
            self.refresh()
        except RecsysError as error:
            log.warning("%s", error)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()


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


def creative_id(product: Product) -> str:
    """One default creative per product, until a creative catalog exists."""
    return f"CR-{product.product_id}"


@dataclass
class AdService:
    """Everything a request needs; built once per app."""

    catalog: Catalog
    screens: dict[str, Screen]
    master: bytes
    published: Published
    context: LiveContext
    impressions: ImpressionSink
    repeats: RepeatGuard
    metrics: Metrics
    clock: Callable[[], datetime]

    def ready(self) -> tuple[ServedModel, Shelves]:
        model, shelves = self.published.model, self.published.shelves
        if model is None or shelves is None:
            raise HTTPException(503, "not ready: no recommendation model or published warehouse loaded yet")
        return model, shelves

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
        impressions = self._impressions(screen, audience, ranked.segment, model.version, choices, now)
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

    def _impressions(
        self,
        screen: Screen,
        audience: Audience,
        segment: str | None,
        version: str,
        choices: list[Choice],
        at: datetime,
    ) -> list[AdImpression]:
        request_id = uuid.uuid4().hex
        return [
            AdImpression(
                event_id=make_event_id(
                    "ad.impression", screen.screen_id, request_id, choice.product.product_id
                ),
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

    def recommendations_for(self, shopper_id: str, count: int) -> ShopperRecommendations:
        model, _ = self.ready()
        member = self.catalog.members.get(shopper_id)
        if member is None:
            raise HTTPException(404, f"unknown member {shopper_id!r}")
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


bearer = HTTPBearer(auto_error=False, description="The screen's key, or the member app's key.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def _presented(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials if credentials is not None else None


def create_app(
    settings: Settings,
    context: LiveContext,
    impressions: ImpressionSink | None = None,
    *,
    feed: LiveFeed | None = None,
    repeat_window_s: float = REPEAT_WINDOW_S,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    """The app for this data directory; without ``impressions`` they go to Kafka, ``clock`` is the time
    of the store hours and the repeat window (tests set it)."""
    master = master_key(settings)  # an unset key is refused before Kafka or the model is touched
    catalog = context.catalog
    metrics = Metrics()
    sink = impressions or KafkaImpressions(settings, metrics.impressions_failed)
    service = AdService(
        catalog=catalog,
        screens=screens_of(catalog),
        master=master,
        published=Published(artifact_dir(settings.data_dir), settings.published_warehouse_path, metrics),
        context=context,
        impressions=sink,
        repeats=RepeatGuard(repeat_window_s),
        metrics=metrics,
        clock=clock,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.published.start()
        if feed is not None:
            feed.start()
        yield
        service.published.stop()
        if feed is not None:
            feed.stop()
        if isinstance(sink, KafkaImpressions):
            sink.close()

    app = FastAPI(
        title="walkout ad API",
        summary="Ads for in-store screens and recommendations for the member app.",
        version="1",
        lifespan=lifespan,
    )
    app.state.service = service

    app.add_middleware(RequestMetrics, metrics=metrics)

    @app.get("/v1/screens/{screen_id}/ads", responses={401: {}, 404: {}, 503: {}})
    def screen_ads(
        screen_id: Annotated[str, PathParameter(pattern=ID_PATTERN, description="e.g. S001-AD1")],
        credentials: Credentials,
        n: Annotated[int, Query(ge=1, le=10, description="How many ads to show.")] = 3,
    ) -> ScreenAds:
        """Ads for whoever stands in front of this screen now, with a reason code each."""
        # Any id has its key, so the key is checked first: without it, every id gets the same 401.
        if not key_matches(screen_key(service.master, screen_id), _presented(credentials)):
            raise HTTPException(401, "missing or wrong screen key", headers=UNAUTHORIZED)
        screen = service.screens.get(screen_id)
        if screen is None:
            raise HTTPException(404, f"unknown screen {screen_id!r}")
        return service.ads_for(screen, n)

    @app.get("/v1/shoppers/{shopper_id}/recommendations", responses={401: {}, 404: {}, 503: {}})
    def shopper_recommendations(
        shopper_id: Annotated[str, PathParameter(pattern=ID_PATTERN, description="e.g. M000001")],
        credentials: Credentials,
        k: Annotated[int, Query(ge=1, le=50, description="How many products.")] = 10,
    ) -> ShopperRecommendations:
        """A member's recommendations for the member app (no store context, adults-only rule applies)."""
        if not key_matches(member_app_key(service.master), _presented(credentials)):
            raise HTTPException(401, "missing or wrong member app key", headers=UNAUTHORIZED)
        return service.recommendations_for(shopper_id, k)

    @app.get("/healthz", responses={503: {"model": Health, "description": "Not ready: see `problems`."}})
    def healthz(response: Response) -> Health:
        """Ready when a model and the published warehouse are loaded and the live feed follows Kafka."""
        model = service.published.model
        problems = [
            problem
            for problem in (
                None if model else "no recommendation model loaded yet",
                None if service.published.shelves else "no published warehouse loaded yet",
                feed.problem() if feed else None,
            )
            if problem is not None
        ]
        response.status_code = 503 if problems else 200
        return Health(
            status="not ready" if problems else "ok",
            problems=problems,
            model_version=model.version if model else None,
            live_events=context.events_applied,
            live_events_skipped=feed.skipped if feed else 0,
        )

    @app.get("/metrics", response_class=PlainTextResponse)
    def prometheus_metrics() -> Response:
        """Requests, latency, impressions, the model version and the live feed's events, in the
        Prometheus text exposition format."""
        metrics.live_events.set(context.events_applied)
        metrics.live_skipped.set(feed.skipped if feed else 0)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


@contextmanager
def running_api(
    settings: Settings, host: str = "127.0.0.1", port: int = 0
) -> Iterator[tuple[str, LiveContext]]:
    """The API serving from a background thread, with its live feed: yields its URL and live context."""
    context = LiveContext(load_catalog())
    app = create_app(settings, context, feed=LiveFeed(settings, context))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="ad-api", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RecsysError(f"the ad API could not start on {host}:{port}")
        time.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}", context
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def serve(settings: Settings, host: str, port: int) -> None:
    """Run the API with uvicorn until Ctrl-C/SIGTERM, following the live topics of Kafka."""
    context = LiveContext(load_catalog())
    app = create_app(settings, context, feed=LiveFeed(settings, context))
    uvicorn.run(app, host=host, port=port, log_level="warning")
