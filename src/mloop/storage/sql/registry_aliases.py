"""Aliases, their protection and approvals: the registry's governance, inside write transactions.

Each function runs in the caller's transaction (with the model's row locked), appends its audit
event there, and so commits or rolls back with the change.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from mloop.entities import Approval
from mloop.entities.auth import Role
from mloop.entities.clock import now_ms
from mloop.entities.deployments import Target
from mloop.entities.gates import Override
from mloop.errors import AliasNotFoundError, PermissionDeniedError, ProtectedAliasError
from mloop.storage.sql.audit import append_event
from mloop.storage.sql.deployment_rows import check_unused
from mloop.storage.sql.dialect import insert_ignore, upsert
from mloop.storage.sql.registry_rows import alias_version, model_row, touch_model, version_row
from mloop.storage.sql.schema_auth import users
from mloop.storage.sql.schema_registry import (
    model_aliases,
    model_approvals,
    model_versions,
    protected_aliases,
)


def set_alias(conn: Connection, name: str, alias: str, number: int, *, actor: str) -> int | None:
    """Point `alias` at version `number`: one upsert, so readers see the old or the new target.

    Returns:
        The version the alias pointed at before, or None.

    Raises:
        ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
        ProtectedAliasError: the alias is protected and the version has no approval.
    """
    model = model_row(conn, name, lock=True)
    row = version_row(conn, model.id, name, number)
    if _is_protected(conn, model.id, alias) and not _is_approved(conn, row.id):
        raise ProtectedAliasError(name, alias, number)
    try:
        previous: int | None = alias_version(conn, model.id, name, alias)
    except AliasNotFoundError:
        previous = None
    statement = upsert(conn, model_aliases, keys=("model_id", "alias"), update=("version_id",))
    conn.execute(statement.values(model_id=model.id, alias=alias, version_id=row.id))
    touch_model(conn, model.id)
    append_event(
        conn,
        actor=actor,
        action="model.alias.set",
        entity=("model", name),
        details={"alias": alias, "version": number, "previous": previous},
    )
    return previous


def override_alias(
    conn: Connection, name: str, alias: str, number: int, *, actor: str, override: Override
) -> int | None:
    """An admin's promotion despite failing gates: audit, approve if needed, move the alias.

    The override event (with its reason), the approval a protected alias needs, and the alias
    move share the caller's transaction: the log never shows an override that did not happen.

    Returns:
        The version the alias pointed at before, or None.

    Raises:
        PermissionDeniedError: the store has users and `actor` is not a global admin.
        ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
    """
    require_admin(conn, actor)
    model = model_row(conn, name, lock=True)
    row = version_row(conn, model.id, name, number)
    append_event(
        conn,
        actor=actor,
        action="model_version.promote_override",
        entity=("model_version", f"{name}/{number}"),
        details=override.audit_details(alias),
    )
    if _is_protected(conn, model.id, alias) and not _is_approved(conn, row.id):
        approve(conn, name, number, actor=actor, comment=f"override: {override.reason}")
    return set_alias(conn, name, alias, number, actor=actor)


def require_admin(conn: Connection, actor: str) -> None:
    """Allow `actor` to override gates: a global admin, or anyone on a store without users.

    A store with no users is a single-user store (a laptop): whoever can open it owns it.

    Raises:
        PermissionDeniedError: the store has users and `actor` is not a global admin.
    """
    if conn.execute(select(users.c.id).limit(1)).first() is None:
        return
    role = conn.execute(select(users.c.role).where(users.c.name == actor)).first()
    if role is None:
        raise PermissionDeniedError(
            f"overriding validation gates needs an admin; {actor!r} is not a user of this store"
        )
    if role.role is None or not Role(role.role).includes(Role.ADMIN):
        raise PermissionDeniedError(
            f"overriding validation gates needs the admin role; {actor!r} has "
            f"{role.role or 'no global role'} (an admin can grant it with `mloop users grant`)"
        )


def delete_alias(conn: Connection, name: str, alias: str, *, actor: str) -> None:
    """Remove an alias.

    Raises:
        ModelNotFoundError: no such model.
        AliasNotFoundError: the model has no such alias.
        TargetInUseError: a deployment routes to or shadows the alias.
    """
    model = model_row(conn, name, lock=True)
    number = alias_version(conn, model.id, name, alias)
    check_unused(conn, name, [Target(alias=alias)])
    conn.execute(
        delete(model_aliases).where(
            model_aliases.c.model_id == model.id, model_aliases.c.alias == alias
        )
    )
    touch_model(conn, model.id)
    append_event(
        conn,
        actor=actor,
        action="model.alias.delete",
        entity=("model", name),
        details={"alias": alias, "version": number},
    )


def set_protection(conn: Connection, name: str, alias: str, *, actor: str, protected: bool) -> None:
    """Declare an alias protected, or lift that; a call that changes nothing records nothing.

    Raises:
        ModelNotFoundError: no such model.
    """
    model = model_row(conn, name, lock=True)
    if protected:
        changed = conn.execute(
            insert_ignore(conn, protected_aliases).values(model_id=model.id, alias=alias)
        ).rowcount
    else:
        changed = conn.execute(
            delete(protected_aliases).where(
                protected_aliases.c.model_id == model.id, protected_aliases.c.alias == alias
            )
        ).rowcount
    if changed:
        touch_model(conn, model.id)
        append_event(
            conn,
            actor=actor,
            action="model.alias.protect" if protected else "model.alias.unprotect",
            entity=("model", name),
            details={"alias": alias},
        )


def approve(conn: Connection, name: str, number: int, *, actor: str, comment: str) -> Approval:
    """Record an approval of version `number` by `actor`.

    Raises:
        ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
    """
    model = model_row(conn, name, lock=True)
    row = version_row(conn, model.id, name, number)
    stamp = now_ms()
    conn.execute(
        model_approvals.insert().values(
            version_id=row.id, actor=actor, comment=comment, at_ms=stamp
        )
    )
    conn.execute(
        update(model_versions).where(model_versions.c.id == row.id).values(last_updated_time=stamp)
    )
    touch_model(conn, model.id)
    append_event(
        conn,
        actor=actor,
        action="model_version.approve",
        entity=("model_version", f"{name}/{number}"),
        details={"comment": comment},
    )
    return Approval(actor=actor, at_ms=stamp, comment=comment)


def _is_protected(conn: Connection, model_id: int, alias: str) -> bool:
    found = conn.execute(
        select(protected_aliases.c.alias).where(
            protected_aliases.c.model_id == model_id, protected_aliases.c.alias == alias
        )
    ).first()
    return found is not None


def _is_approved(conn: Connection, version_id: int) -> bool:
    found = conn.execute(
        select(model_approvals.c.id).where(model_approvals.c.version_id == version_id).limit(1)
    ).first()
    return found is not None
