"""The hot write routes served by `LeanRoute`: same answers as FastAPI's, same OpenAPI schema."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Query
from fastapi.routing import APIRoute

from mloop.server.api_v1 import logging, runs
from mloop.server.config import ServerConfig
from mloop.server.deps import StoreDep
from mloop.server.lean_routes import LeanRoute, lean
from mloop.server.schemas import RunOut
from tests.server.conftest import LiveServer

RUNS = "/api/v1/runs"
JSON = {"content-type": "application/json"}
LEAN = {("POST", RUNS), ("POST", f"{RUNS}/{{run_id}}/finish"), ("POST", f"{RUNS}/{{run_id}}/batch")}


def _route(path: str, method: str) -> APIRoute:
    for module in (runs, logging):
        for route in module.router.routes:
            if (
                isinstance(route, APIRoute)
                and route.path == path
                and method in (route.methods or ())
            ):
                return route
    raise AssertionError(f"no route {method} {path}")


def test_the_hot_write_routes_are_lean() -> None:
    for method, path in LEAN:
        route = _route(path, method)
        assert isinstance(route, LeanRoute)
        assert getattr(route.endpoint, "__mloop_lean__", False), path


def _problem(answer: Any) -> tuple[int, str, str | None]:
    error = answer.json()["error"]
    return answer.status_code, error["code"], error["details"].get("field")


@pytest.mark.parametrize(
    ("content", "headers", "field"),
    [
        (b"", JSON, ""),  # no body
        (b'{"experiment_id": "0", "run_name": "r"}', {}, ""),  # no content type
        (b'{"experiment_id": "0", "run_name": "r"}', {"content-type": "text/plain"}, ""),
        (b'{"experiment_id": "0", "run_name": ', JSON, ""),  # not JSON
        (b"[1, 2]", JSON, ""),
        (b'{"experiment_id": "0", "run_name": "r", "other": 1}', JSON, "other"),
        (b'{"experiment_id": 0, "run_name": "r"}', JSON, "experiment_id"),
        (b'{"experiment_id": "0", "run_name": "a\\u0000b"}', JSON, "run_name"),
        (b'{"experiment_id": "0", "run_name": "r", "tags": [{"key": ""}]}', JSON, "tags.0.key"),
    ],
)
def test_bad_create_bodies_are_400_with_the_field(
    live_server: LiveServer, content: bytes, headers: dict[str, str], field: str
) -> None:
    answer = live_server.client.post(RUNS, content=content, headers=headers)
    assert _problem(answer) == (400, "INVALID_INPUT", field)
    assert live_server.client.post(f"{RUNS}/search", json={}).json()["runs"] == []


def test_lean_routes_check_path_parameters_and_take_json_subtypes(
    live_server: LiveServer,
) -> None:
    http = live_server.client
    answer = http.post(f"{RUNS}/NOT-A-RUN/batch", json={})
    assert _problem(answer) == (400, "INVALID_INPUT", "path.run_id")
    created = http.post(
        RUNS,
        content=b'{"experiment_id": "0", "run_name": "r"}',
        headers={"content-type": "application/vnd.example+json; charset=utf-8"},
    )
    assert created.status_code == 201, created.text
    run = created.json()
    assert (run["run_name"], run["status"]) == ("r", "RUNNING")
    run_id = run["run_id"]
    batch = {"metrics": [{"key": "m", "value": "-Infinity", "step": 3}]}
    assert http.post(f"{RUNS}/{run_id}/batch", json=batch).status_code == 204
    finish = http.post(f"{RUNS}/{run_id}/finish", json={"status": "DONE"})
    assert _problem(finish) == (400, "INVALID_INPUT", "status")
    assert http.post(f"{RUNS}/{run_id}/finish", json={"status": "FAILED"}).status_code == 204
    stored = http.get(f"{RUNS}/{run_id}").json()
    assert (stored["metrics"], stored["status"]) == ({"m": "-Infinity"}, "FAILED")


def test_store_errors_of_lean_routes_keep_their_class(live_server: LiveServer) -> None:
    answer = live_server.client.post(f"{RUNS}/{'0' * 32}/finish", json={"status": "FINISHED"})
    assert answer.status_code == 404
    assert answer.json()["error"]["details"]["error_type"] == "RunNotFoundError"


def test_lean_routes_keep_their_openapi_entry() -> None:
    plain = APIRouter()
    marked = APIRouter(route_class=LeanRoute)

    def create(body: RunOut, store: StoreDep) -> RunOut:
        """Doc."""
        raise NotImplementedError

    plain.post("/x", status_code=201)(create)
    marked.post("/x", status_code=201)(lean(create))
    schemas = []
    for router in (plain, marked):
        app = FastAPI()
        app.include_router(router)
        schemas.append(app.openapi())
    assert schemas[0] == schemas[1]


def test_a_lean_route_with_a_query_parameter_is_refused() -> None:
    router = APIRouter(route_class=LeanRoute)

    def search(store: StoreDep, q: str = Query()) -> RunOut:
        raise NotImplementedError

    with pytest.raises(TypeError, match="only a body and path parameters"):
        router.get("/x")(lean(search))


def test_a_write_waiting_for_the_sqlite_lock_leaves_the_server_answering(
    live_server: LiveServer, server_config: ServerConfig, backend: str
) -> None:
    # Lean routes run on the event loop only while the database answers at once; a write that
    # must wait for another process's lock waits in a worker thread, and the rest is served.
    if backend != "sqlite":
        pytest.skip("the write lock is SQLite's")
    http = live_server.client
    run_id = http.post(RUNS, json={"experiment_id": "0", "run_name": "r"}).json()["run_id"]
    holder = sqlite3.connect(server_config.backend_uri.removeprefix("sqlite:///"))
    holder.isolation_level = None
    holder.execute("BEGIN IMMEDIATE")
    with ThreadPoolExecutor(1) as pool:
        try:
            body = {"params": [{"key": "lr", "value": "0.1"}], "status": "FINISHED"}
            waiting = pool.submit(http.post, f"{RUNS}/{run_id}/finish", json=body)
            with httpx.Client(base_url=live_server.url, timeout=10) as other:
                for _ in range(3):
                    assert other.get("/health").status_code == 200
                    assert other.get(f"{RUNS}/{run_id}").json()["status"] == "RUNNING"
            assert not waiting.done()
        finally:
            holder.execute("COMMIT")
            holder.close()
        assert waiting.result(timeout=30).status_code == 204
    run = http.get(f"{RUNS}/{run_id}").json()
    assert (run["status"], run["params"]) == ("FINISHED", {"lr": "0.1"})
