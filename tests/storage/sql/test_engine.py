"""Engines, write transactions and lock retries (`sql/engine.py`) on real databases."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from mloop.errors import ConfigurationError, DatabaseLockedError, StorageError
from mloop.storage.sql.engine import (
    check_sqlite_library,
    is_lock_error,
    make_engine,
    single_read,
    with_retries,
    write_transaction,
)
from mloop.storage.sql.store import SqlStore


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_sqlite_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="sqlite:///PATH"):
        make_engine(url)


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url", "oracle://h/db"])
def test_unsupported_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError):
        make_engine(url)


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'e.db'}")
    try:
        with engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in (
                    "journal_mode",
                    "foreign_keys",
                    "synchronous",
                    "busy_timeout",
                    "wal_autocheckpoint",
                )
            }
    finally:
        engine.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 1,
        "busy_timeout": 30000,
        "wal_autocheckpoint": 10000,
    }


def test_sqlite_write_transactions_take_the_write_lock_at_begin(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    engine = make_engine(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with write_transaction(engine) as conn:
            conn.execute(text("SELECT 1"))  # a read only, yet the lock is already held
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # released at commit
        other.execute("ROLLBACK")
    finally:
        other.close()
        engine.dispose()


def _impatient_writer(path: Path) -> tuple[object, object]:
    """An engine that fails at once with "database is locked" instead of waiting."""
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))

    def insert() -> int:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            return int(conn.execute(text("SELECT count(*) FROM t")).scalar_one())

    return engine, insert


def test_with_retries_waits_out_a_lock_that_is_released(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    engine, insert = _impatient_writer(path)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.2, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        started = time.monotonic()
        assert with_retries(insert, what="inserting") == 1  # type: ignore[arg-type]
        assert time.monotonic() - started >= 0.15
    finally:
        release.join()
        holder.close()
        engine.dispose()  # type: ignore[attr-defined]


def test_with_retries_gives_up_with_database_locked_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    engine, insert = _impatient_writer(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseLockedError, match="inserting gave up") as caught:
            with_retries(insert, what="inserting")  # type: ignore[arg-type]
        assert isinstance(caught.value.__cause__, OperationalError)
    finally:
        holder.close()
        engine.dispose()  # type: ignore[attr-defined]


def test_with_retries_turns_other_database_errors_into_storage_errors(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'e.db'}")
    calls = 0

    def broken() -> None:
        nonlocal calls
        calls += 1
        with engine.begin() as conn:
            conn.execute(text("SELECT * FROM no_such_table"))

    try:
        with pytest.raises(StorageError, match="reading failed in the database: no such table"):
            with_retries(broken, what="reading")
    finally:
        engine.dispose()
    assert calls == 1  # not a lock error: no retry


def test_is_lock_error_tells_busy_from_broken(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'e.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER PRIMARY KEY)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(IntegrityError) as duplicate, engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        engine.dispose()
    assert not is_lock_error(duplicate.value)
    assert not is_lock_error(ValueError("database is locked"))
    locked = OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
    assert is_lock_error(locked)


def test_a_single_read_leaves_pooled_connections_transactional(store: SqlStore) -> None:
    # On PostgreSQL `single_read` runs without BEGIN (autocommit); the connection must go back
    # to the pool transactional, so a failed write transaction still rolls back whole.
    engine = store.engine
    for _ in range(3):
        with single_read(engine) as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    with pytest.raises(RuntimeError, match="abort"):
        _insert_then_fail(engine)
    with single_read(engine) as conn:
        found = conn.execute(
            text("SELECT count(*) FROM metric_keys WHERE key = 'single-read-probe'")
        ).scalar_one()
    assert found == 0


def test_a_single_read_of_an_unreachable_database_is_a_storage_error() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:1/none?connect_timeout=1")
    with (
        pytest.raises(StorageError, match="reading from the database failed"),
        single_read(engine) as conn,
    ):
        conn.execute(text("SELECT 1"))


def _insert_then_fail(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        conn.execute(text("INSERT INTO metric_keys (key) VALUES ('single-read-probe')"))
        raise RuntimeError("abort")


def test_an_sqlite_library_too_old_for_the_store_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    check_sqlite_library.cache_clear()
    check_sqlite_library()  # this machine's library has RETURNING and json_each
    # An older library cannot be installed here; its version is what the check reads.
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.31.1")
    check_sqlite_library.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match=r"SQLite library \(3\.31\.1\) is too old"):
            make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        assert not (tmp_path / "old.db").exists()
    finally:
        check_sqlite_library.cache_clear()
