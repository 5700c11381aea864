"""Deployments over `/api/v1/deployments`: create, read, change, roll back, history."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mloop.entities.deployments import (
    Deployment,
    DeploymentRevision,
    Route,
    Target,
    normalize_routes,
    validate_deployment_name,
)
from mloop.errors import DeploymentNotFoundError
from mloop.storage.rest.transport import Transport

_BASE = "/api/v1/deployments"


class RestDeploymentStore:
    """The deployments of a remote `mloop server`; the server records the actor of each change.

    Args:
        transport: the HTTP client of the server.
    """

    def __init__(self, transport: Transport) -> None:
        self._http = transport

    def create(
        self,
        name: str,
        model: str,
        *,
        routes: Sequence[Route] | Mapping[str, int],
        actor: str,
        shadows: Iterable[Target | str] = (),
        sticky_key: str | None = None,
        description: str = "",
    ) -> Deployment:
        """Create a deployment at revision 1 (see `SqlDeploymentStore.create`)."""
        body = {
            "name": validate_deployment_name(name),
            "model": model,
            "routes": _routes(routes),
            "shadows": [Target.parse(s).text for s in shadows],
            "sticky_key": sticky_key,
            "description": description,
        }
        return _deployment(self._http.request("POST", _BASE, body=body, params={"actor": actor}))

    def get(self, name: str) -> Deployment:
        """The deployment's current configuration.

        Raises:
            DeploymentNotFoundError: no such deployment.
        """
        return _deployment(self._http.request("GET", _path(name)))

    def find(self, name: str) -> Deployment | None:
        """The deployment's current configuration, or None."""
        try:
            return self.get(name)
        except DeploymentNotFoundError:
            return None

    def history(self, name: str) -> builtins.list[DeploymentRevision]:
        """Every revision of a deployment, oldest first."""
        data = self._http.request("GET", f"{_path(name)}/history")
        return [_revision(name, r) for r in data["revisions"]]

    def list(self, *, model: str | None = None) -> builtins.list[Deployment]:
        """Every deployment (of one model when `model` is given), by name."""
        params = None if model is None else {"model": model}
        data = self._http.request("GET", _BASE, params=params)
        return [_deployment(d) for d in data["deployments"]]

    def update(
        self,
        name: str,
        *,
        actor: str,
        model: str | None = None,
        routes: Sequence[Route] | Mapping[str, int] | None = None,
        shadows: Iterable[Target | str] | None = None,
        sticky_key: str | None = None,
        description: str | None = None,
    ) -> Deployment:
        """Change a deployment (see `SqlDeploymentStore.update`)."""
        body: dict[str, Any] = {}
        if model is not None:
            body["model"] = model
        if routes is not None:
            body["routes"] = _routes(routes)
        if shadows is not None:
            body["shadows"] = [Target.parse(s).text for s in shadows]
        if sticky_key is not None:
            body["sticky_key"] = sticky_key
        if description is not None:
            body["description"] = description
        data = self._http.request("PATCH", _path(name), body=body, params={"actor": actor})
        return _deployment(data)

    def rollback(
        self,
        name: str,
        *,
        actor: str,
        to_revision: int | None = None,
        from_revision: int | None = None,
    ) -> Deployment:
        """Return to an earlier configuration (see `SqlDeploymentStore.rollback`).

        The request names the revision it rolls back from (the current one unless given), so
        the transport's retry of a request whose answer was lost does not roll back twice.
        """
        if from_revision is None:
            from_revision = self.get(name).revision
        body = {"to_revision": to_revision, "from_revision": from_revision}
        data = self._http.request(
            "POST", f"{_path(name)}/rollback", body=body, params={"actor": actor}
        )
        return _deployment(data)

    def delete(self, name: str, *, actor: str) -> None:
        """Delete a deployment with its revisions (see `SqlDeploymentStore.delete`)."""
        self._http.request("DELETE", _path(name), params={"actor": actor})


def _path(name: str) -> str:
    # Checked here: a name with `/` must never address another route.
    return f"{_BASE}/{validate_deployment_name(name)}"


def _routes(routes: Sequence[Route] | Mapping[str, int]) -> list[dict[str, Any]]:
    return [{"target": r.target.text, "weight": r.weight} for r in normalize_routes(routes)]


def _parse_routes(items: list[dict[str, Any]]) -> tuple[Route, ...]:
    return tuple(Route(Target.parse(r["target"]), int(r["weight"])) for r in items)


def _deployment(data: dict[str, Any]) -> Deployment:
    return Deployment(
        name=data["name"],
        model=data["model"],
        routes=_parse_routes(data["routes"]),
        shadows=tuple(Target.parse(s) for s in data["shadows"]),
        sticky_key=data["sticky_key"],
        description=data["description"],
        revision=data["revision"],
        created_at_ms=data["created_at_ms"],
        created_by=data["created_by"],
        updated_at_ms=data["updated_at_ms"],
        updated_by=data["updated_by"],
    )


def _revision(name: str, data: dict[str, Any]) -> DeploymentRevision:
    return DeploymentRevision(
        name=name,
        revision=data["revision"],
        action=data["action"],
        actor=data["actor"],
        at_ms=data["at_ms"],
        model=data["model"],
        routes=_parse_routes(data["routes"]),
        shadows=tuple(Target.parse(s) for s in data["shadows"]),
        sticky_key=data["sticky_key"],
        description=data["description"],
        restored_from=data["restored_from"],
    )
