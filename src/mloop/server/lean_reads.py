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
from fastapi.routing import APIRoute

from mloop.server.lean_routes import request_values, state_dependencies


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
        values = request_values(request, path_params, state, request_name)
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
    return state_dependencies(dependant)
