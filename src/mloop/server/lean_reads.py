"""A route class that serves small async reads without FastAPI's per-request dependency solving.

`GET /api/v1/experiments/{id}` is the request a client makes to check a server (and the one the
benchmark times): the database answers it in a fraction of a millisecond, and FastAPI's request
handler (the dependency solver, its exit stacks, the response model check) costs about as much
again. A route served by `LeanReadRoute` keeps its declaration (the OpenAPI schema is built
from it, unchanged), but when its function is `async`, takes only path parameters, the
`Request` and the `StoreDep`/`ConfigDep` dependencies, and returns a `Response`, each request
is served in a few steps: the path parameters validated as FastAPI validates them (the same 422
answers), the store and config taken from the application state, the function awaited. Any
other route of the router is served by FastAPI as usual.

Writes have their own short path (`lean_routes.py`, for JSON bodies and the thread pool).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from mloop.server.deps import config_of, store_of

# What the state dependencies resolve to: the attribute of `app.state` each one returns.
_STATE: dict[Callable[..., Any], str] = {store_of: "store", config_of: "config"}


class LeanReadRoute(APIRoute):
    """An `APIRoute` that serves the async reads this module describes with the short path."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The request handler: the short one where the route allows it, FastAPI's otherwise."""
        state = _state_parameters(self.dependant)
        if state is None or not _is_async_response(self.endpoint):
            return super().get_route_handler()
        return _read_handler(self, state)


def _read_handler(
    route: APIRoute, state: dict[str, str]
) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    endpoint = route.endpoint
    path_params = route.dependant.path_params
    request_name = route.dependant.request_param_name

    async def handle(request: Request) -> Response:
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
        response: Response = await endpoint(**values)
        return response

    return handle


def _is_async_response(endpoint: Callable[..., Any]) -> bool:
    """True for an `async def` declared to return a `Response` (which needs no encoding)."""
    if not inspect.iscoroutinefunction(endpoint):
        return False
    returns = inspect.signature(endpoint, eval_str=True).return_annotation
    return inspect.isclass(returns) and issubclass(returns, Response)


def _state_parameters(dependant: Dependant) -> dict[str, str] | None:
    """The route's dependencies as parameter name -> `app.state` attribute; None if not lean."""
    if (
        dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.background_tasks_param_name
        or dependant.response_param_name
        or dependant.security_scopes_param_name
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
    ):
        return None
    state: dict[str, str] = {}
    for sub in dependant.dependencies:
        attribute = _STATE.get(sub.call) if sub.call is not None else None
        if attribute is None or sub.name is None:
            return None
        state[sub.name] = attribute
    return state
