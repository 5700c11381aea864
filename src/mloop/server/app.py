"""The ASGI application: one store per process, the routers, the error table."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from mloop.__about__ import __version__
from mloop.server.config import ServerConfig
from mloop.server.errors import install_error_handlers
from mloop.server.lazy_routes import LazyRoutes
from mloop.server.limits import BodySizeLimit
from mloop.server.metrics import install_metrics
from mloop.storage import Store, open_store

OPENING_SWITCH_INTERVAL_S = 0.0002


def create_app(config: ServerConfig, *, store: Store | None = None) -> FastAPI:
    """Build the server application.

    Args:
        config: backend and artifact URIs, auth and limits.
        store: an open store to serve (tests); by default one is opened from `config`.

    Returns:
        The FastAPI application; `app.state.store` and `app.state.config` hold what routes use.
    """
    # The database work of opening the store (connect, check or create the schema: ~0.1 s for a
    # fresh PostgreSQL store) runs in a thread while the routes are built here: it mostly waits
    # for the database, building routes mostly computes. A short switch interval lets the
    # thread take the GIL back soon after each answer instead of up to 5 ms later.
    opening = _opening(config) if store is None else None
    interval_s = sys.getswitchinterval()
    if opening is not None:
        sys.setswitchinterval(OPENING_SWITCH_INTERVAL_S)
    try:
        app = _build(config, owns_store=store is None)
    except BaseException:
        if opening is not None:
            with contextlib.suppress(Exception):  # the build's error is the one to report
                opening().close()
        raise
    finally:
        sys.setswitchinterval(interval_s)
    app.state.store = store if opening is None else opening()
    # --- Authentication (H7): outermost, so a request without valid credentials is answered
    # before any other work (health and ready stay open).
    if config.auth:
        from mloop.server.auth import install_auth

        install_auth(app)
    return app


def _opening(config: ServerConfig) -> Callable[[], Store]:
    """Start opening the configured store; the function returned waits for it."""
    if config.backend_uri.startswith(("http://", "https://")):
        opened = open_store(config.backend_uri, artifact_root=config.artifact_uri)
        return lambda: opened
    from mloop.storage.sql.store import open_in_background

    return open_in_background(config.backend_uri, artifact_root=config.artifact_uri)


def _build(config: ServerConfig, *, owns_store: bool) -> FastAPI:
    """The application without its store: middleware, error handlers, routes."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_store:
            app.state.store.close()

    app = FastAPI(
        title="mloop tracking server",
        version=__version__,
        description="Experiments, runs, metrics, artifacts and models of the mloop loop.",
        lifespan=lifespan,
    )
    app.state.config = config
    install_error_handlers(app)
    _document_errors(app)
    # Middleware added last runs first: metrics see every answer, 413s included.
    app.add_middleware(BodySizeLimit, max_bytes=config.max_body_bytes)
    install_metrics(app)
    _include_routers(app)
    return app


def _document_errors(app: FastAPI) -> None:
    """Add the error schemas the routes refer to (`ERROR_RESPONSES`) to the OpenAPI document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        from mloop.server.schemas import error_schemas

        document = generate()
        components = document.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in error_schemas().items():
            components.setdefault(name, schema)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _include_routers(app: FastAPI) -> None:
    from mloop.server import api_v1, health

    # As they are: including a router would build its routes a second time.
    app.router.routes.extend(health.router.routes)
    app.router.routes.extend(api_v1.routes())
    # The MLflow-compatible API (outside the OpenAPI schema) is built on its first request.
    app.router.routes.append(LazyRoutes(MLFLOW_PREFIXES, _mlflow_router))


MLFLOW_PREFIXES = (
    "/api/2.0/mlflow/",
    "/ajax-api/2.0/mlflow/",
    "/api/2.0/mlflow-artifacts/",
    "/ajax-api/2.0/mlflow-artifacts/",
    "/api/3.0/mlflow/",
)
"""Every path of the MLflow-compatible API starts with one of these."""


def _mlflow_router() -> APIRouter:
    from mloop.server.mlflow import build_router

    return build_router()
