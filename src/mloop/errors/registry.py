"""Errors of the model registry: models, versions, aliases and model references."""

from __future__ import annotations

from mloop.errors.base import (
    AlreadyExistsError,
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
)


class ModelNotFoundError(NotFoundError):
    """No registered model with the given name."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"registered model {name!r} does not exist; `mloop models list` shows the models "
            'there are, and registering a version (`mloop.register_model("runs:/<run_id>/model", '
            f"{name!r})`) creates it"
        )
        self.name = name


class ModelVersionNotFoundError(NotFoundError):
    """A registered model has no such version (or no version at all)."""

    def __init__(self, name: str, version: int | str) -> None:
        super().__init__(
            f"model {name!r} has no version {version}; `mloop models versions {name}` lists "
            "its versions"
        )
        self.name = name
        self.version = version


class AliasNotFoundError(NotFoundError):
    """A registered model has no alias of this name."""

    def __init__(self, name: str, alias: str) -> None:
        super().__init__(
            f"model {name!r} has no alias {alias!r}; set it with "
            f"`mloop models alias set {name} {alias} VERSION`, or see `mloop models show {name}`"
        )
        self.name = name
        self.alias = alias


class ModelAlreadyExistsError(AlreadyExistsError):
    """A registered model with this name exists."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"registered model {name!r} already exists; register a new version of it instead, "
            "or pick another name"
        )
        self.name = name


class ProtectedAliasError(InvalidStateError):
    """A protected alias was to be moved onto a version that has no approval."""

    def __init__(self, name: str, alias: str, version: int) -> None:
        super().__init__(
            f"alias {alias!r} of model {name!r} is protected and version {version} is not "
            f"approved; get it approved first (`mloop models approve {name}/{version} "
            "--comment ...`), then set the alias again"
        )
        self.name = name
        self.alias = alias
        self.version = version


class AliasInUseError(InvalidStateError):
    """A model version (or model) to delete still holds aliases."""

    def __init__(self, name: str, version: int | None, aliases: list[str]) -> None:
        what = f"version {version} of model {name!r}" if version is not None else f"model {name!r}"
        held = ", ".join(repr(a) for a in aliases)
        super().__init__(
            f"{what} holds the alias(es) {held} and deleting it would leave them dangling; move "
            f"or delete the aliases first (`mloop models alias delete {name} ALIAS`), or delete "
            "with --force (force=True) to remove them too"
        )
        self.name = name
        self.version = version
        self.aliases = aliases


class InvalidModelReferenceError(InvalidInputError):
    """A model reference is not `models:/NAME/VERSION`, `models:/NAME@ALIAS` or `.../latest`."""

    def __init__(self, reference: str, problem: str) -> None:
        super().__init__(
            f"model reference {reference!r} {problem}; use models:/NAME/VERSION, "
            "models:/NAME@ALIAS or models:/NAME/latest (e.g. models:/churn@champion)",
            field="model_uri",
        )
        self.reference = reference
