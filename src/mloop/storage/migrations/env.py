"""Alembic environment: runs migrations on the connection `bootstrap.upgrade` hands over."""

from __future__ import annotations

from alembic import context

from mloop.storage.sql.schema import metadata

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite can only ALTER through table copies
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
