"""The SQL store: one engine, the per-aggregate stores on it, and its lifecycle."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from mloop.storage.sql.bootstrap import ensure_schema, upgrade
from mloop.storage.sql.engine import make_engine, redact, with_retries
from mloop.storage.sql.experiments import SqlExperimentStore
from mloop.storage.sql.runs import SqlRunStore

if TYPE_CHECKING:
    from mloop.storage.sql.artifacts import SqlArtifactStore
    from mloop.storage.sql.audit import SqlAuditStore
    from mloop.storage.sql.auth import SqlAuthStore
    from mloop.storage.sql.datasets import SqlDatasetStore
    from mloop.storage.sql.deployments import SqlDeploymentStore
    from mloop.storage.sql.logged_models import SqlLoggedModelStore
    from mloop.storage.sql.registry import SqlModelRegistryStore
    from mloop.storage.sql.validation_reports import SqlValidationReportStore


class SqlStore:
    """Metadata in SQLite or PostgreSQL.

    Experiments and runs are ready when the store opens; the other aggregates (artifacts,
    registry, datasets ...) import their modules on first use, which keeps opening a store in a
    fresh process cheap for scripts that only track runs.

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
        self.experiments = SqlExperimentStore(self.engine, artifact_root=artifact_root)
        self.runs = SqlRunStore(self.engine)
        if create:
            self.ensure_schema()

    def ensure_schema(self) -> None:
        """Create the schema when the database is empty; otherwise check its revision.

        Raises:
            SchemaOutdatedError: the database needs `mloop db upgrade`.
            StorageError: the database cannot be opened.
        """
        uri = redact(self.url)
        # Through `with_retries`, so a store being created by another process is waited for
        # and a database that cannot be opened is a StorageError, not a driver error.
        with_retries(
            lambda: ensure_schema(self.engine, artifact_root=self.artifact_root, uri=uri),
            what=f"opening the store at {uri}",
        )

    @property
    def over_the_network(self) -> bool:
        """Whether every statement is a network round trip (PostgreSQL), not a local call."""
        return self.engine.dialect.name != "sqlite"

    @cached_property
    def audit(self) -> SqlAuditStore:
        """The append-only audit log."""
        from mloop.storage.sql.audit import SqlAuditStore

        return SqlAuditStore(self.engine)

    @cached_property
    def artifacts(self) -> SqlArtifactStore:
        """Run and logged-model artifacts on the blob store at the artifact root."""
        from mloop.storage.sql.artifacts import SqlArtifactStore

        return SqlArtifactStore(self.engine, artifact_root=self.artifact_root)

    @cached_property
    def registry(self) -> SqlModelRegistryStore:
        """Registered models, versions, aliases and approvals."""
        from mloop.storage.sql.registry import SqlModelRegistryStore

        return SqlModelRegistryStore(self.engine)

    @cached_property
    def datasets(self) -> SqlDatasetStore:
        """Dataset versions and their lineage."""
        from mloop.storage.sql.datasets import SqlDatasetStore

        return SqlDatasetStore(self.engine)

    @cached_property
    def auth(self) -> SqlAuthStore:
        """Users, API tokens and roles."""
        from mloop.storage.sql.auth import SqlAuthStore

        return SqlAuthStore(self.engine)

    @cached_property
    def logged_models(self) -> SqlLoggedModelStore:
        """MLflow 3 logged models."""
        from mloop.storage.sql.logged_models import SqlLoggedModelStore

        return SqlLoggedModelStore(self.engine)

    @cached_property
    def validation_reports(self) -> SqlValidationReportStore:
        """Validation reports of model versions (the gates' verdicts)."""
        from mloop.storage.sql.validation_reports import SqlValidationReportStore

        return SqlValidationReportStore(self.engine)

    @cached_property
    def deployments(self) -> SqlDeploymentStore:
        """Deployments: traffic splits between model versions, with their history."""
        from mloop.storage.sql.deployments import SqlDeploymentStore

        return SqlDeploymentStore(self.engine)

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


def open_in_background(url: str, *, artifact_root: str) -> Callable[[], SqlStore]:
    """Start opening a store, its database work in a thread, and return what waits for it.

    The engine is made here (importing the driver, in the caller's thread); connecting and
    checking the schema, or creating it in an empty database, run in a thread that mostly waits
    for the database (a fresh PostgreSQL store is ~60 statements and a commit, ~0.1 s), while
    the caller goes on with other work, such as a server building its routes.

    Returns:
        A function that waits for the store and returns it, or raises what opening raised
        (`SchemaOutdatedError`, `StorageError`), the store closed.

    Raises:
        ConfigurationError: the URL cannot be used.
    """
    store = SqlStore(url, artifact_root=artifact_root, create=False)
    failed: list[BaseException] = []

    def check() -> None:
        try:
            store.ensure_schema()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread, raised there
            failed.append(exc)

    thread = threading.Thread(target=check, name="mloop-store-open", daemon=True)
    thread.start()

    def opened() -> SqlStore:
        thread.join()
        if failed:
            store.close()
            raise failed[0]
        return store

    return opened
