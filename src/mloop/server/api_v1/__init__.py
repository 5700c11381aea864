"""mloop's own REST API, `/api/v1`: one router per concept, assembled here."""

from __future__ import annotations

from starlette.routing import BaseRoute

from mloop.server.api_v1 import (
    artifacts,
    audit,
    blobs,
    datasets,
    deployments,
    experiments,
    logging,
    registry,
    runs,
    validation_reports,
)

PREFIX = "/api/v1"
"""Where the API lives; each module's router carries it in its own prefix."""


def routes() -> list[BaseRoute]:
    """Every `/api/v1` route, documented in the server's OpenAPI schema, in matching order.

    The application adds these as they are: including a router would build each route (its
    dependency tree and pydantic models) a second time, which was most of the server's start-up.
    """
    modules = (
        experiments,
        # Before the run routes, whose `/runs/{run_id}` would otherwise take `/runs/search`.
        runs,
        logging,
        artifacts,
        audit,
        registry,
        validation_reports,
        deployments,
        datasets,
        blobs,
    )
    return [route for module in modules for route in module.router.routes]
