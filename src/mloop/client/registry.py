"""The fluent model-registry API on the default store: register, alias, approve, resolve."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.client.context import get_store

if TYPE_CHECKING:
    from mloop.entities import Approval, ModelVersion


def _actor() -> str:
    from mloop.tracking.environment import current_user

    return current_user()


def register_model(
    model_uri: str,
    name: str,
    *,
    tags: dict[str, str] | None = None,
    description: str = "",
    package_digest: str = "",
    signature: dict[str, Any] | None = None,
) -> ModelVersion:
    """Register a model package as the next version of a registered model.

    The model is created on its first registration. A `runs:/<run_id>/<path>` source links
    the version to its run, and through the run to the datasets it consumed (lineage).

    Args:
        model_uri: where the package is: `runs:/<run_id>/model`, or any URI or path.
        name: the registered model's name, e.g. "churn".
        tags: version tags.
        description: version description.
        package_digest: the package's content digest (`log_model` passes it).
        signature: the package's signature as a dict (`log_model` passes it).

    Returns:
        The new version, numbered one past the highest ever registered for this model.

    Raises:
        RunNotFoundError: the `runs:/` source names a run that does not exist.
        InvalidInputError: the name, source or another field is malformed.

    Example:
        >>> version = mloop.register_model(f"runs:/{run.run_id}/model", "churn")
        >>> version.uri
        'models:/churn/1'
    """
    from mloop.client.fluent import flush
    from mloop.registry import run_id_of_source

    flush()  # the run's queued inputs and tags are stored before the version links to them
    return get_store().registry.create_version(
        name,
        model_uri,
        actor=_actor(),
        run_id=run_id_of_source(model_uri),
        package_digest=package_digest,
        signature=signature,
        description=description,
        tags=tags,
    )


def get_model_version(reference: str) -> ModelVersion:
    """The version a reference names: `models:/churn/3`, `models:/churn@champion`, `.../latest`.

    Raises:
        InvalidModelReferenceError: the text is not a model reference.
        ModelNotFoundError, ModelVersionNotFoundError, AliasNotFoundError: nothing matches.
    """
    from mloop.registry import resolve

    return resolve(get_store().registry, reference)


def set_model_alias(name: str, alias: str, version: int) -> None:
    """Point an alias (e.g. "champion") at a version, moving it if it pointed elsewhere.

    Raises:
        ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
        ProtectedAliasError: the alias is protected and the version is not approved.
    """
    get_store().registry.set_alias(name, alias, version, actor=_actor())


def approve_model_version(name: str, version: int, *, comment: str = "") -> Approval:
    """Record that the current user approved a version (needed for protected aliases).

    Raises:
        ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
    """
    return get_store().registry.approve(name, version, actor=_actor(), comment=comment)
