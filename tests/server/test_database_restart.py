"""A server on PostgreSQL keeps answering when the database drops its pooled connections.

What a PostgreSQL restart or an administrator's `pg_terminate_backend` does to a running server:
every idle connection in its pool is dead. No request may fail because of it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import Engine

from mloop.server.app import create_app
from mloop.server.config import ServerConfig
from tests.pg_connections import kill_connections
from tests.server.conftest import serve_in_thread

pytestmark = pytest.mark.postgres

RUNS = "/api/v1/runs"


def _round(http: httpx.Client, i: int) -> list[int]:
    """A read and the writes of a run; the status of each answer."""
    statuses = [http.get("/api/v1/experiments/0").status_code]
    created = http.post(RUNS, json={"experiment_id": "0", "run_name": f"r{i}"})
    statuses.append(created.status_code)
    if created.status_code == 201:
        run_id = created.json()["run_id"]
        body = {"params": [{"key": "i", "value": str(i)}], "status": "FINISHED"}
        statuses.append(http.post(f"{RUNS}/{run_id}/finish", json=body).status_code)
        statuses.append(http.get(f"{RUNS}/{run_id}").status_code)
    return statuses


def test_no_request_fails_after_the_database_drops_the_pool(
    named_url: str, admin: Engine, artifact_root: str
) -> None:
    app = create_app(ServerConfig(backend_uri=named_url, artifact_uri=artifact_root))
    url, stop = serve_in_thread(app)
    try:
        clients = [httpx.Client(base_url=url, timeout=30) for _ in range(4)]
        with ThreadPoolExecutor(len(clients)) as pool:
            # Several connections at once, so the pool holds more than one.
            warm = list(pool.map(_round, clients, range(len(clients))))
            assert all(s < 300 for statuses in warm for s in statuses), warm
            for attempt in range(3):
                assert kill_connections(admin, named_url) >= 1
                rounds = list(pool.map(_round, clients, [10 * (attempt + 1) + i for i in range(4)]))
                assert rounds == [[200, 201, 204, 200]] * len(clients), rounds
        for client in clients:
            client.close()
    finally:
        stop()
