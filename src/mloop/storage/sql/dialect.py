"""Dialect-specific statements: insert-or-ignore and upsert for SQLite and PostgreSQL.

Statements are built once per dialect and table and then reused: building one costs more than
executing it for a small batch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection


def insert_ignore(conn: Connection, table: Table) -> Any:
    """`INSERT ... ON CONFLICT DO NOTHING` for the connection's dialect."""
    return insert_ignore_for(conn.dialect.name, table)


def upsert(
    conn: Connection,
    table: Table,
    *,
    keys: tuple[str, ...],
    update: tuple[str, ...],
    where: Callable[[Any], Any] | None = None,
) -> Any:
    """`upsert_for` the connection's dialect."""
    return upsert_for(conn.dialect.name, table, keys=keys, update=update, where=where)


@functools.cache
def insert_ignore_for(dialect: str, table: Table) -> Any:
    """`INSERT ... ON CONFLICT DO NOTHING` for a dialect's name."""
    return _insert(dialect, table).on_conflict_do_nothing()


@functools.cache
def upsert_for(
    dialect: str,
    table: Table,
    *,
    keys: tuple[str, ...],
    update: tuple[str, ...],
    where: Callable[[Any], Any] | None = None,
) -> Any:
    """`INSERT ... ON CONFLICT (keys) DO UPDATE SET update = excluded.update [WHERE ...]`.

    Args:
        dialect: the dialect's name (`sqlite`, `postgresql`).
        table: the table.
        keys: the conflict target (a primary key or unique constraint).
        update: the columns to overwrite.
        where: given the `excluded` pseudo-row, a condition the update must meet; pass a
            module-level function, not a lambda, so the statement is built only once.
    """
    stmt = _insert(dialect, table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: stmt.excluded[name] for name in update},
        where=where(stmt.excluded) if where is not None else None,
    )


def _insert(dialect: str, table: Table) -> Any:
    # The dialect modules are imported when first needed: most processes use only one.
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)
