"""Create a fresh store at the head revision, check an existing one, upgrade an old one.

A fresh store is made with `create_all` and stamped with `HEAD_REVISION`, without importing
Alembic (which costs more than the whole creation). Only `upgrade` imports Alembic.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection

from mloop.entities.clock import now_ms
from mloop.errors import SchemaOutdatedError, StorageError
from mloop.storage.sql import schema
from mloop.storage.sql.engine import write_transaction
from mloop.storage.sql.schema import HEAD_REVISION

# Alembic's own bookkeeping table, declared apart from the application metadata, exactly as
# Alembic creates it (primary key name included) so created and upgraded stores are identical.
_version_metadata = MetaData()
alembic_version = Table(
    "alembic_version",
    _version_metadata,
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)

# Any fixed number: serialises schema creation and migration across processes on PostgreSQL.
_PG_MIGRATION_LOCK = 0x6D6C6F6F70

DEFAULT_EXPERIMENT_ID = 0
DEFAULT_EXPERIMENT_NAME = "Default"


def current_revision(conn: Connection) -> str | None:
    """The revision a store is at, or None when it has no version table."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(select(alembic_version.c.version_num)).scalar_one_or_none()


def ensure_schema(engine: Engine, *, artifact_root: str, uri: str) -> None:
    """Make sure the store is usable: create it at head when empty, refuse an outdated one.

    Raises:
        SchemaOutdatedError: the store is at an older (or unknown) revision.
    """
    with engine.connect() as conn:
        found = current_revision(conn)
    if found == HEAD_REVISION:
        return
    if found is not None:
        raise SchemaOutdatedError(found, HEAD_REVISION, uri=uri)
    with write_transaction(engine) as conn:
        _lock_for_migration(conn)
        found = current_revision(conn)  # another process may have created it meanwhile
        if found is None:
            _create_at_head(conn, artifact_root=artifact_root, uri=uri)
        elif found != HEAD_REVISION:
            raise SchemaOutdatedError(found, HEAD_REVISION, uri=uri)


def _lock_for_migration(conn: Connection) -> None:
    # SQLite: the write transaction already excludes other writers.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})


def _create_at_head(conn: Connection, *, artifact_root: str, uri: str) -> None:
    existing = set(inspect(conn).get_table_names()) & set(schema.metadata.tables)
    if existing:
        raise StorageError(
            f"the database at {uri} has mloop tables ({', '.join(sorted(existing))}) but no "
            "schema revision; it was not made by mloop's store creation. Point "
            "MLOOP_TRACKING_URI at an empty database or at an mloop store"
        )
    # No table exists (checked above), so skip `create_all`'s one existence query per table.
    schema.metadata.create_all(conn, checkfirst=False)
    _version_metadata.create_all(conn, checkfirst=False)
    conn.execute(alembic_version.insert().values(version_num=HEAD_REVISION))
    insert_default_experiment(conn, artifact_root=artifact_root)


def insert_default_experiment(conn: Connection, *, artifact_root: str) -> None:
    """Insert experiment 0, "Default", as MLflow has it."""
    stamp = now_ms()
    conn.execute(
        schema.experiments.insert().values(
            experiment_id=DEFAULT_EXPERIMENT_ID,
            name=DEFAULT_EXPERIMENT_NAME,
            artifact_location=f"{artifact_root.rstrip('/')}/{DEFAULT_EXPERIMENT_ID}",
            lifecycle_stage="active",
            creation_time=stamp,
            last_update_time=stamp,
        )
    )


def upgrade(engine: Engine, *, artifact_root: str) -> tuple[str | None, str]:
    """Bring a store to the head revision with Alembic, one process at a time.

    Returns:
        The revision before and after.
    """
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent.parent / "migrations"))
    config.attributes["mloop_artifact_root"] = artifact_root
    with _migration_connection(engine) as conn:
        before = current_revision(conn)
        conn.commit()  # end the autobegun read so Alembic runs its own transaction
        config.attributes["connection"] = conn
        try:
            command.upgrade(config, "head")
        except CommandError as exc:
            raise StorageError(
                f"cannot upgrade this store from revision {before!r}: {exc}; it was made by a "
                "newer or unknown mloop, so use that version (or restore a backup)"
            ) from exc
        conn.commit()
        after = current_revision(conn)
        conn.commit()
    return before, after or HEAD_REVISION


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            conn.commit()
        try:
            yield conn
        finally:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATION_LOCK})
                conn.commit()
