"""PostgreSQL connections the server drops: replaced at checkout, or retried once (`engine.py`)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from mloop.storage.sql.engine import (
    is_closed_by_server,
    make_engine,
    single_read,
    with_retries,
    write_transaction,
)
from tests.pg_connections import kill_connections

pytestmark = pytest.mark.postgres


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
