"""Reading deployments: row lookups and entities built from the current and past revisions."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.engine import Connection

from mloop.entities.deployments import Deployment, DeploymentRevision, Route, Target
from mloop.errors import (
    DeploymentNotFoundError,
    DeploymentRevisionNotFoundError,
    TargetInUseError,
)
from mloop.storage.sql.schema_deployments import deployment_revisions, deployments

_d = deployments
_r = deployment_revisions
# Each deployment joined with its current revision.
_CURRENT = _d.join(_r, (_r.c.deployment_id == _d.c.id) & (_r.c.revision == _d.c.revision))


@dataclass(frozen=True, slots=True)
class Config:
    """What a revision holds: the part of a deployment a change or rollback sets."""

    model: str
    routes: tuple[Route, ...]
    shadows: tuple[Target, ...]
    sticky_key: str | None
    description: str

    def facts(self) -> dict[str, Any]:
        """The configuration as JSON-able facts, for the audit log and the revision row."""
        return {
            "model": self.model,
            "routes": [{"target": r.target.text, "weight": r.weight} for r in self.routes],
            "shadows": [s.text for s in self.shadows],
            "sticky_key": self.sticky_key,
            "description": self.description,
        }


_COLUMNS = (
    _d.c.name,
    _d.c.revision,
    _d.c.created_at_ms,
    _d.c.created_by,
    _r.c.at_ms,
    _r.c.actor,
    _r.c.model,
    _r.c.routes,
    _r.c.shadows,
    _r.c.sticky_key,
    _r.c.description,
)


def load_deployment(conn: Connection, name: str, *, lock: bool = False) -> Deployment:
    """A deployment's current configuration; with `lock`, its row is locked first.

    Raises:
        DeploymentNotFoundError: no such deployment.
    """
    if lock:
        # Lock the deployment's row first, so concurrent writers of it queue up here.
        id_of(conn, name, lock=True)
    row = conn.execute(select(*_COLUMNS).select_from(_CURRENT).where(_d.c.name == name)).first()
    if row is None:
        raise DeploymentNotFoundError(name)
    return _deployment(row)


def revision_row(conn: Connection, name: str, number: int) -> Row[Any]:
    """One revision's row.

    Raises:
        DeploymentNotFoundError: no such deployment.
        DeploymentRevisionNotFoundError: it has no such revision.
    """
    row = None
    if 0 < number < 2**31:
        row = conn.execute(
            select(_r).where(_r.c.deployment_id == id_of(conn, name), _r.c.revision == number)
        ).one_or_none()
    if row is None:
        raise DeploymentRevisionNotFoundError(name, number)
    return row


def id_of(conn: Connection, name: str, *, lock: bool = False) -> int:
    """A deployment's row id; with `lock`, its row is locked (PostgreSQL) for the transaction.

    Raises:
        DeploymentNotFoundError: no such deployment.
    """
    query = select(_d.c.id).where(_d.c.name == name)
    if lock:
        query = query.with_for_update()
    found = conn.execute(query).scalar_one_or_none()
    if found is None:
        raise DeploymentNotFoundError(name)
    return int(found)


def list_deployments(conn: Connection, *, model: str | None = None) -> list[Deployment]:
    """Every deployment (of one model when given), by name."""
    query = select(*_COLUMNS).select_from(_CURRENT).order_by(_d.c.name)
    if model is not None:
        query = query.where(_r.c.model == model)
    return [_deployment(row) for row in conn.execute(query)]


def deployments_using(
    conn: Connection, model: str, targets: Iterable[Target] | None = None
) -> list[str]:
    """The deployments whose current configuration serves `model` (through one of `targets`).

    Args:
        conn: the connection.
        model: the registered model's name.
        targets: only deployments that route to or shadow one of these; None for any.
    """
    wanted = None if targets is None else set(targets)
    return [
        d.name
        for d in list_deployments(conn, model=model)
        if wanted is None or wanted.intersection(d.targets)
    ]


def list_revisions(conn: Connection, name: str) -> list[DeploymentRevision]:
    """Every revision of a deployment, oldest first.

    Raises:
        DeploymentNotFoundError: no such deployment.
    """
    rows = conn.execute(
        select(_r).where(_r.c.deployment_id == id_of(conn, name)).order_by(_r.c.revision)
    )
    return [revision_entity(name, row) for row in rows]


def _deployment(row: Any) -> Deployment:
    return Deployment(
        name=row.name,
        model=row.model,
        routes=_routes(row.routes),
        shadows=_shadows(row.shadows),
        sticky_key=row.sticky_key,
        description=row.description,
        revision=row.revision,
        created_at_ms=row.created_at_ms,
        created_by=row.created_by,
        updated_at_ms=row.at_ms,
        updated_by=row.actor,
    )


def revision_entity(name: str, row: Row[Any]) -> DeploymentRevision:
    """The entity of one revision row."""
    return DeploymentRevision(
        name=name,
        revision=row.revision,
        action=row.action,
        actor=row.actor,
        at_ms=row.at_ms,
        model=row.model,
        routes=_routes(row.routes),
        shadows=_shadows(row.shadows),
        sticky_key=row.sticky_key,
        description=row.description,
        restored_from=row.restored_from,
    )


def config_of(item: Deployment | DeploymentRevision) -> Config:
    """The configuration a deployment or revision holds."""
    return Config(item.model, item.routes, item.shadows, item.sticky_key, item.description)


def _routes(text: str) -> tuple[Route, ...]:
    return tuple(Route(Target.parse(r["target"]), int(r["weight"])) for r in json.loads(text))


def _shadows(text: str) -> tuple[Target, ...]:
    return tuple(Target.parse(s) for s in json.loads(text))


def check_unused(conn: Connection, model: str, targets: Iterable[Target] | None) -> None:
    """Refuse a registry delete that would leave a deployment without a version to serve.

    Raises:
        TargetInUseError: deployments serve `model` through one of `targets` (any, when None).
    """
    chosen = None if targets is None else list(targets)
    users = deployments_using(conn, model, chosen)
    if users:
        what = "" if not chosen else chosen[0].text
        raise TargetInUseError(model, what, users)
