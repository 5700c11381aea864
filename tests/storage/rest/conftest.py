"""REST-store fixtures: a real server on a loopback port in front of a fresh SQL store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mloop.server.app import create_app
from mloop.server.config import ServerConfig
from mloop.storage.rest import RestStore
from tests.server.conftest import serve_in_thread


@pytest.fixture
def server_url(store_url: str, artifact_root: str) -> Iterator[str]:
    """A live `mloop server` on the backend under test (SQLite file or PostgreSQL schema)."""
    app = create_app(ServerConfig(backend_uri=store_url, artifact_uri=artifact_root))
    url, stop = serve_in_thread(app)
    yield url
    stop()


@pytest.fixture
def store(server_url: str) -> Iterator[RestStore]:
    """The REST store of the live server: store tests written for SQL run on it unchanged."""
    opened = RestStore(server_url, max_retries=0)
    yield opened
    opened.close()
