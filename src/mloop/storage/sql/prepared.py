"""The statements on every run's path, run straight on the driver's cursor.

SQLAlchemy Core builds each statement, and it is compiled once per dialect. Executing an
already compiled statement through `Connection.execute` still costs 40-70 µs of Python a call
(cache lookup, execution context, result wrapping), as much as SQLite's own work for a small
write and about half of a 1,000-run burst. The few statements every run goes through (its
create, its end, a logged batch) are therefore executed on the DBAPI cursor of the caller's
transaction: the same SQL, the same transaction, none of the per-call machinery.

What stays the same: the SQL is compiled by SQLAlchemy for the connection's dialect, values
go through the column types' bind processors, and driver errors come out as SQLAlchemy's
`DBAPIError` subclasses (with a connection the database dropped invalidated, as
`Connection.execute` does), so retries and error translation in `engine.py` see no difference.
What differs: no execution events fire, expanding (`IN`) parameters are refused, and rows come
back as plain tuples of driver values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import ClauseElement

if TYPE_CHECKING:
    from sqlalchemy.sql.compiler import SQLCompiler


class Prepared:
    """A Core statement compiled once per dialect and run on the transaction's DBAPI cursor.

    Args:
        build: makes the statement for a dialect's name; called once per dialect. (Dialects
            differ for upserts, hence a builder rather than a statement.)
    """

    def __init__(self, build: Callable[[str], ClauseElement]) -> None:
        self._build = build
        self._compiled: dict[str, _Compiled] = {}

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run the statement once inside `conn`'s transaction; return its rows (RETURNING).

        Raises:
            DBAPIError: the driver failed (SQLAlchemy's subclass for the failure).
        """
        compiled = self._for(conn.dialect)
        values = compiled.values(params)
        cursor = conn.connection.cursor()
        try:
            cursor.execute(compiled.sql, values)
            return list(cursor.fetchall()) if cursor.description is not None else []
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _translated(conn, cursor, compiled.sql, values, exc) from exc
        finally:
            cursor.close()

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run the statement for each of `rows` inside `conn`'s transaction.

        Returns:
            The number of rows the statement changed in all (both drivers sum them).

        Raises:
            DBAPIError: the driver failed (SQLAlchemy's subclass for the failure).
        """
        if not rows:
            return 0
        compiled = self._for(conn.dialect)
        values: Any = [compiled.values(row) for row in rows]
        cursor = conn.connection.cursor()
        try:
            cursor.executemany(compiled.sql, values)
            return int(cursor.rowcount)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _translated(conn, cursor, compiled.sql, values, exc) from exc
        finally:
            cursor.close()

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self._build(dialect.name), dialect)
        return compiled


class _Compiled:
    """A statement's SQL for one dialect and how to lay out its parameters."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = cast("SQLCompiler", statement.compile(dialect=dialect))
        self.sql = compiled.string
        binds = compiled.binds
        if any(bind.expanding for bind in binds.values()):
            raise ValueError("expanding (IN) parameters cannot be prepared")
        # Values fixed in the statement (literals); the caller supplies the others.
        self._fixed = {
            name: bind.effective_value
            for name, bind in binds.items()
            if bind.value is not None or bind.callable is not None
        }
        self._processors: dict[str, Callable[[Any], Any]] = {}
        for name, bind in binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._processors[name] = processor
        # Positional drivers (sqlite3: `?`) take a tuple in this order, named ones (psycopg:
        # `%(name)s`) a dict of these names; either way a missing value is a KeyError here.
        self._order = compiled.positiontup
        self._names = tuple(binds)

    def values(self, params: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        merged = {**self._fixed, **params} if self._fixed else dict(params)
        for name, processor in self._processors.items():
            value = merged.get(name)
            if value is not None:
                merged[name] = processor(value)
        if self._order is None:
            return {name: merged[name] for name in self._names}
        return tuple(merged[name] for name in self._order)


def _translated(conn: Connection, cursor: Any, sql: str, values: Any, exc: Any) -> Exception:
    """The driver's error as SQLAlchemy raises it, invalidating a connection that died."""
    dialect = conn.dialect
    dropped = dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
    if dropped:
        conn.invalidate(exc)
    error: Exception = DBAPIError.instance(
        sql,
        values,
        exc,
        dialect.loaded_dbapi.Error,
        connection_invalidated=dropped,
        dialect=dialect,
    )
    return error
