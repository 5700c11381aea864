"""Prometheus metrics of the server: request counts and latencies by route template and status.

Each application has its own `CollectorRegistry`, so two apps in one process (tests, several
servers) never mix their counts. With several workers each process counts its own requests,
and a scrape answers with the sum over the workers (`metrics_peers`).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mloop.server.metrics_peers import WorkerMetrics

# Loopback requests take well under a millisecond; searches and uploads take seconds.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
UNMATCHED = "<unmatched>"


class RequestMetrics(WorkerMetrics):
    """The counters of one application."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = Counter(
            "mloop_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "mloop_http_request_duration_seconds",
            "Time from receiving a request to sending the end of its answer.",
            ("method", "route", "status"),
            buckets=_BUCKETS,
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)


class MetricsMiddleware:
    """Times every HTTP request and labels it with the template of the route that served it.

    A pure ASGI middleware (no per-request task or body copy) so it costs microseconds.
    """

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            self.metrics.observe(
                scope["method"], _route_template(scope), status, time.perf_counter() - start
            )


def _route_template(scope: Scope) -> str:
    """The full template of the route that served a request, e.g. `/api/v1/runs/{run_id}`.

    Templates, not paths, keep the label set small. A route of an included router knows only
    its own part of the template, so the prefix is taken from the real path.
    """
    route: Any = scope.get("route")
    template = getattr(route, "path_format", None)
    if not isinstance(template, str):
        return UNMATCHED
    path: str = scope.get("path", "")
    try:
        rendered = template.format(**scope.get("path_params", {}))
    except (KeyError, IndexError, ValueError):
        return template
    if rendered and path.endswith(rendered):
        return path[: len(path) - len(rendered)] + template
    return template


def install_metrics(app: FastAPI) -> RequestMetrics:
    """Count requests of `app` and serve them as Prometheus text at `/metrics`."""
    metrics = RequestMetrics()
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    # Prometheus' format, not part of the JSON API: left out of the OpenAPI schema.
    @app.get("/metrics", response_class=Response, include_in_schema=False)
    def prometheus_metrics(request: Request) -> Response:
        """Request counts and latencies in the Prometheus text format."""
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    app.state.metrics = metrics
    return metrics
