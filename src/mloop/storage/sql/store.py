"""The SQL store: one engine, the per-aggregate stores on it, and its lifecycle."""

from __future__ import annotations

import os

from sqlalchemy import Engine

from mloop.storage.sql.artifacts import SqlArtifactStore
from mloop.storage.sql.audit import SqlAuditStore
from mloop.storage.sql.auth import SqlAuthStore
from mloop.storage.sql.bootstrap import ensure_schema, upgrade
from mloop.storage.sql.datasets import SqlDatasetStore
from mloop.storage.sql.deployments import SqlDeploymentStore
from mloop.storage.sql.engine import make_engine, redact, with_retries
from mloop.storage.sql.experiments import SqlExperimentStore
from mloop.storage.sql.logged_models import SqlLoggedModelStore
from mloop.storage.sql.registry import SqlModelRegistryStore
from mloop.storage.sql.runs import SqlRunStore
from mloop.storage.sql.validation_reports import SqlValidationReportStore


class SqlStore:
    """Metadata in SQLite or PostgreSQL.

    Args:
        url: `sqlite:///PATH` or `postgresql://...`.
        artifact_root: URI under which experiments keep their artifacts.
        create: create the schema when the database is empty (otherwise only check it).

    Raises:
        SchemaOutdatedError: the database needs `mloop db upgrade`.
        ConfigurationError: the URL cannot be used.
    """

    def __init__(self, url: str, *, artifact_root: str, create: bool = True) -> None:
        self.url = url
        self.artifact_root = artifact_root
        self._pid = os.getpid()
        self.engine: Engine = make_engine(url)
        if create:
            uri = redact(url)
            # Through `with_retries`, so a store being created by another process is waited for
            # and a database that cannot be opened is a StorageError, not a driver error.
            with_retries(
                lambda: ensure_schema(self.engine, artifact_root=artifact_root, uri=uri),
                what=f"opening the store at {uri}",
            )
        self.experiments = SqlExperimentStore(self.engine, artifact_root=artifact_root)
        self.runs = SqlRunStore(self.engine)
        self.audit = SqlAuditStore(self.engine)
        self.artifacts = SqlArtifactStore(self.engine, artifact_root=artifact_root)
        self.registry = SqlModelRegistryStore(self.engine)
        self.datasets = SqlDatasetStore(self.engine)
        self.auth = SqlAuthStore(self.engine)
        self.logged_models = SqlLoggedModelStore(self.engine)
        self.deployments = SqlDeploymentStore(self.engine)
        self.validation_reports = SqlValidationReportStore(self.engine)

    def upgrade(self) -> tuple[str | None, str]:
        """Migrate the database to the current schema; returns the revisions before and after."""
        return upgrade(self.engine, artifact_root=self.artifact_root)

    def after_fork(self) -> None:
        """Drop connections inherited from a parent process without closing them under it."""
        if os.getpid() != self._pid:
            self.engine.dispose(close=False)
            self._pid = os.getpid()

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
