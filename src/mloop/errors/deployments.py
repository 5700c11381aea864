"""Errors of deployments: the stored serving configurations and their revisions."""

from __future__ import annotations

from mloop.errors.base import AlreadyExistsError, InvalidStateError, NotFoundError


class DeploymentNotFoundError(NotFoundError):
    """No deployment with the given name."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"deployment {name!r} does not exist; `mloop deploy list` shows the deployments "
            f"there are, `mloop deploy create {name} --model MODEL --route champion=100` makes one"
        )
        self.name = name


class DeploymentRevisionNotFoundError(NotFoundError):
    """A deployment has no revision of this number."""

    def __init__(self, name: str, revision: int) -> None:
        super().__init__(
            f"deployment {name!r} has no revision {revision}; `mloop deploy history {name}` "
            "lists its revisions"
        )
        self.name = name
        self.revision = revision


class DeploymentAlreadyExistsError(AlreadyExistsError):
    """A deployment with this name exists."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"deployment {name!r} already exists; change it with `mloop deploy update {name} "
            "...`, or pick another name"
        )
        self.name = name


class NothingToRollBackError(InvalidStateError):
    """A rollback was asked of a deployment that has only its first configuration."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"deployment {name!r} has only its first revision, so there is no previous "
            f"configuration to roll back to; change it with `mloop deploy update {name} ...`"
        )
        self.name = name


class TargetInUseError(InvalidStateError):
    """A registry change would leave deployments pointing at a model, version or alias that is gone.

    Attributes:
        name: the registered model.
        target: what was to be deleted: "@alias", "/version", or "" for the whole model.
        deployments: the deployments that use it, by name.
    """

    def __init__(self, name: str, target: str, deployments: list[str]) -> None:
        what = f"model {name!r}" if not target else f"{target} of model {name!r}"
        used = ", ".join(repr(d) for d in deployments)
        super().__init__(
            f"{what} is served by deployment(s) {used}; deleting it would leave them without a "
            f"version to serve: move them first (`mloop deploy update {deployments[0]} --route "
            "...`), then delete"
        )
        self.name = name
        self.target = target
        self.deployments = deployments
