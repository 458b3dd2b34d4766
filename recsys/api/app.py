"""The ad API (FastAPI): screens pull ads for whoever stands in front of them; the member app pulls its
shopper's recommendations.

* ``GET /v1/screens/{screen_id}/ads?n=3`` — ``Authorization: Bearer <screen key>``: the live audience
  of the screen's zone, ranked by the model (cold start by segment), filtered by :mod:`rules`; each ad
  shown is published to ``ad.impressions``;
* ``GET /v1/shoppers/{shopper_id}/recommendations?k=10`` — ``Authorization: Bearer <member app key>``;
* ``POST /v1/shoppers/{shopper_id}/disputes`` — member app key: a shopper disputes a line of their
  receipt (:mod:`disputes`); 202 once Kafka acknowledged it on ``receipt.disputes``, 503 while it cannot;
* ``GET /healthz``: 503 with the problems until a model and the published warehouse are loaded, and
  whenever the live feed is not following Kafka; ``GET /metrics`` (Prometheus text: requests, latency,
  impressions, model version, live events applied and skipped), ``/docs`` (OpenAPI).

401 for a missing or wrong key, whatever the id (so screen ids cannot be probed); 404 for an unknown
screen (correctly keyed) or member, or a receipt not the member's; 422 for malformed parameters or a
dispute the receipt cannot take; 503 until the model and shelves load, or while Kafka cannot take a dispute.

This module assembles the app (the routers of :mod:`routes`, whose auth and shared objects come from
:mod:`deps`; the :mod:`service`; the :mod:`published` reload thread; the :mod:`metrics` middleware;
the :mod:`impressions` sink) and runs it with uvicorn.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline

from recsys import RecsysError
from recsys.api.context import LiveContext
from recsys.api.disputes import (
    DisputeNotFiledError,
    DisputeRefusedError,
    DisputeSink,
    KafkaDisputes,
    UnknownReceiptError,
)
from recsys.api.feed import follow_live_topics
from recsys.api.impressions import ImpressionSink, KafkaImpressions
from recsys.api.keys import master_key, screens_of
from recsys.api.metrics import Metrics, RequestMetrics
from recsys.api.published import Published
from recsys.api.routes import monitoring, screens, shoppers
from recsys.api.rules import REPEAT_WINDOW_S, RepeatGuard
from recsys.api.service import AdService, NotReadyError, UnknownIdError
from walkout.catalog import load_catalog
from walkout.live import LiveFeed
from walkout.settings import Settings

STATUS_OF_REFUSAL: dict[type[Exception], int] = {
    NotReadyError: 503,
    UnknownIdError: 404,
    UnknownReceiptError: 404,
    DisputeRefusedError: 422,
    DisputeNotFiledError: 503,
}


async def answer_refusal(_: Request, error: Exception) -> JSONResponse:
    """The service's refusals, in the body :class:`fastapi.HTTPException` gives."""
    return JSONResponse({"detail": str(error)}, status_code=STATUS_OF_REFUSAL[type(error)])


def create_app(
    settings: Settings,
    context: LiveContext,
    impressions: ImpressionSink | None = None,
    *,
    disputes: DisputeSink | None = None,
    feed: LiveFeed | None = None,
    repeat_window_s: float = REPEAT_WINDOW_S,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    """The app for this data directory; without ``impressions`` or ``disputes`` they go to Kafka,
    ``clock`` is the time of the store hours, the repeat window and disputes filed (tests set it)."""
    master = master_key(settings)  # an unset key is refused before Kafka or the model is touched
    metrics = Metrics()
    sink = impressions or KafkaImpressions(settings, metrics.impressions_failed)
    dispute_sink = disputes or KafkaDisputes(settings)
    service = AdService(
        catalog=context.catalog,
        screens=screens_of(context.catalog),
        published=Published(settings.paths.recsys_dir, settings.paths.published_warehouse_file, metrics),
        context=context,
        impressions=sink,
        disputes=dispute_sink,
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
        if isinstance(dispute_sink, KafkaDisputes):
            dispute_sink.close()

    # The docs' Swagger UI and ReDoc come from the package, not a CDN: a store's network may be closed.
    app = FastAPIOffline(
        title="walkout ad API",
        summary="Ads for in-store screens; recommendations and receipt disputes for the member app.",
        version="1",
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.feed = feed
    app.state.master_key = master
    app.add_middleware(RequestMetrics, metrics=metrics)
    for refusal in STATUS_OF_REFUSAL:
        app.add_exception_handler(refusal, answer_refusal)
    for routes in (screens, shoppers, monitoring):
        app.include_router(routes.router)
    return app


@contextmanager
def running_api(
    settings: Settings, host: str = "127.0.0.1", port: int = 0
) -> Iterator[tuple[str, LiveContext]]:
    """The API serving from a background thread, with its live feed: yields its URL and live context."""
    context = LiveContext(load_catalog())
    app = create_app(settings, context, feed=follow_live_topics(settings, context))
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
    app = create_app(settings, context, feed=follow_live_topics(settings, context))
    uvicorn.run(app, host=host, port=port, log_level="warning")
