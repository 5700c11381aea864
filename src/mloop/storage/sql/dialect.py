"""Dialect-specific statements: insert-or-ignore and upsert for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_ignore(conn: Connection, table: Table) -> Any:
    """`INSERT ... ON CONFLICT DO NOTHING` for the connection's dialect."""
    return _insert(conn, table).on_conflict_do_nothing()


def upsert(
    conn: Connection,
    table: Table,
    *,
    keys: list[str],
    update: list[str],
    where: Callable[[Any], Any] | None = None,
) -> Any:
    """`INSERT ... ON CONFLICT (keys) DO UPDATE SET update = excluded.update [WHERE ...]`.

    Args:
        conn: the connection whose dialect to use.
        table: the table.
        keys: the conflict target (a primary key or unique constraint).
        update: the columns to overwrite.
        where: given the `excluded` pseudo-row, a condition the update must meet.
    """
    stmt = _insert(conn, table)
    return stmt.on_conflict_do_update(
        index_elements=keys,
        set_={name: stmt.excluded[name] for name in update},
        where=where(stmt.excluded) if where is not None else None,
    )


def _insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
