"""Model versions registered, changed and deleted inside the caller's write transaction.

Each function appends its audit event in that transaction, so the log holds exactly the changes
that committed (the store's methods validate the arguments and open the transaction).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from mloop.entities import ModelVersion
from mloop.entities.clock import now_ms
from mloop.entities.deployments import Target
from mloop.errors import AliasInUseError, RunNotFoundError
from mloop.storage.sql import registry_tags, schema
from mloop.storage.sql.audit import append_event
from mloop.storage.sql.deployment_rows import check_unused
from mloop.storage.sql.dialect import insert_ignore
from mloop.storage.sql.registry_rows import (
    aliases_of_version,
    model_row,
    touch_model,
    version_entity,
    version_row,
)
from mloop.storage.sql.schema_registry import model_version_tags, model_versions, registered_models

_models = registered_models
_versions = model_versions


def create_version(
    conn: Connection,
    name: str,
    fields: dict[str, Any],
    tags: dict[str, str],
    *,
    actor: str,
) -> ModelVersion:
    """Register the next version of `name` (creating the model) from checked `fields` and tags.

    Raises:
        RunNotFoundError: `fields["run_id"]` names no run.
    """
    run_id = fields["run_id"]
    if run_id is not None and not _run_exists(conn, run_id):
        raise RunNotFoundError(run_id)
    created = insert_model(conn, name, "") is not None
    stamp = now_ms()
    model_id, number = conn.execute(
        update(_models)
        .where(_models.c.name == name)
        .values(last_version=_models.c.last_version + 1, last_updated_time=stamp)
        .returning(_models.c.id, _models.c.last_version)
    ).one()
    version_id = conn.execute(
        _versions.insert()
        .values(
            model_id=model_id,
            version=number,
            user_id=actor,
            creation_time=stamp,
            last_updated_time=stamp,
            **fields,
        )
        .returning(_versions.c.id)
    ).scalar_one()
    registry_tags.write_tags(conn, model_version_tags, "version_id", version_id, tags)
    if created:
        append_event(conn, actor=actor, action="model.create", entity=("model", name))
    details = {k: fields[k] for k in ("source", "run_id", "package_digest")}
    append_event(
        conn,
        actor=actor,
        action="model_version.create",
        entity=("model_version", f"{name}/{number}"),
        details={**details, "tags": tags},
    )
    return version_entity(conn, model_id, number)


def update_version(
    conn: Connection, name: str, number: int, *, actor: str, description: str
) -> ModelVersion:
    """Set a version's description.

    Raises:
        ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
    """
    model = model_row(conn, name, lock=True)
    row = version_row(conn, model.id, name, number)
    conn.execute(
        update(_versions)
        .where(_versions.c.id == row.id)
        .values(description=description, last_updated_time=now_ms())
    )
    touch_model(conn, model.id)
    append_event(
        conn,
        actor=actor,
        action="model_version.update",
        entity=("model_version", f"{name}/{number}"),
        details={"description": description},
    )
    return version_entity(conn, model.id, number)


def delete_version(conn: Connection, name: str, number: int, *, actor: str, force: bool) -> None:
    """Delete a version with its tags and approvals (and, with `force`, the aliases on it).

    Raises:
        ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
        AliasInUseError: aliases point at it and `force` is False.
        TargetInUseError: a deployment serves it, directly or through one of its aliases.
    """
    model = model_row(conn, name, lock=True)
    row = version_row(conn, model.id, name, number)
    aliases = aliases_of_version(conn, row.id)
    if aliases and not force:
        raise AliasInUseError(name, number, aliases)
    check_unused(conn, name, [Target(version=number), *(Target(alias=a) for a in aliases)])
    conn.execute(delete(_versions).where(_versions.c.id == row.id))
    touch_model(conn, model.id)
    append_event(
        conn,
        actor=actor,
        action="model_version.delete",
        entity=("model_version", f"{name}/{number}"),
        details={"aliases_removed": aliases},
    )


def insert_model(conn: Connection, name: str, description: str) -> int | None:
    """Insert the model row unless it exists; its id when inserted, else None."""
    stamp = now_ms()
    inserted = conn.execute(
        insert_ignore(conn, _models)
        .values(
            name=name,
            description=description,
            last_version=0,
            creation_time=stamp,
            last_updated_time=stamp,
        )
        .returning(_models.c.id)
    ).scalar_one_or_none()
    return int(inserted) if inserted is not None else None


def _run_exists(conn: Connection, run_id: str) -> bool:
    runs = schema.runs
    found = conn.execute(select(runs.c.id).where(runs.c.run_uuid == run_id)).first()
    return found is not None
