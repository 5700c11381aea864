"""Routes that answer the hot write requests with less per-request work than FastAPI's own.

A W4 run is two write requests (create, finish), and FastAPI spends more on each than the
database does: `json.loads` then a pydantic validation of the resulting dicts, the dependency
solver, a thread-pool hop for the route and, for a route that returns a model, a second hop to
validate that model again against its response model. A route marked with `@lean` keeps its
declaration as it is (the OpenAPI schema is built from it, unchanged) but is served by
`LeanRoute`: the body is parsed and validated in one pass from its bytes
(`TypeAdapter.validate_json`), the path parameters as FastAPI would, the store and the config
come straight from the application state, and a returned model is encoded once. The function
runs on the event loop under `without_waiting` (SQLite with its write lock free answers in a
fraction of a millisecond); where the database would make it wait (a busy SQLite lock) it is
run again in the thread pool, nothing having been written. With PostgreSQL (every statement a
network round trip) it goes to the thread pool at once. Errors keep FastAPI's
form (`RequestValidationError` with `body` and `path` locations), so clients see the same 400s.

Only routes whose parameters are a JSON body, path parameters, the `Request` and the
`StoreDep`/`ConfigDep` dependencies can be lean; marking another is an error at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi._compat import ModelField
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from mloop.server.deps import config_of, store_of
from mloop.server.responses import model_json
from mloop.storage.sql.engine import WouldWaitError, without_waiting

F = TypeVar("F", bound=Callable[..., Any])
_LEAN = "__mloop_lean__"
# What the state dependencies resolve to: the attribute of `app.state` each one returns.
_STATE_DEPENDENCIES: dict[Callable[..., Any], str] = {store_of: "store", config_of: "config"}


def lean(endpoint: F) -> F:
    """Mark a route function to be served by `LeanRoute` (put it under `@router.post(...)`)."""
    setattr(endpoint, _LEAN, True)
    return endpoint


class LeanRoute(APIRoute):
    """An `APIRoute` that serves `@lean` functions with the short path this module describes.

    Routes without the mark are served by FastAPI as usual, so a router can use this class for
    all of its routes.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The request handler: the lean one for marked functions, FastAPI's otherwise."""
        if not getattr(self.endpoint, _LEAN, False):
            return super().get_route_handler()
        return _lean_handler(self)


def _lean_handler(route: APIRoute) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    dependant = route.dependant
    state = _state_parameters(route)
    body = dependant.body_params[0] if dependant.body_params else None
    adapter: TypeAdapter[Any] | None = (
        None if body is None else TypeAdapter(body.field_info.annotation or Any)
    )
    endpoint = route.endpoint
    request_name = dependant.request_param_name
    path_params = dependant.path_params
    status_code = route.status_code or 200

    async def handle(request: Request) -> Response:
        values = request_values(request, path_params, state, request_name)
        if body is not None and adapter is not None:
            values[body.name] = _parsed_body(adapter, await request.body(), request)
        result = await _called(endpoint, values, request)
        if isinstance(result, Response):
            return result
        if isinstance(result, BaseModel):
            return model_json(result, status_code=status_code)
        raise TypeError(f"{route.path}: a lean route returns a Response or a model")

    return handle


async def _called(endpoint: Callable[..., Any], values: dict[str, Any], request: Request) -> Any:
    """The route function's result: on the event loop where the database answers at once."""
    if _over_the_network(request):
        # Every statement would wait: straight to the thread pool, without a first try.
        return await run_in_threadpool(endpoint, **values)
    try:
        # On the event loop when the database answers at once (SQLite with its write lock
        # free): a thread-pool hop costs about a fifth of a small write request.
        with without_waiting():
            return endpoint(**values)
    except WouldWaitError:
        return await run_in_threadpool(endpoint, **values)


def _over_the_network(request: Request) -> bool:
    """Whether the server's database is reached over the network (`SqlStore`'s answer)."""
    return bool(getattr(request.app.state.store, "over_the_network", False))


def request_values(
    request: Request,
    path_params: list[ModelField],
    state: dict[str, str],
    request_name: str | None,
) -> dict[str, Any]:
    """A lean route's arguments but its body.

    The path parameters are validated as FastAPI validates them (the same 422 answers).

    Raises:
        RequestValidationError: a path parameter is malformed.
    """
    values: dict[str, Any] = {}
    if path_params:
        values, errors = request_params_to_args(path_params, request.path_params)
        if errors:
            raise RequestValidationError(errors)
    app_state = request.app.state
    for name, attribute in state.items():
        values[name] = getattr(app_state, attribute)
    if request_name is not None:
        values[request_name] = request
    return values


def state_dependencies(dependant: Dependant) -> dict[str, str] | None:
    """The dependencies as parameter name -> `app.state` attribute; None if one is another."""
    state = {}
    for sub in dependant.dependencies:
        attribute = _STATE_DEPENDENCIES.get(sub.call) if sub.call is not None else None
        if attribute is None or sub.name is None:
            return None
        state[sub.name] = attribute
    return state


def _state_parameters(route: APIRoute) -> dict[str, str]:
    """The route's dependencies, as parameter name -> attribute of `app.state`.

    Raises:
        TypeError: the route takes something a lean route cannot give it.
    """
    dependant = route.dependant
    if dependant.query_params or dependant.header_params or dependant.cookie_params:
        raise TypeError(f"{route.path}: a lean route takes only a body and path parameters")
    if len(dependant.body_params) > 1:
        raise TypeError(f"{route.path}: a lean route takes at most one body")
    state = state_dependencies(dependant)
    if state is None:
        raise TypeError(f"{route.path}: a lean route depends only on the store and config")
    return state


def _parsed_body(adapter: TypeAdapter[Any], raw: bytes, request: Request) -> Any:
    """The body validated from its bytes; FastAPI's errors for a missing or non-JSON body."""
    if not raw:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    if not _is_json(request.headers.get("content-type")):
        raise RequestValidationError(
            [
                {
                    "type": "model_attributes_type",
                    "loc": ("body",),
                    "msg": "Input should be a valid dictionary or object to extract fields from",
                    "input": raw,
                }
            ]
        )
    try:
        return adapter.validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
        ) from None


def _is_json(content_type: str | None) -> bool:
    # As FastAPI decides: application/json or application/*+json, parameters ignored.
    if not content_type:
        return False
    kind = content_type.split(";", 1)[0].strip().lower()
    maintype, _, subtype = kind.partition("/")
    return maintype == "application" and (subtype == "json" or subtype.endswith("+json"))
