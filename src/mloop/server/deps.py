"""What routes take from the request: the store, the acting user, the server's limits."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mloop.server.config import ServerConfig
from mloop.storage import Store

ANONYMOUS = "anonymous"


# The dependencies are `async` though they never wait: FastAPI runs a plain function in the
# thread pool, a hop that costs more than the rest of a small request.


async def store_of(request: Request) -> Store:
    """The store this server process serves."""
    store: Store = request.app.state.store
    return store


async def config_of(request: Request) -> ServerConfig:
    """The configuration this server process runs with."""
    config: ServerConfig = request.app.state.config
    return config


def authenticated_name(request: Request) -> str | None:
    """The name of the user the auth layer authenticated (`request.state.user`), if any."""
    user = getattr(request.state, "user", None)
    return None if user is None else str(getattr(user, "name", user))


def actor_of(request: Request, claimed: str | None = None) -> str:
    """Who is acting, for the audit log.

    With authentication on, the authenticated user (`request.state.user`, set by the auth layer)
    wins over any name the client claims; without it the client's claim is recorded as given.
    """
    return authenticated_name(request) or claimed or ANONYMOUS


StoreDep = Annotated[Store, Depends(store_of)]
ConfigDep = Annotated[ServerConfig, Depends(config_of)]
