"""Reading the model registry: row lookups, and entities built from rows in a few batch queries."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.engine import Connection

from mloop.entities import Approval, ModelVersion, RegisteredModel, RunInput
from mloop.entities.clock import now_ms
from mloop.errors import (
    AliasNotFoundError,
    InvalidInputError,
    ModelNotFoundError,
    ModelVersionNotFoundError,
)
from mloop.storage.sql import schema
from mloop.storage.sql.schema_registry import (
    model_aliases,
    model_approvals,
    model_version_tags,
    model_versions,
    protected_aliases,
    registered_model_tags,
    registered_models,
)

_models = registered_models
_versions = model_versions

# The columns a version entity is built from, with its model's name.
VERSION_COLUMNS = (
    _versions.c.id,
    _models.c.name,
    _versions.c.version,
    _versions.c.source,
    _versions.c.run_id,
    _versions.c.package_digest,
    _versions.c.signature,
    _versions.c.description,
    _versions.c.user_id,
    _versions.c.creation_time,
    _versions.c.last_updated_time,
)
VERSIONS_WITH_NAMES = _versions.join(_models, _models.c.id == _versions.c.model_id)


def signature_json(signature: dict[str, Any] | None) -> str | None:
    """A signature in its stored form (canonical JSON text); `load_versions` reads it back.

    Raises:
        InvalidInputError: not a dict, or not representable as strict JSON.
    """
    if signature is None:
        return None
    if not isinstance(signature, dict):
        raise InvalidInputError(
            f"signature must be a JSON object (dict), got {type(signature).__name__}",
            field="signature",
        )
    try:
        return json.dumps(signature, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"signature cannot be stored as JSON: {exc}", field="signature"
        ) from exc


def model_row(conn: Connection, name: str, *, lock: bool = False) -> Row[Any]:
    """The model's row.

    Args:
        conn: the connection.
        name: the model's name.
        lock: take the row lock (PostgreSQL), so concurrent writers to this model queue up.

    Raises:
        ModelNotFoundError: no such model.
    """
    query = select(_models).where(_models.c.name == name)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        raise ModelNotFoundError(name)
    return row


def version_row(conn: Connection, model_id: int, name: str, version: int) -> Row[Any]:
    """A version's row.

    Raises:
        ModelVersionNotFoundError: the model has no such version.
    """
    row = conn.execute(
        select(_versions).where(_versions.c.model_id == model_id, _versions.c.version == version)
    ).one_or_none()
    if row is None:
        raise ModelVersionNotFoundError(name, version)
    return row


def touch_model(conn: Connection, model_id: int, **values: Any) -> None:
    """Mark a model changed now (any change to it or its versions), setting `values` too."""
    conn.execute(
        update(_models).where(_models.c.id == model_id).values(last_updated_time=now_ms(), **values)
    )


def alias_version(conn: Connection, model_id: int, name: str, alias: str) -> int:
    """The version number an alias points at.

    Raises:
        AliasNotFoundError: the model has no such alias.
    """
    number = conn.execute(
        select(_versions.c.version)
        .select_from(model_aliases.join(_versions, _versions.c.id == model_aliases.c.version_id))
        .where(model_aliases.c.model_id == model_id, model_aliases.c.alias == alias)
    ).scalar_one_or_none()
    if number is None:
        raise AliasNotFoundError(name, alias)
    return int(number)


def aliases_of_version(conn: Connection, version_id: int) -> list[str]:
    """The aliases pointing at one version, sorted."""
    return sorted(
        conn.execute(
            select(model_aliases.c.alias).where(model_aliases.c.version_id == version_id)
        ).scalars()
    )


def load_models(conn: Connection, rows: Sequence[Row[Any]]) -> list[RegisteredModel]:
    """Model entities for model rows (with tags, aliases and protected aliases), in row order."""
    ids = [row.id for row in rows]
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    aliases: dict[int, dict[str, int]] = defaultdict(dict)
    protected: dict[int, list[str]] = defaultdict(list)
    if ids:
        tag_table = registered_model_tags
        for model_id, key, value in conn.execute(
            select(tag_table.c.model_id, tag_table.c.key, tag_table.c.value).where(
                tag_table.c.model_id.in_(ids)
            )
        ):
            tags[model_id][key] = value
        for model_id, alias, version in conn.execute(
            select(model_aliases.c.model_id, model_aliases.c.alias, _versions.c.version)
            .select_from(
                model_aliases.join(_versions, _versions.c.id == model_aliases.c.version_id)
            )
            .where(model_aliases.c.model_id.in_(ids))
            .order_by(model_aliases.c.alias)
        ):
            aliases[model_id][alias] = int(version)
        for model_id, alias in conn.execute(
            select(protected_aliases.c.model_id, protected_aliases.c.alias)
            .where(protected_aliases.c.model_id.in_(ids))
            .order_by(protected_aliases.c.alias)
        ):
            protected[model_id].append(alias)
    return [
        RegisteredModel(
            name=row.name,
            description=row.description,
            created_at_ms=row.creation_time,
            updated_at_ms=row.last_updated_time,
            tags=tags[row.id],
            aliases=aliases[row.id],
            protected_aliases=tuple(protected[row.id]),
            latest_version=row.last_version,
        )
        for row in rows
    ]


def load_versions(conn: Connection, rows: Sequence[Row[Any]]) -> list[ModelVersion]:
    """Version entities for rows of `VERSION_COLUMNS`, in row order.

    Each comes with its tags, aliases, approvals and the datasets its run consumed.
    """
    ids = [row.id for row in rows]
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    aliases: dict[int, list[str]] = defaultdict(list)
    approvals: dict[int, list[Approval]] = defaultdict(list)
    datasets: dict[str, list[RunInput]] = defaultdict(list)
    if ids:
        tag_table = model_version_tags
        for version_id, key, value in conn.execute(
            select(tag_table.c.version_id, tag_table.c.key, tag_table.c.value).where(
                tag_table.c.version_id.in_(ids)
            )
        ):
            tags[version_id][key] = value
        for version_id, alias in conn.execute(
            select(model_aliases.c.version_id, model_aliases.c.alias)
            .where(model_aliases.c.version_id.in_(ids))
            .order_by(model_aliases.c.alias)
        ):
            aliases[version_id].append(alias)
        for version_id, actor, at_ms, comment in conn.execute(
            select(
                model_approvals.c.version_id,
                model_approvals.c.actor,
                model_approvals.c.at_ms,
                model_approvals.c.comment,
            )
            .where(model_approvals.c.version_id.in_(ids))
            .order_by(model_approvals.c.at_ms, model_approvals.c.id)
        ):
            approvals[version_id].append(Approval(actor=actor, at_ms=at_ms, comment=comment))
        datasets = _run_datasets(conn, {row.run_id for row in rows if row.run_id})
    return [
        ModelVersion(
            name=row.name,
            version=row.version,
            source=row.source,
            run_id=row.run_id,
            package_digest=row.package_digest,
            signature=json.loads(row.signature) if row.signature is not None else None,
            description=row.description,
            user_id=row.user_id,
            created_at_ms=row.creation_time,
            updated_at_ms=row.last_updated_time,
            tags=tags[row.id],
            aliases=tuple(aliases[row.id]),
            approvals=tuple(approvals[row.id]),
            datasets=tuple(datasets.get(row.run_id or "", ())),
        )
        for row in rows
    ]


def _run_datasets(conn: Connection, run_ids: set[str]) -> dict[str, list[RunInput]]:
    """The inputs of each run (lineage), by run id."""
    found: dict[str, list[RunInput]] = defaultdict(list)
    if not run_ids:
        return found
    runs, inputs = schema.runs, schema.run_inputs
    for run_uuid, name, digest, source, context in conn.execute(
        select(runs.c.run_uuid, inputs.c.name, inputs.c.digest, inputs.c.source, inputs.c.context)
        .select_from(inputs.join(runs, runs.c.id == inputs.c.run_id))
        .where(runs.c.run_uuid.in_(sorted(run_ids)))
        .order_by(runs.c.run_uuid, inputs.c.name, inputs.c.digest, inputs.c.context)
    ):
        found[run_uuid].append(RunInput(name=name, digest=digest, source=source, context=context))
    return found


def version_entity(conn: Connection, model_id: int, version: int) -> ModelVersion:
    """One version entity by its model's id and number (which must exist)."""
    row = conn.execute(
        select(*VERSION_COLUMNS)
        .select_from(VERSIONS_WITH_NAMES)
        .where(_versions.c.model_id == model_id, _versions.c.version == version)
    ).one()
    return load_versions(conn, [row])[0]  # type: ignore[list-item]
