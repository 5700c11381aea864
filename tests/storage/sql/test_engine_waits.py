"""`without_waiting`: database work that would block raises instead, before writing anything."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from mloop.storage.sql.engine import (
    WouldWaitError,
    make_engine,
    read_transaction,
    single_read,
    without_waiting,
    write_transaction,
)
from mloop.storage.sql.store import SqlStore


def test_a_free_sqlite_write_lock_is_taken_at_once(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        with without_waiting(), write_transaction(engine) as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        with without_waiting(), single_read(engine) as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_held_sqlite_write_lock_raises_at_once_and_keeps_the_busy_timeout(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.db"
    engine = make_engine(f"sqlite:///{path}")
    with write_transaction(engine) as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(WouldWaitError), without_waiting(), write_transaction(engine) as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
        assert time.monotonic() - started < 5  # not the 30 s busy timeout
        # Reads do not need the lock (WAL), and the pooled connection waits again as usual.
        with without_waiting(), read_transaction(engine) as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 30000
        holder.execute("COMMIT")
        with write_transaction(engine) as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 30000
    finally:
        holder.close()
        engine.dispose()


def test_postgresql_work_refuses_to_run_without_waiting(store: SqlStore, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the network round trips are PostgreSQL's")
    entered = []
    for transaction in (write_transaction, read_transaction, single_read):
        with pytest.raises(WouldWaitError), without_waiting(), transaction(store.engine):
            entered.append(transaction)
    assert entered == []  # refused before any connection was taken or statement sent
    with single_read(store.engine) as conn:  # outside, as before
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
