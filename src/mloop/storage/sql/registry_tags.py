"""Tags of registered models and of model versions, written inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Connection

from mloop.storage.sql.audit import append_event
from mloop.storage.sql.dialect import upsert
from mloop.storage.sql.registry_rows import model_row, touch_model, version_row
from mloop.storage.sql.schema_registry import model_version_tags, registered_model_tags


def write_tags(
    conn: Connection, table: Any, owner_column: str, owner_id: int, tags: dict[str, str]
) -> None:
    """Upsert tags of one model (`registered_model_tags`) or version (`model_version_tags`)."""
    if not tags:
        return
    statement = upsert(conn, table, keys=(owner_column, "key"), update=("value",))
    conn.execute(
        statement, [{owner_column: owner_id, "key": k, "value": v} for k, v in tags.items()]
    )


def set_tag(
    conn: Connection, name: str, key: str, text: str, *, number: int | None, actor: str
) -> None:
    """Set one tag on a model, or on its version `number`, and audit it.

    Raises:
        ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
    """
    model = model_row(conn, name, lock=True)
    entity = ("model", name)
    if number is None:
        write_tags(conn, registered_model_tags, "model_id", model.id, {key: text})
    else:
        row = version_row(conn, model.id, name, number)
        write_tags(conn, model_version_tags, "version_id", row.id, {key: text})
        entity = ("model_version", f"{name}/{number}")
    touch_model(conn, model.id)
    action = f"{entity[0]}.tag.set"
    append_event(conn, actor=actor, action=action, entity=entity, details={key: text})


def delete_tag(conn: Connection, name: str, key: str, *, number: int | None, actor: str) -> None:
    """Remove one tag; removing a tag that is not there changes (and records) nothing.

    Raises:
        ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
    """
    model = model_row(conn, name, lock=True)
    table: Any
    if number is None:
        table = registered_model_tags
        owner, entity = table.c.model_id == model.id, ("model", name)
    else:
        row = version_row(conn, model.id, name, number)
        table = model_version_tags
        owner, entity = table.c.version_id == row.id, ("model_version", f"{name}/{number}")
    removed = conn.execute(delete(table).where(owner, table.c.key == key)).rowcount
    if removed:
        touch_model(conn, model.id)
        append_event(
            conn,
            actor=actor,
            action=f"{entity[0]}.tag.delete",
            entity=entity,
            details={"key": key},
        )
