"""Dropping a store's PostgreSQL connections the way a restart or an administrator does.

Shared by the engine's reconnect tests and the server's database-restart tests: a store URL
with an application name of its own, an engine outside it, and the kill.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text


@pytest.fixture
def named_url(store_url: str, backend: str) -> str:
    """The store URL with an application name of its own, to find its connections by."""
    if backend != "postgresql":
        pytest.skip("only PostgreSQL connections are dropped by the server")
    return f"{store_url}&application_name=mloop-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def admin(named_url: str, store_url: str) -> Iterator[Engine]:
    """A separate engine (without the application name) that terminates the other's connections."""
    base = store_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def _application_name(url: str) -> str:
    return url.rsplit("application_name=", 1)[1]


def kill_connections(admin: Engine, url: str, *, pid: int | None = None) -> int:
    """Terminate the connections opened with `url`'s application name (or one of them).

    Waits until they are gone, as after a server restart: their sockets then hold the end.
    """
    name = _application_name(url)
    where = "application_name = :name" + ("" if pid is None else " AND pid = :pid")
    with admin.connect() as conn:
        killed = conn.execute(
            text(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {where}"),
            {"name": name, "pid": pid},
        ).scalar_one()
        deadline = time.monotonic() + 10
        while conn.execute(
            text(f"SELECT count(*) FROM pg_stat_activity WHERE {where}"),
            {"name": name, "pid": pid},
        ).scalar_one():
            assert time.monotonic() < deadline, "the terminated backends did not exit"
            time.sleep(0.01)
    return int(killed)
