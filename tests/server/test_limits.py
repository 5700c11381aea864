"""Request limits answer 4xx in the one error shape and change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from mloop.server.app import create_app
from mloop.server.config import ServerConfig
from tests.server.conftest import serve_in_thread


@pytest.fixture
def small_server(server_config: ServerConfig) -> Iterator[str]:
    app = create_app(replace(server_config, max_body_bytes=2048))
    url, stop = serve_in_thread(app)
    yield url
    stop()


def _metrics(count: int) -> dict[str, object]:
    return {"metrics": [{"key": "m", "value": 1.5, "step": i} for i in range(count)]}


def test_a_body_over_the_limit_is_413_and_writes_nothing(small_server: str) -> None:
    with httpx.Client(base_url=small_server) as http:
        run_id = http.post("/api/v1/runs", json={"experiment_id": "0", "run_name": "r"}).json()[
            "run_id"
        ]
        answer = http.post(f"/api/v1/runs/{run_id}/batch", json=_metrics(100))
        assert answer.status_code == 413
        error = answer.json()["error"]
        assert error["code"] == "REQUEST_TOO_LARGE"
        assert error["details"]["max_body_bytes"] == 2048
        assert http.get(f"/api/v1/runs/{run_id}").json()["metrics"] == {}
        assert http.post(f"/api/v1/runs/{run_id}/batch", json=_metrics(5)).status_code == 204


def test_a_chunked_body_over_the_limit_is_413(small_server: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(100):
            yield b"x" * 100
        yield b'"}'

    with httpx.Client(base_url=small_server) as http:
        answer = http.post(
            "/api/v1/experiments", content=chunks(), headers={"content-type": "application/json"}
        )
        assert answer.status_code == 413
        assert answer.json()["error"]["code"] == "REQUEST_TOO_LARGE"
        names = [e["name"] for e in http.get("/api/v1/experiments").json()["experiments"]]
        assert names == ["Default"]


def test_malformed_json_is_400(small_server: str) -> None:
    answer = httpx.post(
        f"{small_server}/api/v1/experiments",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "INVALID_INPUT"


def test_nan_in_audit_details_is_400_not_a_storage_failure(small_server: str) -> None:
    answer = httpx.post(
        f"{small_server}/api/v1/audit",
        content=b'{"action": "a", "entity_type": "run", "entity_id": "x", "details": {"v": NaN}}',
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 400
    ok = httpx.post(
        f"{small_server}/api/v1/audit",
        json={"actor": "ann", "action": "a", "entity_type": "run", "entity_id": "x"},
    )
    assert ok.status_code == 201
    assert ok.json()["actor"] == "ann"
    assert ok.json()["seq"] == 1
