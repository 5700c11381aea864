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

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import ClauseElement

from mloop.storage.sql.dialect import insert_ignore_for, upsert_for

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
        return self._run(conn, params)[0]

    def execute_count(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run the statement once inside `conn`'s transaction; return the rows it changed.

        Raises:
            DBAPIError: the driver failed (SQLAlchemy's subclass for the failure).
        """
        return self._run(conn, params)[1]

    def _run(self, conn: Connection, params: Mapping[str, Any]) -> tuple[list[Any], int]:
        compiled = self._for(conn.dialect)
        values = compiled.values(params)
        cursor = conn.connection.cursor()
        try:
            cursor.execute(compiled.sql, values)
            rows = list(cursor.fetchall()) if cursor.description is not None else []
            return rows, int(cursor.rowcount)
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


class PreparedRows:
    """Insert-or-ignore, or upsert, many rows of one table at the cost of one statement.

    SQLite gets the driver's `executemany` (a C loop over one prepared statement, already
    cheap). On PostgreSQL `executemany` costs ~20-40 µs a row even pipelined (0.2 ms for ten
    rows here); the rows go instead as one array per column into a single
    `INSERT ... SELECT unnest(...), unnest(...) ...`, whose SQL is the same for any number of
    rows (~0.07 ms for ten). An upsert's rows must then have distinct keys (PostgreSQL refuses
    to update a row twice in one statement); the writers send one row per key.

    Args:
        table: the table; each row gives every column, by name.
        keys: the conflict target of an upsert; None for insert-or-ignore.
        update: the columns an upsert overwrites.
        where: given the `excluded` pseudo-row, a condition the update must meet (a
            module-level function).
    """

    def __init__(
        self,
        table: Table,
        *,
        keys: tuple[str, ...] | None = None,
        update: tuple[str, ...] = (),
        where: Callable[[Any], Any] | None = None,
    ) -> None:
        self._names = tuple(column.name for column in table.columns)
        conflict: dict[str, Any] = {"keys": keys, "update": update, "where": where}
        self._rows = Prepared(lambda dialect: _conflict(dialect, table, None, **conflict))
        self._arrays = Prepared(
            lambda dialect: _conflict(dialect, table, _unnested(table), **conflict)
        )

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Write `rows` inside `conn`'s transaction.

        Returns:
            How many rows were inserted or updated (skipped conflicts do not count).

        Raises:
            DBAPIError: the driver failed (SQLAlchemy's subclass for the failure).
            KeyError: a row lacks a column.
        """
        if not rows:
            return 0
        if conn.dialect.name != "postgresql":
            return self._rows.executemany(conn, rows)
        arrays = {f"a_{name}": [row[name] for row in rows] for name in self._names}
        return self._arrays.execute_count(conn, arrays)


def _unnested(table: Table) -> Any:
    """`SELECT unnest(:a_col1), unnest(:a_col2) ...`: rows from one array per column."""
    from sqlalchemy.dialects.postgresql import ARRAY

    return select(
        *(
            func.unnest(bindparam(f"a_{column.name}", type_=ARRAY(column.type)))
            for column in table.columns
        )
    )


def _conflict(
    dialect: str,
    table: Table,
    source: Any,
    *,
    keys: tuple[str, ...] | None,
    update: tuple[str, ...],
    where: Callable[[Any], Any] | None,
) -> Any:
    """INSERT (of all columns, from `source` when given) with its ON CONFLICT clause."""
    if source is None:
        if keys is None:
            return insert_ignore_for(dialect, table)
        return upsert_for(dialect, table, keys=keys, update=update, where=where)
    from sqlalchemy.dialects import postgresql

    stmt = postgresql.insert(table).from_select([c.name for c in table.columns], source)
    if keys is None:
        return stmt.on_conflict_do_nothing()
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: stmt.excluded[name] for name in update},
        where=where(stmt.excluded) if where is not None else None,
    )


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
