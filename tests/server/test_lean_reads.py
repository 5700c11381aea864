"""Async reads served by `LeanReadRoute`: FastAPI's answers and schema, without its solver."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import APIRouter, FastAPI, Path, Query, Response
from fastapi import routing as fastapi_routing
from fastapi.dependencies.utils import solve_dependencies
from fastapi.routing import APIRoute

from mloop.server.api_v1 import experiments
from mloop.server.deps import ConfigDep, StoreDep
from mloop.server.lean_reads import LeanReadRoute
from mloop.server.responses import model_json
from mloop.server.schemas import ExperimentOut, from_experiment
from tests.server.conftest import LiveServer

EXPERIMENT = "/api/v1/experiments/{experiment_id}"


@pytest.fixture
def solver_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests FastAPI's dependency solver ran for."""
    calls: list[str] = []

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["request"].url.path)
        return await solve_dependencies(*args, **kwargs)

    monkeypatch.setattr(fastapi_routing, "solve_dependencies", counted)
    return calls


def test_reading_an_experiment_skips_the_dependency_solver(
    live_server: LiveServer, solver_calls: list[str]
) -> None:
    http = live_server.client
    answer = http.get("/api/v1/experiments/0")
    assert answer.status_code == 200
    assert answer.json()["name"] == "Default"
    assert solver_calls == []
    # A route of the same router that is not an async read is FastAPI's as before.
    assert http.get("/api/v1/experiments").status_code == 200
    assert solver_calls == ["/api/v1/experiments"]


def test_a_lean_read_answers_errors_as_fastapi_does(live_server: LiveServer) -> None:
    http = live_server.client
    bad = http.get("/api/v1/experiments/not-a-number")
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["field"] == "path.experiment_id"
    missing = http.get("/api/v1/experiments/12345")
    assert missing.status_code == 404
    assert missing.json()["error"]["details"]["error_type"] == "ExperimentNotFoundError"
    assert http.put("/api/v1/experiments/0").status_code == 405
    counted = http.get("/metrics").text
    assert f'route="{EXPERIMENT}",status="404"' in counted


def test_the_experiment_read_is_lean() -> None:
    route = next(
        r
        for r in experiments.router.routes
        if isinstance(r, APIRoute) and r.path == EXPERIMENT and "GET" in (r.methods or ())
    )
    assert isinstance(route, LeanReadRoute)


IdPath = Annotated[str, Path(pattern="^[0-9]+$")]


async def _read(experiment_id: IdPath, store: StoreDep, config: ConfigDep) -> Response:
    """Doc."""
    assert config.max_page_size > 0
    return model_json(from_experiment(store.experiments.get(experiment_id)))


def test_lean_reads_keep_their_openapi_entry() -> None:
    schemas = []
    for route_class in (APIRoute, LeanReadRoute):
        router = APIRouter(route_class=route_class)
        router.get("/x/{experiment_id}", response_model=ExperimentOut)(_read)
        app = FastAPI()
        app.include_router(router)
        schemas.append(app.openapi())
    assert schemas[0] == schemas[1]


def test_other_routes_of_a_lean_router_are_served_by_fastapi() -> None:
    router = APIRouter(route_class=LeanReadRoute)

    async def with_query(store: StoreDep, q: str = Query()) -> Response:
        raise NotImplementedError

    async def returning_a_model(experiment_id: IdPath, store: StoreDep) -> ExperimentOut:
        raise NotImplementedError

    def sync_read(experiment_id: IdPath, store: StoreDep) -> Response:
        raise NotImplementedError

    router.get("/q")(with_query)
    router.get("/m/{experiment_id}")(returning_a_model)
    router.get("/s/{experiment_id}")(sync_read)
    router.get("/lean/{experiment_id}")(_read)
    plain = APIRoute("/y", with_query).get_route_handler().__qualname__
    handlers = {
        route.path: route.get_route_handler().__qualname__
        for route in router.routes
        if isinstance(route, APIRoute)
    }
    assert handlers["/q"] == handlers["/m/{experiment_id}"] == handlers["/s/{experiment_id}"]
    assert handlers["/q"] == plain
    assert handlers["/lean/{experiment_id}"] != plain
