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
    package_digest: str | None = None,
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
        package_digest: the package's content digest. When not given, the package at
            `model_uri` (a `runs:/` URI or a local folder) is read for its digest and
            signature; pass "" to register such a source that is not an mloop package.
            Remote URIs (s3:// ...) are registered as they are.
        signature: the package's signature as a dict (read from the package when not given).

    Returns:
        The new version, numbered one past the highest ever registered for this model.

    Raises:
        RunNotFoundError: the `runs:/` source names a run that does not exist.
        ModelPackageNotFoundError: no package is at `model_uri` (and no digest was given).
        InvalidInputError: the name, source or another field is malformed.

    Example:
        >>> version = mloop.register_model(f"runs:/{run.run_id}/model", "churn")
        >>> version.uri
        'models:/churn/1'
    """
    from mloop.client.fluent import flush
    from mloop.registry import run_id_of_source

    flush()  # the run's queued inputs and tags are stored before the version links to them
    if package_digest is None:
        package_digest, read_signature = _package_facts(model_uri)
        signature = signature if signature is not None else read_signature
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


def _package_facts(model_uri: str) -> tuple[str, dict[str, Any] | None]:
    """The digest and signature of the package at a `runs:/` URI or local folder."""
    from mloop.client.models import resolve_package_folder
    from mloop.models.package import read_package

    if model_uri.startswith("models:/"):
        from mloop.errors import InvalidInputError

        raise InvalidInputError(
            f"{model_uri!r} is already a registered version; register its source (the "
            "runs:/ URI in `mloop models show`) instead",
            field="model_uri",
        )
    if "://" in model_uri and not model_uri.startswith("file://"):
        return "", None  # a remote URI (s3://, gs:// ...) is recorded as it is, unread
    package = read_package(resolve_package_folder(model_uri))
    found = package.signature.to_dict() if package.signature is not None else None
    return package.digest, found


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
