"""For the operators' monitoring: whether the API can serve (``/healthz``) and how it has (``/metrics``)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from recsys.api.deps import FeedDep, LiveContextDep, ServiceDep
from recsys.api.schemas import Health

router = APIRouter(tags=["monitoring"])


@router.get("/healthz", responses={503: {"model": Health, "description": "Not ready: see `problems`."}})
def healthz(response: Response, service: ServiceDep, context: LiveContextDep, feed: FeedDep) -> Health:
    """Ready when a model and the published warehouse are loaded and the live feed follows Kafka."""
    model = service.published.model
    live = feed.health() if feed else None
    problems = [
        problem
        for problem in (
            None if model else "no recommendation model loaded yet",
            None if service.published.shelves else "no published warehouse loaded yet",
            live.problem if live else None,
        )
        if problem is not None
    ]
    response.status_code = 503 if problems else 200
    return Health(
        status="not ready" if problems else "ok",
        problems=problems,
        model_version=model.version if model else None,
        live_events=context.events_applied,
        live_events_skipped=live.skipped if live else 0,
    )


@router.get("/metrics", response_class=PlainTextResponse)
def prometheus_metrics(service: ServiceDep, context: LiveContextDep, feed: FeedDep) -> Response:
    """Requests, latency, impressions, the model version and the live feed's events, in the
    Prometheus text exposition format."""
    metrics = service.metrics
    metrics.live_events.set(context.events_applied)
    metrics.live_skipped.set(feed.health().skipped if feed else 0)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
