"""Raw SQL helpers for tests that look under the store's API (counts, tampering)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from mloop.storage.sql.store import SqlStore


def scalar(store: SqlStore, sql: str, **params: Any) -> Any:
    """The single value a raw query returns."""
    with store.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def execute(store: SqlStore, sql: str, **params: Any) -> None:
    """Run a raw statement in a transaction of its own."""
    with store.engine.begin() as conn:
        conn.execute(text(sql), params)


def metric_rows(store: SqlStore, run_id: str) -> int:
    """How many metric points a run has stored, summed over its metric chunks."""
    return int(
        scalar(
            store,
            "SELECT coalesce(sum(m.n_points), 0) FROM metric_chunks m "
            "JOIN runs r ON r.id = m.run_id WHERE r.run_uuid = :u",
            u=run_id,
        )
    )
