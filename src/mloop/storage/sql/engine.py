"""Engines for SQLite and PostgreSQL, write transactions, and retries when the database is busy."""

from __future__ import annotations

import functools
import random
import re
import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.pool import QueuePool

from mloop.errors import ConfigurationError, DatabaseLockedError, MissingExtraError, StorageError
from mloop.storage.sql import schema

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_S = 30.0
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000
SQLITE_POOL_SIZE = 4
SQLITE_MAX_OVERFLOW = 16
_LOCK_RETRIES = 8
_NO_WAITING: ContextVar[bool] = ContextVar("mloop_no_waiting", default=False)


class WouldWaitError(Exception):
    """Database work under `without_waiting` that would have to wait (for a lock, the network)."""


@contextmanager
def without_waiting() -> Iterator[None]:
    """Run database work that may not block, e.g. on a server's event loop.

    Inside, a transaction on SQLite takes the write lock only if it is free at once and never
    waits for a pooled connection; PostgreSQL (every statement a network round trip) refuses
    outright. Where it would wait, `WouldWaitError` is raised before anything was written, and
    the caller runs the work again where waiting is fine (a worker thread).
    """
    token = _NO_WAITING.set(True)
    try:
        yield
    finally:
        _NO_WAITING.reset(token)


def _refuse_to_wait(engine: Engine) -> None:
    if not _NO_WAITING.get():
        return
    if engine.dialect.name != "sqlite":
        raise WouldWaitError(f"{engine.dialect.name} is reached over the network")
    pool = engine.pool
    if (
        isinstance(pool, QueuePool)
        and pool.checkedin() == 0
        and pool.checkedout() >= SQLITE_POOL_SIZE + SQLITE_MAX_OVERFLOW
    ):
        raise WouldWaitError("every pooled SQLite connection is in use")


def make_engine(url: str) -> Engine:
    """Create an engine for a `sqlite:///path` or `postgresql://...` URL.

    SQLite gets WAL, `synchronous=NORMAL`, foreign keys and a busy timeout on every connection,
    and write transactions that start with `BEGIN IMMEDIATE` (see `write_transaction`).

    Raises:
        ConfigurationError: the URL is not one mloop can use.
        MissingExtraError: the PostgreSQL driver is not installed.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"cannot parse the tracking URI {redact(url)!r}; use sqlite:///PATH or "
            "postgresql://USER@HOST:PORT/DB"
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            # Every connection would open its own empty database.
            raise ConfigurationError(
                f"an in-memory SQLite database ({url!r}) cannot hold a store; use a file: "
                "sqlite:///PATH"
            )
        return _sqlite_engine(url)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise MissingExtraError("postgres", "psycopg") from exc
        schema.use_postgresql_options()
        return _postgresql_engine(parsed)
    raise ConfigurationError(
        f"unsupported database {backend!r} in {redact(url)!r}; mloop stores metadata in SQLite "
        "(sqlite:///PATH) or PostgreSQL (postgresql://...)"
    )


def redact(url: str) -> str:
    """The URL with any password replaced by `***`, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


@functools.cache
def check_sqlite_library() -> None:
    """Refuse an SQLite library without what the store's statements use.

    `RETURNING` needs SQLite 3.35; a page of runs passes its run keys as one JSON list read by
    `json_each`, built into SQLite since 3.38 and in most builds before. Checked once a process.

    Raises:
        ConfigurationError: the library is too old or lacks the JSON functions.
    """
    import sqlite3

    version = sqlite3.sqlite_version
    try:
        probe = sqlite3.connect(":memory:")
        try:
            probe.execute("SELECT value FROM json_each('[1]')").fetchall()
        finally:
            probe.close()
        too_old = sqlite3.sqlite_version_info < (3, 35, 0)
    except sqlite3.OperationalError:
        too_old = True
    if too_old:
        raise ConfigurationError(
            f"this Python's SQLite library ({version}) is too old for mloop: it needs SQLite "
            "3.35 or newer with the JSON functions (any 3.38+); use a newer Python build, or "
            "a PostgreSQL store"
        )


def _sqlite_engine(url: str) -> Engine:
    check_sqlite_library()
    # Pooled: closing the last connection to a WAL database checkpoints and truncates the WAL,
    # which costs an fsync per transaction. Pooled connections never cross a fork: the store
    # disposes the pool in a forked child (`SqlStore.after_fork`).
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=SQLITE_POOL_SIZE,
        max_overflow=SQLITE_MAX_OVERFLOW,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that `_on_begin` decides how to begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Fold the WAL back every 10,000 pages (~40 MB) rather than every 1,000: the automatic
        # checkpoints cost 10-25% of a burst of small runs. Durability is unchanged; closing the
        # last connection still checkpoints.
        cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # LIKE is case-sensitive in the search grammar, as on PostgreSQL; ILIKE is not.
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A deferred transaction that reads and then writes fails with SQLITE_BUSY at once when
        # another writer is active; IMMEDIATE takes the write lock up front and waits for it.
        if not conn.get_execution_options().get("mloop_write"):
            conn.exec_driver_sql("BEGIN")
        elif _NO_WAITING.get():
            _begin_immediate_now(conn)
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _postgresql_engine(url: Any) -> Engine:
    # No pre-ping: a `SELECT 1` on every checkout was a round trip per request, a third of a
    # small read. A pooled connection is checked at checkout by looking at its socket instead
    # (no round trip); a connection that dies between that check and its first statement is
    # retried once by `with_retries`.
    can_poll = hasattr(select, "poll")
    engine = create_engine(url, pool_pre_ping=not can_poll, pool_size=5, max_overflow=10)
    if can_poll:

        @event.listens_for(engine, "checkout")
        def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
            if is_closed_by_server(dbapi_connection):
                # The pool discards the connection and checks out (or opens) another.
                raise DisconnectionError("the server closed this pooled connection")

    return engine


def is_closed_by_server(dbapi_connection: Any) -> bool:
    """True when an idle PostgreSQL connection has something to read: the server closed it.

    An idle connection is sent nothing unless the server ends it (a restart, an administrator's
    `pg_terminate_backend`, an idle timeout): then its socket holds the error message and the
    end of the stream. Looking costs a `poll` with no wait, not a round trip. Anything unexpected
    (no socket, a closed connection) counts as closed, so the pool opens a fresh connection.
    """
    try:
        if dbapi_connection.closed or dbapi_connection.broken:
            return True
        fd = dbapi_connection.fileno()
    except Exception:  # noqa: BLE001 - any failure to look means: do not trust it
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _begin_immediate_now(conn: Connection) -> None:
    """BEGIN IMMEDIATE without the busy timeout: the write lock now, or `WouldWaitError`.

    Straight on the driver's connection: these three statements run before every write a
    server answers on its event loop, and SQLAlchemy's execution path would triple their cost.
    """
    import sqlite3

    driver = conn.connection.driver_connection
    assert driver is not None  # a checked-out connection
    driver.execute("PRAGMA busy_timeout=0")
    try:
        driver.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        error = OperationalError("BEGIN IMMEDIATE", None, exc)  # as SQLAlchemy would raise it
        if is_lock_error(error):
            raise WouldWaitError("another writer holds the SQLite write lock") from exc
        raise error from exc
    finally:
        driver.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")


def is_lock_error(exc: BaseException) -> bool:
    """True when a database error means "busy, try again" rather than a real failure."""
    if not isinstance(exc, OperationalError | DBAPIError):
        return False
    text = str(exc.orig if getattr(exc, "orig", None) is not None else exc).lower()
    return (
        "database is locked" in text
        or "database is busy" in text
        or "deadlock detected" in text
        or "could not serialize access" in text
    )


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the write lock from its start (BEGIN IMMEDIATE on SQLite).

    Raises:
        WouldWaitError: under `without_waiting`, where it would wait.
    """
    _refuse_to_wait(engine)
    with engine.connect().execution_options(mloop_write=True) as conn, conn.begin():
        yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction; a consistent snapshot on both backends.

    Raises:
        StorageError: the database failed (unreachable, dropped connection ...).
        WouldWaitError: under `without_waiting`, where it would wait.
    """
    _refuse_to_wait(engine)
    try:
        with engine.connect() as conn, conn.begin():
            yield conn
    except DBAPIError as exc:
        raise StorageError(f"reading from the database failed: {exc.orig}") from exc


@contextmanager
def single_read(engine: Engine) -> Iterator[Connection]:
    """A connection for one read statement, which is consistent on its own.

    On PostgreSQL it runs without BEGIN and COMMIT (two round trips fewer, most of a small
    request's time); SQLite gets a plain read transaction, which costs no round trip.

    Raises:
        StorageError: the database failed (unreachable, dropped connection ...).
        WouldWaitError: under `without_waiting`, where it would wait.
    """
    if engine.dialect.name != "postgresql":
        with read_transaction(engine) as conn:  # which refuses to wait where it would
            yield conn
        return
    _refuse_to_wait(engine)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn
    except DBAPIError as exc:
        raise StorageError(f"reading from the database failed: {exc.orig}") from exc


@contextmanager
def single_write(engine: Engine) -> Iterator[Connection]:
    """A connection for one write statement, which is atomic on its own (PostgreSQL).

    It runs without BEGIN and COMMIT, two round trips fewer; driver errors are raised as they
    come (`with_retries` handles them).

    Raises:
        WouldWaitError: under `without_waiting` (PostgreSQL is reached over the network).
    """
    _refuse_to_wait(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn


def with_retries(operation: Callable[[], T], *, what: str) -> T:
    """Run a whole transaction, retrying with jittered backoff while the database is locked.

    Safe because every write is idempotent and a failed transaction is rolled back whole. A
    connection the database dropped (restarted, or terminated by an administrator) is retried
    once on a fresh connection: the pool discards the dead one when the error is raised.

    Raises:
        DatabaseLockedError: still locked after the retry budget.
        StorageError: any other database failure.
    """
    delay_s = 0.01
    for attempt in range(_LOCK_RETRIES + 1):
        try:
            return _reconnecting(operation)
        except DBAPIError as exc:
            if not is_lock_error(exc):
                raise StorageError(f"{what} failed in the database: {exc.orig}") from exc
            if attempt == _LOCK_RETRIES:
                raise DatabaseLockedError(
                    f"{what} gave up: the database stayed locked by other writers through "
                    f"{_LOCK_RETRIES} retries; on SQLite, check that it is not on a network "
                    "file system, or move many-writer setups to PostgreSQL"
                ) from exc
            time.sleep(delay_s * (1 + random.random()))  # noqa: S311 - jitter, not security
            delay_s = min(delay_s * 2, 1.0)
    raise AssertionError("unreachable")  # pragma: no cover


def _reconnecting(operation: Callable[[], T]) -> T:
    """Run `operation`, and once more when it failed on a connection the database dropped."""
    try:
        return operation()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    return operation()


def write_with_retries(engine: Engine, operation: Callable[[Connection], T], *, what: str) -> T:
    """Run `operation` in one write transaction, retried whole while the database is locked.

    Raises:
        DatabaseLockedError: still locked after the retry budget.
        StorageError: any other database failure.
    """

    def run() -> T:
        with write_transaction(engine) as conn:
            return operation(conn)

    return with_retries(run, what=what)
