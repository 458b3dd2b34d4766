"""The ad API's Prometheus metrics, and the middleware that counts and times every request."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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
            # The route template, not the path: one series per endpoint whatever the ids.
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(route=route, status=str(status)).inc()
            self.metrics.latency.labels(route=route).observe(time.perf_counter() - started)
