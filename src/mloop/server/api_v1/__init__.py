"""mloop's own REST API, `/api/v1`: one router per concept, assembled here."""

from __future__ import annotations

from fastapi import APIRouter

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


def build_router() -> APIRouter:
    """Every `/api/v1` route, documented in the server's OpenAPI schema."""
    router = APIRouter(prefix=PREFIX)
    router.include_router(experiments.router)
    # Before the run routes, whose `/runs/{run_id}` would otherwise take `/runs/search`.
    router.include_router(runs.router)
    router.include_router(logging.router)
    router.include_router(artifacts.router)
    router.include_router(audit.router)
    router.include_router(registry.router)
    router.include_router(validation_reports.router)
    router.include_router(deployments.router)
    router.include_router(datasets.router)
    router.include_router(blobs.router)
    return router
