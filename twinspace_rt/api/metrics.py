"""Prometheus metrics for HTTP: requests, latency and errors by code."""

from __future__ import annotations

import time
from collections.abc import Awaitable

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "twinspace_http_requests",
            "HTTP requests answered, by route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "twinspace_http_request_seconds",
            "Time to answer an HTTP request.",
            ["method", "route"],
            registry=registry,
        )
        self.errors = Counter(
            "twinspace_errors",
            "Refusals and failures by error code.",
            ["code"],
            registry=registry,
        )


class MetricsMiddleware:
    """Labels by route template, never the raw path, so ids cannot explode the label set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """Other scopes are handed on, not awaited: a socket's whole life would otherwise hold
        a coroutine of this middleware in memory."""
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            metrics: HttpMetrics = scope["app"].state.http_metrics
            metrics.requests.labels(scope["method"], template, str(status)).inc()
            metrics.latency.labels(scope["method"], template).observe(time.perf_counter() - started)
