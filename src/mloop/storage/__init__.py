"""Metadata storage: the store protocols and the SQL implementation (SQLite, PostgreSQL).

This is the only package that imports SQLAlchemy; it is imported lazily by `open_store`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mloop.storage.protocols import ArtifactStore as ArtifactStore
from mloop.storage.protocols import AuditStore as AuditStore
from mloop.storage.protocols import DatasetStore as DatasetStore
from mloop.storage.protocols import ExperimentStore as ExperimentStore
from mloop.storage.protocols import RunStore as RunStore
from mloop.storage.protocols import Store as Store
from mloop.storage.protocols import create_started as create_started

if TYPE_CHECKING:
    from mloop.storage.rest import RestStore
    from mloop.storage.sql.store import SqlStore

__all__ = [
    "ArtifactStore",
    "AuditStore",
    "DatasetStore",
    "ExperimentStore",
    "RunStore",
    "Store",
    "create_started",
    "open_store",
]


def open_store(
    tracking_uri: str, *, artifact_root: str, create: bool = True, token: str | None = None
) -> SqlStore | RestStore:
    """Open the metadata store a tracking URI names.

    Args:
        tracking_uri: `sqlite:///PATH`, `postgresql://...`, or `http(s)://HOST:PORT` for a
            remote `mloop server`.
        artifact_root: URI under which artifacts of new experiments go (a server decides this
            itself).
        create: create an empty database's schema and check an existing one's revision (True),
            or do neither (False; `mloop db upgrade` opens stores this way to migrate them).
        token: API token for a server with authentication on (`MLOOP_TRACKING_TOKEN`).

    Returns:
        The store.

    Raises:
        ConfigurationError: the URI is not supported.
        SchemaOutdatedError: the store needs `mloop db upgrade`.
    """
    if tracking_uri.startswith(("http://", "https://")):
        from mloop.storage.rest import RestStore

        return RestStore(tracking_uri, token=token)
    from mloop.storage.sql.store import SqlStore

    return SqlStore(tracking_uri, artifact_root=artifact_root, create=create)
