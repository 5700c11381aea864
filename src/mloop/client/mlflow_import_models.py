"""The registry part of `mloop import-mlflow`: registered models, versions, tags and aliases.

mloop numbers versions itself (1, 2, 3 ...), so an MLflow model whose version 3 was deleted
gets its version 4 as mloop's 3. Each imported version carries its MLflow number in the
`mlflow.version` tag: aliases are mapped through it, and a later import skips those versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mloop.errors import (
    ConfigurationError,
    InvalidInputError,
    NotFoundError,
    RunNotFoundError,
)

if TYPE_CHECKING:
    from mloop.client.mlflow_import import ImportSummary
    from mloop.storage.mlflow_source import MlflowModel, MlflowModelVersion
    from mloop.storage.protocols import ModelRegistryStore, Store

ACTOR = "import-mlflow"
VERSION_TAG = "mlflow.version"


def import_models(store: Store, models: Sequence[MlflowModel], summary: ImportSummary) -> None:
    """Import registered models into the store's registry, adding to `summary`."""
    if not models:
        return
    try:
        registry: ModelRegistryStore | None = getattr(store, "registry", None)
    except ConfigurationError as exc:  # e.g. a remote store without registry endpoints yet
        summary.warnings.append(f"{len(models)} registered models not imported: {exc.message}")
        return
    if registry is None:
        summary.warnings.append(
            f"{len(models)} registered models not imported: this store has no model registry"
        )
        return
    for model in models:
        try:
            _import_model(registry, model, summary)
        except InvalidInputError as exc:
            summary.warnings.append(f"registered model {model.name!r} skipped: {exc.message}")


def _import_model(registry: ModelRegistryStore, model: MlflowModel, summary: ImportSummary) -> None:
    found = registry.find_model(model.name)
    if found is None:
        found = registry.create_model(
            model.name, actor=ACTOR, description=model.description, tags=model.tags
        )
        summary.models_created += 1
    else:
        for key, value in model.tags.items():
            if found.tags.get(key) != value:
                registry.set_tag(model.name, key, value, actor=ACTOR)
    numbers = _imported_numbers(registry, model.name, found.latest_version)
    for version in model.versions:
        if version.version not in numbers:
            numbers[version.version] = _register(registry, model.name, version, summary)
    current = registry.get_model(model.name).aliases
    for alias, mlflow_number in sorted(model.aliases.items()):
        target = numbers.get(mlflow_number)
        if target is None:
            summary.warnings.append(
                f"alias {alias!r} of model {model.name!r} skipped: it points at version "
                f"{mlflow_number}, which was not imported"
            )
        elif current.get(alias) != target:
            try:
                registry.set_alias(model.name, alias, target, actor=ACTOR)
            except InvalidInputError as exc:
                summary.warnings.append(
                    f"alias {alias!r} of model {model.name!r} skipped: {exc.message}"
                )
                continue
            summary.aliases_set += 1


def _imported_numbers(registry: ModelRegistryStore, name: str, latest: int) -> dict[int, int]:
    """MLflow version number -> mloop version number, for versions imported before."""
    numbers: dict[int, int] = {}
    for number in range(1, latest + 1):
        try:
            tag = registry.get_version(name, number).tags.get(VERSION_TAG)
        except NotFoundError:  # deleted in mloop since
            continue
        if tag is not None and tag.isdigit():
            numbers[int(tag)] = number
    return numbers


def _register(
    registry: ModelRegistryStore, name: str, version: MlflowModelVersion, summary: ImportSummary
) -> int:
    tags = {**version.tags, VERSION_TAG: str(version.version)}
    source = version.source or f"mlflow:{name}/{version.version}"
    try:
        created = registry.create_version(
            name,
            source,
            actor=ACTOR,
            run_id=version.run_id,
            description=version.description,
            tags=tags,
        )
    except RunNotFoundError:
        # The run was not imported (e.g. it was purged from MLflow): keep the version without it.
        summary.warnings.append(
            f"model {name!r} version {version.version}: its run {version.run_id} is not in the "
            "store; registered without the link"
        )
        created = registry.create_version(
            name, source, actor=ACTOR, description=version.description, tags=tags
        )
    summary.versions_created += 1
    return created.version
