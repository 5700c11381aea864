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
