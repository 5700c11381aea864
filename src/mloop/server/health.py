"""Liveness and readiness: `/health` answers while the process runs; `/ready` checks the store."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


# Async: a constant answer needs no hop to the thread pool (which a plain function takes).
@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up (no dependency is checked)."""
    return {"status": "ok"}


@router.get("/ready", response_model=None)
def ready(request: Request) -> JSONResponse | dict[str, str]:
    """The server can serve: its metadata store answers a query."""
    store = request.app.state.store
    try:
        store.experiments.get("0")
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported as such
        return JSONResponse(
            {"status": "unavailable", "reason": f"{type(exc).__name__}: {exc}"}, status_code=503
        )
    return {"status": "ready"}
