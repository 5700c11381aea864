"""How errors reach HTTP clients: one table from the error tree to status codes and JSON bodies.

Every error answer has the shape `{"error": {"code", "message", "details"}}`. A 5xx means a bug
or an unavailable database, never bad input. `code` is stable and coarse (one per row of
`STATUS_CODES`); `details.error_type` names the exact error class and the other details carry its
attributes, so the REST client (`mloop.storage.rest`) raises the same class the store raised.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from mloop.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ConfigurationError,
    DatabaseLockedError,
    InvalidFilterError,
    InvalidInputError,
    InvalidStateError,
    MloopError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
)

logger = logging.getLogger("mloop.server")

# First match wins, so subclasses come before their parents.
STATUS_CODES: tuple[tuple[type[MloopError], int, str], ...] = (
    (InvalidFilterError, 400, "INVALID_FILTER"),
    (InvalidInputError, 400, "INVALID_INPUT"),
    (NotFoundError, 404, "NOT_FOUND"),
    (AlreadyExistsError, 409, "ALREADY_EXISTS"),
    (InvalidStateError, 409, "INVALID_STATE"),
    (DatabaseLockedError, 503, "UNAVAILABLE"),
    (StorageError, 503, "STORAGE_UNAVAILABLE"),
    (AuthenticationError, 401, "UNAUTHENTICATED"),
    (PermissionDeniedError, 403, "PERMISSION_DENIED"),
    (ConfigurationError, 500, "CONFIGURATION"),
    (MloopError, 500, "INTERNAL"),
)

# Codes for errors raised by the web layer itself rather than by mloop.
HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
}


def status_for(error: MloopError) -> tuple[int, str]:
    """The HTTP status and error code for an mloop error."""
    return next((status, code) for cls, status, code in STATUS_CODES if isinstance(error, cls))


def error_details(error: MloopError) -> dict[str, Any]:
    """The error's class and the values it keeps as attributes (field, run_id ...), as JSON."""
    details: dict[str, Any] = {"error_type": type(error).__name__}
    for name, value in vars(error).items():
        if name == "message" or name.startswith("_"):
            continue
        if value is None or isinstance(value, str | int | float | bool):
            details[name] = value
    return details


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> JSONResponse:
    """An error answer in the one shape clients parse."""
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JSONResponse(body, status_code=status)


async def _mloop_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MloopError)
    status, code = status_for(exc)
    if status >= 500:
        logger.error("request failed: %s", exc.message, exc_info=exc)
    return error_response(status, code, exc.message, error_details(exc))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {
            "field": ".".join(str(part) for part in err.get("loc", ()) if part != "body"),
            "problem": str(err.get("msg", "")),
        }
        for err in exc.errors()
    ]
    fields = ", ".join(p["field"] or "body" for p in problems)
    return error_response(
        400,
        "INVALID_INPUT",
        f"the request does not match the API schema ({fields}); see /docs",
        {"field": problems[0]["field"] if problems else None, "problems": problems},
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    response = error_response(exc.status_code, code, str(exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Answer every mloop error, schema violation and HTTP error in the one JSON shape."""
    app.add_exception_handler(MloopError, _mloop_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
