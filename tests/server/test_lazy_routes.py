"""The MLflow-compatible API is built on its first request, not at server start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from fastapi.routing import APIRoute

from mloop.server import api_v1
from mloop.server import mlflow as mlflow_api
from mloop.server.app import MLFLOW_PREFIXES, create_app
from mloop.server.config import ServerConfig
from mloop.server.lazy_routes import LazyRoutes
from mloop.server.mlflow import build_router
from mloop.storage.sql.store import SqlStore
from tests.server.conftest import serve_in_thread


def test_every_mlflow_route_lies_under_the_lazily_served_prefixes() -> None:
    # The routers of the MLflow modules are mounted under these prefixes ...
    mounted = mlflow_api._TRACKING_PREFIXES + mlflow_api._ARTIFACT_PREFIXES
    assert [prefix for prefix in mounted if f"{prefix}/" not in MLFLOW_PREFIXES] == []
    # ... and the routes added directly (server info, the catch-alls) lie under them too.
    paths = [route.path for route in build_router().routes if isinstance(route, APIRoute)]
    assert len(paths) >= 5
    assert [path for path in paths if not path.startswith(MLFLOW_PREFIXES)] == []


def test_creating_the_app_imports_neither_the_mlflow_api_nor_the_rest_client(
    tmp_path: Path,
) -> None:
    code = (
        "import sys\n"
        "from mloop.server.app import create_app\n"
        "from mloop.server.config import ServerConfig\n"
        f"config = ServerConfig(backend_uri='sqlite:///{tmp_path / 'm.db'}', "
        f"artifact_uri={str(tmp_path)!r})\n"
        "create_app(config)\n"
        "prefixes = ('mloop.server.mlflow', 'mloop.storage.rest', 'httpx')\n"
        "print(sorted(m for m in sys.modules if m.startswith(prefixes)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_first_mlflow_request_builds_the_routes_once_and_is_answered(
    store: SqlStore, tmp_path: Path
) -> None:
    app = create_app(ServerConfig(backend_uri=store.url, artifact_uri=str(tmp_path)), store=store)
    lazy = [route for route in app.router.routes if isinstance(route, LazyRoutes)]
    assert len(lazy) == 1
    base, stop = serve_in_thread(app)
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            assert http.get("/api/v1/experiments/0").status_code == 200
            assert lazy[0]._router is None  # mloop's own API needed nothing of MLflow's
            first = http.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"})
            built = lazy[0]._router
            mirror = http.get("/ajax-api/2.0/mlflow/experiments/get", params={"experiment_id": "0"})
            unknown = http.post("/api/2.0/mlflow/no/such/route", json={})
            info = http.get("/api/3.0/mlflow/server-info")
            outside = http.get("/api/2.0/mlflowx/experiments/get")
    finally:
        stop()
    assert first.status_code == 200
    assert first.json()["experiment"]["name"] == "Default"
    assert built is not None
    assert lazy[0]._router is built
    assert mirror.json() == first.json()
    assert (unknown.status_code, unknown.json()["error_code"]) == (404, "ENDPOINT_NOT_FOUND")
    assert info.json()["store_type"] == "SqlStore"
    assert outside.status_code == 404


def test_every_api_v1_route_is_built_once_under_the_prefix(tmp_path: Path) -> None:
    routes = api_v1.routes()
    assert len(routes) >= 50
    assert [r.path for r in routes if not r.path.startswith("/api/v1/")] == []  # type: ignore[attr-defined]
    app = create_app(
        ServerConfig(backend_uri=f"sqlite:///{tmp_path / 'm.db'}", artifact_uri=str(tmp_path))
    )
    # The application serves the very objects the modules declared: nothing was rebuilt.
    served = {id(route) for route in app.router.routes}
    assert all(id(route) in served for route in routes)
    paths = app.openapi()["paths"]
    assert "/api/v1/runs/search" in paths
    assert "/api/v1/experiments/{experiment_id}" in paths
