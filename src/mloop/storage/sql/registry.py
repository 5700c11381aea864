"""SQL implementation of the model registry; every change is audited in its own transaction.

Each mutation appends its audit event (`audit.append_event`) inside the transaction that makes
the change, so the log holds exactly the changes that committed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection

from mloop.entities import (
    Approval,
    ModelVersion,
    ModelVersionPage,
    RegisteredModel,
    RegisteredModelPage,
)
from mloop.entities.gates import Override
from mloop.entities.registry import (
    validate_alias,
    validate_description,
    validate_model_name,
    validate_package_digest,
    validate_source,
    validate_version,
)
from mloop.entities.validation import (
    checked_tags,
    validate_key,
    validate_run_id,
    validate_tag_value,
)
from mloop.errors import (
    InvalidInputError,
    ModelVersionNotFoundError,
)
from mloop.storage.sql import registry_aliases as aliases
from mloop.storage.sql import registry_models as models
from mloop.storage.sql import registry_tags
from mloop.storage.sql import registry_versions as versions
from mloop.storage.sql.engine import read_transaction, write_with_retries
from mloop.storage.sql.registry_rows import (
    VERSION_COLUMNS,
    VERSIONS_WITH_NAMES,
    alias_version,
    load_models,
    load_versions,
    model_row,
    signature_json,
    version_entity,
    version_row,
)
from mloop.storage.sql.registry_search import search_page
from mloop.storage.sql.schema_registry import (
    model_versions,
    registered_models,
)

T = TypeVar("T")
_models = registered_models
_versions = model_versions


class SqlModelRegistryStore:
    """Registered models and their versions in a SQLite or PostgreSQL database.

    Args:
        engine: the database engine.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _write(self, operation: Callable[[Connection], T], *, what: str) -> T:
        return write_with_retries(self._engine, operation, what=what)

    # Registered models

    def create_model(
        self,
        name: str,
        *,
        actor: str,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> RegisteredModel:
        """Create an empty registered model (registering a version creates one too).

        Raises:
            ModelAlreadyExistsError: the name is taken.
            InvalidInputError: the name, description or a tag is malformed.
        """
        validate_model_name(name)
        validate_description(description)
        clean_tags = checked_tags(tags)
        return self._write(
            lambda conn: models.create_model(conn, name, description, clean_tags, actor=actor),
            what=f"creating model {name!r}",
        )

    def get_model(self, name: str) -> RegisteredModel:
        """The registered model with its tags and aliases.

        Raises:
            ModelNotFoundError: no such model.
        """
        with read_transaction(self._engine) as conn:
            return load_models(conn, [model_row(conn, name)])[0]

    def find_model(self, name: str) -> RegisteredModel | None:
        """The registered model, or None when there is none of this name."""
        with read_transaction(self._engine) as conn:
            row = conn.execute(select(_models).where(_models.c.name == name)).one_or_none()
            return load_models(conn, [row])[0] if row is not None else None

    def update_model(self, name: str, *, actor: str, description: str) -> RegisteredModel:
        """Set a model's description.

        Raises:
            ModelNotFoundError: no such model.
            InvalidInputError: the description is too long.
        """
        validate_description(description)
        return self._write(
            lambda conn: models.update_model(conn, name, actor=actor, description=description),
            what=f"updating model {name!r}",
        )

    def rename_model(self, name: str, new_name: str, *, actor: str) -> RegisteredModel:
        """Give a model a new name; its versions, tags, aliases and approvals stay with it.

        References by the old name (`models:/OLD/...`) stop resolving; the audit log keeps the
        rename, so the old name's history can be followed.

        Raises:
            ModelNotFoundError: no such model.
            ModelAlreadyExistsError: `new_name` is taken.
            InvalidInputError: `new_name` is malformed.
        """
        validate_model_name(new_name)
        return self._write(
            lambda conn: models.rename_model(conn, name, new_name, actor=actor),
            what=f"renaming model {name!r} to {new_name!r}",
        )

    def delete_model(self, name: str, *, actor: str, force: bool = False) -> None:
        """Delete a model with all its versions, tags, aliases and approvals.

        Raises:
            ModelNotFoundError: no such model.
            AliasInUseError: the model has aliases and `force` is False.
            TargetInUseError: a deployment serves the model.
        """
        self._write(
            lambda conn: models.delete_model(conn, name, actor=actor, force=force),
            what=f"deleting model {name!r}",
        )

    def search_models(
        self,
        filter_string: str | None = None,
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RegisteredModelPage:
        """Registered models matching a filter, e.g. `name LIKE 'churn%' AND tags.team = 'x'`.

        Keys: `name`, `description`, `creation_time`, `last_updated_time`, `latest_version`,
        `tags.<key>`. Ordered by name unless `order_by` names other keys.

        Raises:
            InvalidFilterError: the filter, order or page token is malformed.
        """
        with read_transaction(self._engine) as conn:
            page = search_page(
                conn,
                select(_models),
                versions=False,
                filter_string=filter_string,
                order_by=order_by,
                max_results=max_results,
                page_token=page_token,
            )
            return RegisteredModelPage(load_models(conn, page.rows), page.next_page_token)

    # Versions

    def create_version(
        self,
        name: str,
        source: str,
        *,
        actor: str,
        run_id: str | None = None,
        package_digest: str = "",
        signature: dict[str, Any] | None = None,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> ModelVersion:
        """Register a new version (creating the model when it does not exist yet).

        Versions are numbered 1, 2, 3 ... per model; concurrent registrations, from any number
        of processes, get distinct consecutive numbers; numbers are never reused.

        Raises:
            RunNotFoundError: `run_id` names no run.
            InvalidInputError: a field is malformed.
        """
        validate_model_name(name)
        fields = {
            "source": validate_source(source),
            "run_id": validate_run_id(run_id) if run_id is not None else None,
            "package_digest": validate_package_digest(package_digest),
            "signature": signature_json(signature),
            "description": validate_description(description),
        }
        clean_tags = checked_tags(tags)

        return self._write(
            lambda conn: versions.create_version(conn, name, fields, clean_tags, actor=actor),
            what=f"registering a version of model {name!r}",
        )

    def get_version(self, name: str, version: int) -> ModelVersion:
        """One version with its tags, aliases, approvals and lineage.

        Raises:
            ModelNotFoundError: no such model.
            ModelVersionNotFoundError: no such version.
        """
        number = validate_version(version)
        with read_transaction(self._engine) as conn:
            model_id = model_row(conn, name).id
            version_row(conn, model_id, name, number)
            return version_entity(conn, model_id, number)

    def get_latest_version(self, name: str) -> ModelVersion:
        """The newest existing version.

        Raises:
            ModelNotFoundError: no such model.
            ModelVersionNotFoundError: the model has no versions.
        """
        with read_transaction(self._engine) as conn:
            model_id = model_row(conn, name).id
            number = conn.execute(
                select(func.max(_versions.c.version)).where(_versions.c.model_id == model_id)
            ).scalar_one_or_none()
            if number is None:
                raise ModelVersionNotFoundError(name, "latest (it has no versions)")
            return version_entity(conn, model_id, int(number))

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at.

        Raises:
            ModelNotFoundError: no such model.
            AliasNotFoundError: the model has no such alias.
        """
        with read_transaction(self._engine) as conn:
            model_id = model_row(conn, name).id
            return version_entity(conn, model_id, alias_version(conn, model_id, name, alias))

    def update_version(
        self, name: str, version: int, *, actor: str, description: str
    ) -> ModelVersion:
        """Set a version's description.

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
            InvalidInputError: the description is too long.
        """
        number = validate_version(version)
        validate_description(description)

        return self._write(
            lambda conn: versions.update_version(
                conn, name, number, actor=actor, description=description
            ),
            what=f"updating version {number} of model {name!r}",
        )

    def delete_version(self, name: str, version: int, *, actor: str, force: bool = False) -> None:
        """Delete a version with its tags and approvals; its number is not reused.

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
            AliasInUseError: aliases point at it and `force` is False (with `force`, they go).
        """
        number = validate_version(version)

        self._write(
            lambda conn: versions.delete_version(conn, name, number, actor=actor, force=force),
            what=f"deleting version {number} of model {name!r}",
        )

    def search_versions(
        self,
        filter_string: str | None = None,
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> ModelVersionPage:
        """Versions matching a filter, e.g. `name = 'churn' AND version > 2`.

        Keys: `name`, `version`, `run_id`, `source`, `user_id`, `package_digest`, `description`,
        `alias`, `creation_time`, `last_updated_time`, `tags.<key>`. Ordered by name, then
        newest version first, unless `order_by` names other keys.

        Raises:
            InvalidFilterError: the filter, order or page token is malformed.
        """
        with read_transaction(self._engine) as conn:
            page = search_page(
                conn,
                select(*VERSION_COLUMNS).select_from(VERSIONS_WITH_NAMES),
                versions=True,
                filter_string=filter_string,
                order_by=order_by,
                max_results=max_results,
                page_token=page_token,
            )
            return ModelVersionPage(load_versions(conn, page.rows), page.next_page_token)

    # Tags, aliases, approvals

    def set_tag(
        self, name: str, key: str, value: str, *, actor: str, version: int | None = None
    ) -> None:
        """Set a tag on a model, or on one of its versions when `version` is given.

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
            InvalidInputError: the key or value is malformed.
        """
        validate_key(key, kind="tag")
        text = validate_tag_value(key, value)
        number = validate_version(version) if version is not None else None
        self._write(
            lambda conn: registry_tags.set_tag(conn, name, key, text, number=number, actor=actor),
            what=f"tagging model {name!r}",
        )

    def delete_tag(self, name: str, key: str, *, actor: str, version: int | None = None) -> None:
        """Remove a tag from a model or version; removing a missing tag changes nothing.

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
        """
        number = validate_version(version) if version is not None else None
        self._write(
            lambda conn: registry_tags.delete_tag(conn, name, key, number=number, actor=actor),
            what=f"removing tag {key!r} of model {name!r}",
        )

    def set_alias(self, name: str, alias: str, version: int, *, actor: str) -> None:
        """Point an alias at a version, atomically (it moves if it pointed elsewhere).

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
            ProtectedAliasError: the alias is protected and the version is not approved.
            InvalidInputError: the alias is malformed.
        """
        validate_alias(alias)
        number = validate_version(version)
        self._write(
            lambda conn: aliases.set_alias(conn, name, alias, number, actor=actor),
            what=f"setting alias {alias!r} of model {name!r}",
        )

    def override_alias(
        self, name: str, alias: str, version: int, *, actor: str, override: Override
    ) -> int | None:
        """Point an alias at a version despite failing gates: an admin's audited override.

        One transaction records `model_version.promote_override` (reason, failures, report),
        approves the version when the alias is protected and it has no approval (comment
        "override: <reason>"), and moves the alias; when any step fails, nothing is written.

        Returns:
            The version the alias pointed at before, or None.

        Raises:
            PermissionDeniedError: the store has users and `actor` is not a global admin.
            ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
            InvalidInputError: the alias is malformed.
        """
        validate_alias(alias)
        number = validate_version(version)
        return self._write(
            lambda conn: aliases.override_alias(
                conn, name, alias, number, actor=actor, override=override
            ),
            what=f"overriding the gates to set alias {alias!r} of model {name!r}",
        )

    def delete_alias(self, name: str, alias: str, *, actor: str) -> None:
        """Remove an alias.

        Raises:
            ModelNotFoundError: no such model.
            AliasNotFoundError: the model has no such alias.
        """
        self._write(
            lambda conn: aliases.delete_alias(conn, name, alias, actor=actor),
            what=f"deleting alias {alias!r} of model {name!r}",
        )

    def set_alias_protection(
        self, name: str, alias: str, *, actor: str, protected: bool = True
    ) -> None:
        """Declare an alias protected (only approved versions may take it) or lift that.

        Raises:
            ModelNotFoundError: no such model.
            InvalidInputError: the alias is malformed.
        """
        validate_alias(alias)
        self._write(
            lambda conn: aliases.set_protection(
                conn, name, alias, actor=actor, protected=protected
            ),
            what=f"changing the protection of alias {alias!r} of model {name!r}",
        )

    def approve(self, name: str, version: int, *, actor: str, comment: str = "") -> Approval:
        """Record that `actor` approved a version.

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
            InvalidInputError: the actor is empty or the comment too long.
        """
        number = validate_version(version)
        validate_description(comment)
        if not isinstance(actor, str) or not actor.strip():
            raise InvalidInputError("an approval needs the approver's name", field="actor")
        return self._write(
            lambda conn: aliases.approve(conn, name, number, actor=actor, comment=comment),
            what=f"approving version {number} of model {name!r}",
        )
