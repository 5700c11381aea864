"""Prometheus metrics of the inference server, per endpoint and model version.

Labelled children are looked up once and kept in dicts, so counting a request costs two
dictionary hits and two increments. Each worker process counts its own requests; with several
workers a scrape answers with the sum over all of them (`mloop.server.metrics_peers`, joined by
the runner through `app.state.metrics`).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from mloop.server.metrics_peers import WorkerMetrics

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Inference on loopback takes from ~100 us to seconds for big batches.
_LATENCY_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    10.0,
)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class InferenceMetrics(WorkerMetrics):
    """The counters of one inference app."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = Counter(
            "mloop_inference_requests",
            "Inference requests answered, by endpoint, model, version and status.",
            ("endpoint", "model", "version", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "mloop_inference_request_duration_seconds",
            "Time from a request's first byte to its answer, by endpoint, model and version.",
            ("endpoint", "model", "version"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_rows = Histogram(
            "mloop_inference_batch_rows",
            "Rows per model call after merging concurrent requests.",
            ("model", "version"),
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.batch_requests = Histogram(
            "mloop_inference_batch_requests",
            "Requests merged into one model call.",
            ("model", "version"),
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.model_latency = Histogram(
            "mloop_inference_model_duration_seconds",
            "Time of one model call (a batch).",
            ("model", "version"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.shadow = Counter(
            "mloop_inference_shadow_rows",
            "Rows answered by a shadow version, and whether they matched the live answer.",
            ("model", "version", "shadow_version", "agreed"),
            registry=self.registry,
        )
        self.swaps = Gauge(
            "mloop_inference_model_loads",
            "Model versions loaded since the server started (alias moves and split changes).",
            registry=self.registry,
        )
        self.log_dropped = Gauge(
            "mloop_inference_prediction_log_dropped_rows",
            "Prediction-log rows dropped because the writer fell behind.",
            registry=self.registry,
        )
        self._request_children: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}
        self._batch_children: dict[tuple[str, str], tuple[Any, Any, Any]] = {}

    def observe_request(
        self, endpoint: str, model: str, version: str, status: int, seconds: float
    ) -> None:
        """Count one answered request."""
        key = (endpoint, model, version, status)
        children = self._request_children.get(key)
        if children is None:
            children = (
                self.requests.labels(endpoint, model, version, str(status)),
                self.latency.labels(endpoint, model, version),
            )
            self._request_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def batch_hook(self, model: str, version: str) -> Any:
        """A batcher hook counting the batches of one model version."""
        key = (model, version)
        children = self._batch_children.get(key)
        if children is None:
            children = (
                self.batch_requests.labels(model, version),
                self.batch_rows.labels(model, version),
                self.model_latency.labels(model, version),
            )
            self._batch_children[key] = children
        requests, rows, latency = children

        def hook(count: int, size: int, seconds: float) -> None:
            requests.observe(count)
            rows.observe(size)
            latency.observe(seconds)

        return hook
