"""PostgreSQL connections the server drops: replaced at checkout, or retried once (`engine.py`)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from mloop.storage.sql.engine import (
    is_closed_by_server,
    make_engine,
    single_read,
    with_retries,
    write_transaction,
)

pytestmark = pytest.mark.postgres


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


def _fill_pool(engine: Engine, count: int) -> None:
    """Check out `count` connections at once, so the pool holds that many idle ones."""
    connections = [engine.connect() for _ in range(count)]
    for conn in connections:
        conn.execute(text("SELECT 1"))
    for conn in connections:
        conn.close()


def test_pooled_connections_killed_by_the_server_are_replaced_at_checkout(
    named_url: str, admin: Engine
) -> None:
    engine = make_engine(named_url)
    try:
        _fill_pool(engine, 3)
        assert kill_connections(admin, named_url) == 3
        # Every pooled connection is dead; each read must still succeed, without a retry.
        for _ in range(6):
            with single_read(engine) as conn:
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
        with write_transaction(engine) as conn:
            assert conn.execute(text("SELECT 2")).scalar_one() == 2
    finally:
        engine.dispose()


def test_the_socket_check_tells_a_dropped_connection_from_a_live_one(
    named_url: str, admin: Engine
) -> None:
    engine = make_engine(named_url)
    try:
        raw = engine.raw_connection()
        try:
            live = raw.dbapi_connection
            assert not is_closed_by_server(live)
            kill_connections(admin, named_url)
            assert is_closed_by_server(live)
        finally:
            raw.invalidate()
    finally:
        engine.dispose()


def test_a_connection_dropped_after_checkout_is_retried_once(named_url: str, admin: Engine) -> None:
    engine = make_engine(named_url)
    attempts = 0

    def write() -> int:
        nonlocal attempts
        attempts += 1
        with write_transaction(engine) as conn:
            if attempts == 1:
                # Dies after the checkout check, before its first statement.
                pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
                kill_connections(admin, named_url, pid=pid)
                conn.exec_driver_sql("SELECT 1")
            return int(conn.execute(text("SELECT 3")).scalar_one())

    try:
        assert with_retries(write, what="writing") == 3
        assert attempts == 2
    finally:
        engine.dispose()
