from __future__ import annotations

from pathlib import Path

import httpx

from mloop.server.app import create_app
from mloop.server.config import ServerConfig
from mloop.storage.sql.store import SqlStore
from tests.server.conftest import LiveServer, serve_in_thread


def test_health_answers_without_touching_the_database(live_server: LiveServer) -> None:
    response = live_server.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_checks_the_store(live_server: LiveServer) -> None:
    assert live_server.client.get("/ready").json() == {"status": "ready"}


def test_ready_is_503_while_the_database_is_unreachable(tmp_path: Path) -> None:
    # Nothing listens on port 1: the store opens lazily, so only /ready notices.
    url = "postgresql://postgres@127.0.0.1:1/none?connect_timeout=1"
    store = SqlStore(url, artifact_root=str(tmp_path), create=False)
    app = create_app(ServerConfig(backend_uri=url, artifact_uri=str(tmp_path)), store=store)
    base, stop = serve_in_thread(app)
    try:
        response = httpx.get(f"{base}/ready", timeout=30)
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        assert httpx.get(f"{base}/health", timeout=30).status_code == 200
    finally:
        stop()
        store.close()


def test_unknown_route_gets_the_json_error_shape(live_server: LiveServer) -> None:
    response = live_server.client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "NOT_FOUND"
    assert set(error) == {"code", "message", "details"}
