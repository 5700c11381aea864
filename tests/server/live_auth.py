"""A live server with auth on over a fresh store, for the auth tests."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from mloop.entities.auth import Role
from mloop.server.app import create_app
from mloop.server.auth import install_auth
from mloop.server.config import ServerConfig
from mloop.storage.sql.store import SqlStore
from tests.server.conftest import serve_in_thread


@dataclass
class AuthServer:
    """A live server with auth on, and the store it serves (to create users and check writes)."""

    url: str
    store: SqlStore

    def client(self, headers: dict[str, str] | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=headers or {}, timeout=30)

    def token_for(self, name: str, role: Role | None) -> str:
        self.store.auth.create_user(name, role=role, actor="test")
        return self.store.auth.create_token(name, actor="test").secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(user: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


@pytest.fixture
def auth_server(store: SqlStore, server_config: ServerConfig) -> Iterator[AuthServer]:
    # Credentials are checked on every request (no cache), so revocations show at once.
    app = create_app(dataclasses.replace(server_config, auth=False), store=store)
    install_auth(app, cache_ttl_s=0)
    url, stop = serve_in_thread(app)
    yield AuthServer(url=url, store=store)
    stop()
