"""MLflow's error protocol: a route class that answers every failure as MLflow's server does.

MLflow clients read `{"error_code": ..., "message": ...}` and decide from the HTTP status whether
to retry (500, 502, 503, 504, 429 are retried with backoff), so the mapping below follows
MLflow's `ERROR_CODE_TO_HTTP_STATUS`: bad input and a missing object are 4xx and never retried.
Handling it inside the route keeps the app-level handlers (mloop's own error shape) untouched.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from mloop.errors import (
    AlreadyExistsError,
    InvalidInputError,
    InvalidStateError,
    MloopError,
    NotFoundError,
    StorageError,
)
from mloop.server.deps import ANONYMOUS, authenticated_name
from mloop.storage import Store

logger = logging.getLogger("mloop.server.mlflow")

RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
INTERNAL_ERROR = "INTERNAL_ERROR"

# First match wins. MLflow answers an operation that does not fit an object's state (logging to
# a deleted run, deleting the default experiment) with INVALID_PARAMETER_VALUE and 400.
_TABLE: tuple[tuple[type[MloopError], int, str], ...] = (
    (NotFoundError, 404, RESOURCE_DOES_NOT_EXIST),
    (AlreadyExistsError, 400, RESOURCE_ALREADY_EXISTS),
    (InvalidInputError, 400, INVALID_PARAMETER_VALUE),
    (InvalidStateError, 400, INVALID_PARAMETER_VALUE),
    (StorageError, 503, TEMPORARILY_UNAVAILABLE),
    (MloopError, 500, INTERNAL_ERROR),
)


def mlflow_status(error: MloopError) -> tuple[int, str]:
    """The HTTP status and MLflow error code of an mloop error."""
    return next((status, code) for cls, status, code in _TABLE if isinstance(error, cls))


def mlflow_error(status: int, error_code: str, message: str) -> JSONResponse:
    """An error answer in MLflow's shape."""
    return JSONResponse({"error_code": error_code, "message": message}, status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    problems = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        if err.get("type") == "missing":
            problems.append(f"Missing value for required parameter '{field}'")
        else:
            problems.append(
                f"Invalid value {err.get('input')!r} for parameter '{field}' supplied: "
                f"{err.get('msg', '')}"
            )
    return "; ".join(problems) or "the request does not match MLflow's REST API"


def _answer(result: Any) -> Any:
    return JSONResponse(result) if isinstance(result, dict) else result


def _direct_json(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an endpoint so a dict it returns goes out as JSON as it is.

    FastAPI would otherwise pass it through `jsonable_encoder`, which costs ~0.1 ms per point
    of a 10,000-point metric history; these dicts hold only JSON types already.
    """
    if getattr(endpoint, "_mlflow_direct_json", False):
        return endpoint  # already wrapped: including a router copies its routes
    wrapped: Callable[..., Any]
    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            return _answer(await endpoint(*args, **kwargs))

        wrapped = run_async
    else:

        @functools.wraps(endpoint)
        def run(*args: Any, **kwargs: Any) -> Any:
            return _answer(endpoint(*args, **kwargs))

        wrapped = run
    setattr(wrapped, "_mlflow_direct_json", True)  # noqa: B010 - a marker on a function
    return wrapped


# An escaped NUL in JSON text: `\u0000` after an even number of backslashes.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


async def _has_nul(request: Request) -> bool:
    """Whether the path, query or JSON body holds a NUL, which PostgreSQL text cannot store.

    Artifact uploads are bytes and may hold anything: their bodies are streamed, not checked.
    """
    if "\x00" in request.scope.get("path", ""):
        return True
    if any("\x00" in k or "\x00" in v for k, v in request.query_params.multi_items()):
        return True
    if "/mlflow-artifacts/" in request.scope.get("path", ""):
        return False
    body = await request.body()
    return b"\x00" in body or _JSON_NUL.search(body) is not None


class MlflowRoute(APIRoute):
    """A route whose errors reach the client as MLflow's `{"error_code", "message"}`."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _direct_json(endpoint), **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler so mloop and validation errors answer in MLflow's shape."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            if await _has_nul(request):
                return mlflow_error(
                    400,
                    INVALID_PARAMETER_VALUE,
                    "the request holds a NUL character (\\u0000), which names, keys and values "
                    "may not contain",
                )
            try:
                return await handler(request)
            except MloopError as exc:
                status, code = mlflow_status(exc)
                if status >= 500:
                    logger.error("MLflow API request failed: %s", exc.message, exc_info=exc)
                return mlflow_error(status, code, exc.message)
            except RequestValidationError as exc:
                return mlflow_error(400, INVALID_PARAMETER_VALUE, _validation_message(exc))

        return route


class Message(BaseModel):
    """A request message, parsed as leniently as MLflow parses proto JSON.

    Unknown fields are ignored and numbers are accepted for string fields (ids, versions).
    """

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


# Bounds of the columns values end up in: PostgreSQL refuses longer text and integers past
# 64 bits, so the API refuses them first with INVALID_PARAMETER_VALUE.
Int64 = Annotated[int, Field(ge=-(2**63), lt=2**63)]
Millis = Annotated[int, Field(ge=0, lt=2**63)]

Text64 = Annotated[str, Field(max_length=64)]
Text128 = Annotated[str, Field(max_length=128)]
Text250 = Annotated[str, Field(max_length=250)]
Text256 = Annotated[str, Field(max_length=256)]
# Artifact locations get `/<run id>/artifacts` or `/models/<id>/artifacts` appended to fit 1000.
Location = Annotated[str, Field(max_length=900)]
Text1000 = Annotated[str, Field(max_length=1000)]
OptionalRunId = Annotated[str, Field(pattern=r"^([0-9a-f]{32})?$")]


class KeyValue(Message):
    """A `{key, value}` pair (tags, params)."""

    key: str
    value: str = ""


async def store_of(request: Request) -> Store:
    """The store this server process serves (async: no thread-pool hop to read a field)."""
    store: Store = request.app.state.store
    return store


def actor_of(request: Request) -> str:
    """Who acts, for the audit log: the authenticated user when auth is on."""
    return authenticated_name(request) or ANONYMOUS


StoreDep = Annotated[Store, Depends(store_of)]


def new_router() -> APIRouter:
    """A router whose routes answer errors in MLflow's shape and stay out of mloop's OpenAPI."""
    return APIRouter(route_class=MlflowRoute, include_in_schema=False)
