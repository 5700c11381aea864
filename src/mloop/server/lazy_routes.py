"""Routes built on the first request that needs them, to keep the server's start-up short.

Building a FastAPI route (its dependency tree and pydantic models) costs about a millisecond;
the MLflow-compatible API has ~200 of them once mirrored under its prefixes, and most servers
never see an MLflow client. `LazyRoutes` claims every path under some prefixes and builds the
router that serves them when the first such request arrives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound, Router
from starlette.types import Receive, Scope, Send


class LazyRoutes(BaseRoute):
    """Every HTTP path under `prefixes`, served by the router `build` returns on first use.

    The built router runs inside the application, so its exception handlers, middleware and
    `request.app.state` apply as for any other route. Routes built this way are not in the
    OpenAPI schema: give this only routers that keep out of it.

    Args:
        prefixes: path prefixes this claims, each ending with `/`.
        build: makes the router; called once, by the first request under a prefix.
    """

    def __init__(self, prefixes: tuple[str, ...], build: Callable[[], Router]) -> None:
        self.prefixes = prefixes
        self._build = build
        self._router: Router | None = None
        self._lock = threading.Lock()

    @property
    def router(self) -> Router:
        """The router, built now if no request has needed it yet."""
        if self._router is None:
            with self._lock:  # a warm-up thread and a request may race for it
                if self._router is None:
                    self._router = self._build()
        return self._router

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """A full match for HTTP requests under one of the prefixes."""
        if scope["type"] == "http" and _route_path(scope).startswith(self.prefixes):
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with the (possibly just built) router."""
        await self.router(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: object) -> URLPath:
        """Route names are resolved only once built; before that nothing is found."""
        if self._router is None:
            raise NoMatchFound(name, path_params)
        return self._router.url_path_for(name, **path_params)


def _route_path(scope: Scope) -> str:
    # The path the application routes on: without the root path of a mounting proxy.
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
