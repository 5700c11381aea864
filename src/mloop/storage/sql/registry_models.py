"""Registered models created, changed and deleted inside the caller's write transaction.

Each function appends its audit event in that transaction, so the log holds exactly the changes
that committed (the store's methods validate the arguments and open the transaction).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from mloop.entities import RegisteredModel
from mloop.errors import AliasInUseError, ModelAlreadyExistsError
from mloop.storage.sql import registry_tags
from mloop.storage.sql import registry_versions as versions
from mloop.storage.sql.audit import append_event
from mloop.storage.sql.deployment_rows import check_unused
from mloop.storage.sql.registry_rows import load_models, model_row, touch_model
from mloop.storage.sql.schema_registry import (
    model_aliases,
    model_versions,
    registered_model_tags,
    registered_models,
)

_models = registered_models
_versions = model_versions


def create_model(
    conn: Connection, name: str, description: str, tags: dict[str, str], *, actor: str
) -> RegisteredModel:
    """Insert an empty model with its tags (audited `model.create`).

    Raises:
        ModelAlreadyExistsError: the name is taken.
    """
    if versions.insert_model(conn, name, description) is None:
        raise ModelAlreadyExistsError(name)
    row = model_row(conn, name)
    registry_tags.write_tags(conn, registered_model_tags, "model_id", row.id, tags)
    append_event(
        conn,
        actor=actor,
        action="model.create",
        entity=("model", name),
        details={"description": description, "tags": tags},
    )
    return load_models(conn, [model_row(conn, name)])[0]


def update_model(conn: Connection, name: str, *, actor: str, description: str) -> RegisteredModel:
    """Set a model's description (audited `model.update`).

    Raises:
        ModelNotFoundError: no such model.
    """
    row = model_row(conn, name, lock=True)
    touch_model(conn, row.id, description=description)
    append_event(
        conn,
        actor=actor,
        action="model.update",
        entity=("model", name),
        details={"description": description},
    )
    return load_models(conn, [model_row(conn, name)])[0]


def rename_model(conn: Connection, name: str, new_name: str, *, actor: str) -> RegisteredModel:
    """Give a model a new name (audited `model.rename`; renaming to its own name changes nothing).

    Raises:
        ModelNotFoundError: no such model.
        ModelAlreadyExistsError: `new_name` is taken.
    """
    row = model_row(conn, name, lock=True)
    if new_name != name:
        taken = conn.execute(select(_models.c.id).where(_models.c.name == new_name)).first()
        if taken is not None:
            raise ModelAlreadyExistsError(new_name)
        touch_model(conn, row.id, name=new_name)
        append_event(
            conn,
            actor=actor,
            action="model.rename",
            entity=("model", name),
            details={"new_name": new_name},
        )
    return load_models(conn, [model_row(conn, new_name)])[0]


def delete_model(conn: Connection, name: str, *, actor: str, force: bool) -> None:
    """Delete a model; its versions, tags, aliases and approvals go with it (cascade).

    Raises:
        ModelNotFoundError: no such model.
        AliasInUseError: the model has aliases and `force` is False.
        TargetInUseError: a deployment serves the model.
    """
    row = model_row(conn, name, lock=True)
    aliases = sorted(
        conn.execute(
            select(model_aliases.c.alias).where(model_aliases.c.model_id == row.id)
        ).scalars()
    )
    if aliases and not force:
        raise AliasInUseError(name, None, aliases)
    check_unused(conn, name, None)
    numbers = sorted(
        conn.execute(select(_versions.c.version).where(_versions.c.model_id == row.id)).scalars()
    )
    conn.execute(delete(_models).where(_models.c.id == row.id))
    append_event(
        conn,
        actor=actor,
        action="model.delete",
        entity=("model", name),
        details={"versions": numbers, "aliases_removed": aliases},
    )
