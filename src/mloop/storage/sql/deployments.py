"""SQL implementation of deployments: every configuration kept, every change audited.

A change locks the deployment's row, checks the new configuration against the registry in the
same transaction, adds a revision row and appends its audit event there, so the log holds
exactly the changes that committed.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import Engine, delete, update
from sqlalchemy.engine import Connection

from mloop.entities.clock import now_ms
from mloop.entities.deployments import (
    Deployment,
    DeploymentRevision,
    Route,
    Target,
    normalize_routes,
    normalize_shadows,
    validate_deployment_name,
    validate_sticky_key,
)
from mloop.entities.registry import validate_description, validate_model_name
from mloop.errors import (
    DeploymentAlreadyExistsError,
    DeploymentNotFoundError,
    InvalidInputError,
    InvalidStateError,
    MloopError,
    NothingToRollBackError,
)
from mloop.storage.sql.audit import append_event
from mloop.storage.sql.deployment_rows import (
    Config,
    config_of,
    id_of,
    list_deployments,
    list_revisions,
    load_deployment,
    revision_entity,
    revision_row,
)
from mloop.storage.sql.dialect import insert_ignore
from mloop.storage.sql.engine import read_transaction, write_with_retries
from mloop.storage.sql.registry_rows import alias_version, model_row, version_row
from mloop.storage.sql.schema_deployments import deployment_revisions, deployments

T = TypeVar("T")
_d = deployments
_r = deployment_revisions


class SqlDeploymentStore:
    """Deployments in a SQLite or PostgreSQL database.

    Args:
        engine: the database engine.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _write(self, operation: Callable[[Connection], T], *, what: str) -> T:
        return write_with_retries(self._engine, operation, what=what)

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
        """Create a deployment at revision 1.

        Args:
            name: its name, a DNS label such as "churn-api".
            model: the registered model it serves.
            routes: the traffic split, e.g. `{"champion": 90, "challenger": 10}`.
            actor: who creates it (recorded in the audit log).
            shadows: targets that get a copy of the traffic, e.g. `["@candidate"]`.
            sticky_key: request header or field that pins a caller to a route.
            description: free text.

        Raises:
            DeploymentAlreadyExistsError: the name is taken.
            InvalidInputError: a field is malformed, or the weights do not sum to 100.
            ModelNotFoundError, ModelVersionNotFoundError, AliasNotFoundError: a target names
                nothing in the registry.
        """
        validate_deployment_name(name)
        checked_routes = normalize_routes(routes)
        config = Config(
            model=validate_model_name(model),
            routes=checked_routes,
            shadows=normalize_shadows(shadows, checked_routes),
            sticky_key=validate_sticky_key(sticky_key),
            description=validate_description(description),
        )

        def run(conn: Connection) -> Deployment:
            _check_registry(conn, name, config)
            stamp = now_ms()
            deployment_id = conn.execute(
                insert_ignore(conn, _d)
                .values(name=name, revision=1, created_at_ms=stamp, created_by=actor)
                .returning(_d.c.id)
            ).scalar_one_or_none()
            if deployment_id is None:
                existing = load_deployment(conn, name)
                # The same creation again (a retry whose answer was lost) is a no-op.
                if existing.revision == 1 and config_of(existing) == config:
                    return existing
                raise DeploymentAlreadyExistsError(name)
            _add_revision(
                conn, name, deployment_id, 1, config, action="create", actor=actor, at_ms=stamp
            )
            return load_deployment(conn, name)

        return self._write(run, what=f"creating deployment {name!r}")

    def get(self, name: str) -> Deployment:
        """The deployment's current configuration.

        Raises:
            DeploymentNotFoundError: no such deployment.
        """
        with read_transaction(self._engine) as conn:
            return load_deployment(conn, name)

    def find(self, name: str) -> Deployment | None:
        """The deployment's current configuration, or None when there is none of this name."""
        try:
            return self.get(name)
        except DeploymentNotFoundError:
            return None

    def list(self, *, model: str | None = None) -> builtins.list[Deployment]:
        """Every deployment (of one model when `model` is given), by name."""
        with read_transaction(self._engine) as conn:
            return list_deployments(conn, model=model)

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
        """Change a deployment; what is None stays as it is. Makes a new revision.

        `sticky_key=""` turns sticky routing off. When new routes take a target that was a
        shadow and `shadows` is not given, that target stops being a shadow. An update that
        changes nothing records nothing and returns the deployment as it is.

        Raises:
            DeploymentNotFoundError: no such deployment.
            InvalidInputError: a field is malformed, or the weights do not sum to 100.
            ModelNotFoundError, ModelVersionNotFoundError, AliasNotFoundError: a target names
                nothing in the registry.
        """
        new_routes = normalize_routes(routes) if routes is not None else None
        new_shadows = tuple(Target.parse(s) for s in shadows) if shadows is not None else None
        fields: dict[str, Any] = {}
        if model is not None:
            fields["model"] = validate_model_name(model)
        if sticky_key is not None:
            fields["sticky_key"] = validate_sticky_key(sticky_key)
        if description is not None:
            fields["description"] = validate_description(description)

        def run(conn: Connection) -> Deployment:
            current = load_deployment(conn, name, lock=True)
            config = replace(config_of(current), **fields)
            if new_routes is not None:
                config = replace(config, routes=new_routes)
                if new_shadows is None:
                    live = {r.target for r in new_routes}
                    config = replace(
                        config, shadows=tuple(s for s in config.shadows if s not in live)
                    )
            if new_shadows is not None:
                config = replace(config, shadows=new_shadows)
            config = replace(config, shadows=normalize_shadows(config.shadows, config.routes))
            if config == config_of(current):
                return current
            return _change(conn, current, config, action="update", actor=actor)

        return self._write(run, what=f"updating deployment {name!r}")

    def rollback(
        self,
        name: str,
        *,
        actor: str,
        to_revision: int | None = None,
        from_revision: int | None = None,
    ) -> Deployment:
        """Return to an earlier configuration, as a new revision equal to it.

        By default the configuration of the revision before the current one, so rolling back
        twice returns to where it started (as `kubectl rollout undo` does).

        Args:
            name: the deployment.
            actor: who rolls back (recorded in the audit log).
            to_revision: the revision whose configuration to restore.
            from_revision: roll back only if this is the current revision. When the current
                revision is the rollback of `from_revision` this call would make, it is
                returned as it is, so a retried request does not roll back twice.

        Raises:
            DeploymentNotFoundError: no such deployment.
            DeploymentRevisionNotFoundError: `to_revision` does not exist.
            NothingToRollBackError: the deployment has only its first revision.
            InvalidStateError: another change came after `from_revision`.
            ModelNotFoundError, ModelVersionNotFoundError, AliasNotFoundError: the earlier
                configuration names something the registry no longer has.
        """
        for value, label in ((to_revision, "to_revision"), (from_revision, "from_revision")):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise InvalidInputError(
                    f"{label} must be a revision number such as 3, got {value!r}", field=label
                )

        def run(conn: Connection) -> Deployment:
            current = load_deployment(conn, name, lock=True)
            if from_revision is not None and current.revision != from_revision:
                return _retried_rollback(conn, current, from_revision, to_revision)
            if to_revision is None and current.revision == 1:
                raise NothingToRollBackError(name)
            wanted = current.revision - 1 if to_revision is None else to_revision
            row = revision_row(conn, name, wanted)
            config = config_of(revision_entity(name, row))
            return _change(
                conn, current, config, action="rollback", actor=actor, restored_from=wanted
            )

        return self._write(run, what=f"rolling back deployment {name!r}")

    def delete(self, name: str, *, actor: str) -> None:
        """Delete a deployment with its revisions; the audit log keeps its whole story.

        Raises:
            DeploymentNotFoundError: no such deployment.
        """

        def run(conn: Connection) -> None:
            current = load_deployment(conn, name, lock=True)
            conn.execute(delete(_d).where(_d.c.name == name))
            append_event(
                conn,
                actor=actor,
                action="deployment.delete",
                entity=("deployment", name),
                details={"revision": current.revision, **config_of(current).facts()},
            )

        self._write(run, what=f"deleting deployment {name!r}")

    def history(self, name: str) -> builtins.list[DeploymentRevision]:
        """Every revision of a deployment, oldest first.

        Raises:
            DeploymentNotFoundError: no such deployment.
        """
        with read_transaction(self._engine) as conn:
            return list_revisions(conn, name)


def _retried_rollback(
    conn: Connection, current: Deployment, from_revision: int, to_revision: int | None
) -> Deployment:
    """The current deployment when it is the rollback of `from_revision` asked again.

    Raises:
        InvalidStateError: it is not: the deployment changed since `from_revision`.
    """
    if current.revision == from_revision + 1:
        head = revision_entity(current.name, revision_row(conn, current.name, current.revision))
        wanted = from_revision - 1 if to_revision is None else to_revision
        if head.action == "rollback" and head.restored_from == wanted:
            return current
    raise InvalidStateError(
        f"deployment {current.name!r} is at revision {current.revision}, not {from_revision}: "
        f"it changed since; see `mloop deploy history {current.name}` and roll back again"
    )


def _change(
    conn: Connection,
    current: Deployment,
    config: Config,
    *,
    action: str,
    actor: str,
    restored_from: int | None = None,
) -> Deployment:
    """Record `config` as the next revision of `current` (its row is locked by the caller)."""
    _check_registry(conn, current.name, config)
    number = current.revision + 1
    deployment_id = id_of(conn, current.name)
    conn.execute(update(_d).where(_d.c.id == deployment_id).values(revision=number))
    _add_revision(
        conn,
        current.name,
        deployment_id,
        number,
        config,
        action=action,
        actor=actor,
        restored_from=restored_from,
    )
    return load_deployment(conn, current.name)


def _add_revision(
    conn: Connection,
    name: str,
    deployment_id: int,
    number: int,
    config: Config,
    *,
    action: str,
    actor: str,
    restored_from: int | None = None,
    at_ms: int | None = None,
) -> None:
    facts = config.facts()
    conn.execute(
        _r.insert().values(
            deployment_id=deployment_id,
            revision=number,
            action=action,
            actor=actor,
            at_ms=now_ms() if at_ms is None else at_ms,
            model=config.model,
            routes=json.dumps(facts["routes"]),
            shadows=json.dumps(facts["shadows"]),
            sticky_key=config.sticky_key,
            description=config.description,
            restored_from=restored_from,
        )
    )
    details = {"revision": number, **facts}
    if restored_from is not None:
        details["restored_from"] = restored_from
    append_event(
        conn,
        actor=actor,
        action=f"deployment.{action}",
        entity=("deployment", name),
        details=details,
    )


def _check_registry(conn: Connection, name: str, config: Config) -> None:
    """Every target must name something in the registry now (aliases are resolved later).

    Raises:
        ModelNotFoundError, ModelVersionNotFoundError, AliasNotFoundError: one does not, with a
            note naming the deployment and the target.
    """
    target: Target | None = None
    try:
        # Locked, so the aliases checked cannot be deleted before this commits.
        model_id = model_row(conn, config.model, lock=True).id
        for target in (*(r.target for r in config.routes), *config.shadows):
            if target.alias is not None:
                alias_version(conn, model_id, config.model, target.alias)
            else:
                version_row(conn, model_id, config.model, int(target.version or 0))
    except MloopError as exc:
        what = f"target {target}" if target is not None else f"model {config.model!r}"
        exc.add_note(f"(in deployment {name!r}: {what})")
        raise
