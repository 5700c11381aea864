"""`/metrics`: Prometheus text with request counts and latencies by route template and status."""

from __future__ import annotations

import tempfile
import threading
import uuid
from pathlib import Path

import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families

from mloop.server.config import ServerConfig
from mloop.server.runner import BindAddress, serve
from tests.server.conftest import LiveServer, stop_serving_here, wait_ready


def _samples(live: LiveServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = live.client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _labels(method: str, route: str, status: str) -> tuple[tuple[str, str], ...]:
    return (("method", method), ("route", route), ("status", status))


def test_requests_are_counted_by_route_template_and_status(live_server: LiveServer) -> None:
    http = live_server.client
    for _ in range(3):
        http.get(f"/api/v1/runs/{uuid.uuid4().hex}")
    http.get("/api/v1/experiments/0")
    http.get("/no/such/route")
    samples = _samples(live_server)
    runs_404 = _labels("GET", "/api/v1/runs/{run_id}", "404")
    assert samples[("mloop_http_requests_total", runs_404)] == 3
    assert samples[("mloop_http_request_duration_seconds_count", runs_404)] == 3
    exp_ok = _labels("GET", "/api/v1/experiments/{experiment_id}", "200")
    assert samples[("mloop_http_requests_total", exp_ok)] == 1
    assert samples[("mloop_http_request_duration_seconds_sum", exp_ok)] > 0
    assert samples[("mloop_http_requests_total", _labels("GET", "<unmatched>", "404"))] == 1


def test_each_app_counts_only_its_own_requests(live_server: LiveServer) -> None:
    from mloop.server.app import create_app

    other = create_app(live_server.app.state.config)
    assert other.state.metrics.registry is not live_server.app.state.metrics.registry
    live_server.client.get("/health")
    assert _samples(live_server)[("mloop_http_requests_total", _labels("GET", "/health", "200"))]
    other.state.store.close()


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    # A new connection per scrape: with several workers, any of them may answer it.
    answer = httpx.get(f"{url}/metrics")
    assert answer.status_code == 200
    found = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_with_two_workers_every_scrape_counts_the_requests_of_both(
    server_config: ServerConfig,
) -> None:
    requests = 40
    scrapes: list[dict[tuple[str, tuple[tuple[str, str], ...]], float]] = []
    workers_seen: set[int] = set()

    def ready(bound: BindAddress) -> None:
        def drive() -> None:
            url = f"http://127.0.0.1:{bound.port}"
            try:
                wait_ready(url)
                # New connections: the kernel spreads them over both workers' sockets.
                for _ in range(requests):
                    answer = httpx.get(f"{url}/api/v1/experiments/0")
                    assert answer.status_code == 200
                children = {c.pid for c in psutil.Process().children()}
                for directory in Path(tempfile.gettempdir()).glob("mloop-metrics-*"):
                    workers_seen.update(int(s.stem) for s in directory.glob("*.sock"))
                workers_seen.intersection_update(children)
                scrapes.extend(_scrape(url) for _ in range(8))
            finally:
                stop_serving_here()

        threading.Thread(target=drive, daemon=True).start()

    serve(server_config, BindAddress("127.0.0.1", 0), workers=2, on_ready=ready)
    assert len(scrapes) == 8
    answered = _labels("GET", "/api/v1/experiments/{experiment_id}", "200")
    for samples in scrapes:
        assert samples[("mloop_http_requests_total", answered)] == requests
        assert samples[("mloop_http_request_duration_seconds_count", answered)] == requests
    assert len(workers_seen) == 2  # both workers share their counts


def test_a_worker_that_cannot_meet_its_peers_still_serves_its_own_counts(tmp_path: Path) -> None:
    from mloop.server.metrics import RequestMetrics

    metrics = RequestMetrics()
    metrics.join_peers(str(tmp_path / ("x" * 120)))  # no such folder, and too long a socket path
    assert metrics.peers is None
    metrics.observe("GET", "/health", 200, 0.001)
    assert b'mloop_http_requests_total{method="GET",route="/health",status="200"} 1.0' in (
        metrics.exposition()
    )
