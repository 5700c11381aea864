"""The REST store: every store protocol over HTTP to `mloop server`, on one connection pool."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from mloop.errors import ConfigurationError
from mloop.storage.rest.artifacts import RestArtifactStore
from mloop.storage.rest.audit import RestAuditStore
from mloop.storage.rest.datasets import RestDatasetStore
from mloop.storage.rest.deployments import RestDeploymentStore
from mloop.storage.rest.experiments import RestExperimentStore
from mloop.storage.rest.registry import RestModelRegistryStore
from mloop.storage.rest.runs import RestRunStore
from mloop.storage.rest.transport import Transport
from mloop.storage.rest.validation_reports import RestValidationReportStore

if TYPE_CHECKING:
    from mloop.storage.protocols import (
        LoggedModelStore,
    )


class RestStore:
    """Metadata kept by a remote `mloop server` (`http://` or `https://` tracking URIs).

    Args:
        url: the server's base URL.
        token: API token sent as `Authorization: Bearer` (`MLOOP_TRACKING_TOKEN`).
        timeout_s: read timeout of one request.
        max_retries: retries of a request after connection errors, 429 and 503.
        transport: an httpx transport instead of the network (tests, embedding).
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.transport = Transport(
            self.url,
            token=token,
            timeout_s=timeout_s,
            max_retries=max_retries,
            transport=transport,
        )
        self.experiments = RestExperimentStore(self.transport)
        self.runs = RestRunStore(self.transport)
        self.audit = RestAuditStore(self.transport)
        self.artifacts = RestArtifactStore(self.transport)
        self.registry = RestModelRegistryStore(self.transport)
        self.deployments = RestDeploymentStore(self.transport)
        self.validation_reports = RestValidationReportStore(self.transport)
        self.datasets = RestDatasetStore(self.transport)

    @property
    def artifact_root(self) -> str:
        """Where the server keeps artifacts; the server decides, so this names the server."""
        return self.url

    @property
    def logged_models(self) -> LoggedModelStore:
        """Not served over REST yet.

        Raises:
            ConfigurationError: always.
        """
        raise self._not_served("logged models")

    def _not_served(self, what: str) -> ConfigurationError:
        return ConfigurationError(
            f"{what} cannot be used through an mloop server yet ({self.url}); set "
            "MLOOP_TRACKING_URI to the server's database URI to use it directly"
        )

    def upgrade(self) -> tuple[str | None, str]:
        """A server migrates its own database; this only explains how.

        Raises:
            ConfigurationError: always.
        """
        raise ConfigurationError(
            f"{self.url} is an mloop server, not a database: run `mloop db upgrade` where the "
            "server runs, with MLOOP_TRACKING_URI set to its backend URI"
        )

    def after_fork(self) -> None:
        """In a forked child: open new connections instead of sharing the parent's sockets."""
        self.transport.after_fork()

    def close(self) -> None:
        """Close the pooled connections."""
        self.transport.close()
