"""Errors of experiments, runs, their params and search filters."""

from __future__ import annotations

from mloop.errors.base import (
    AlreadyExistsError,
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
)


class ExperimentNotFoundError(NotFoundError):
    """No experiment with the given id or name."""

    def __init__(self, experiment: str) -> None:
        super().__init__(
            f"experiment {experiment!r} does not exist; `mloop experiments list` shows the "
            "experiments there are, `mloop experiments create NAME` makes one"
        )
        self.experiment = experiment


class RunNotFoundError(NotFoundError):
    """No run with the given id."""

    def __init__(self, run_id: str) -> None:
        super().__init__(
            f"run {run_id!r} does not exist in this store; `mloop runs list` shows the runs "
            "there are"
        )
        self.run_id = run_id


class ExperimentAlreadyExistsError(AlreadyExistsError):
    """An experiment with this name exists (possibly deleted)."""

    def __init__(self, name: str, *, is_deleted: bool = False) -> None:
        hint = (
            "it is deleted: restore it or pick another name"
            if is_deleted
            else "use it, or pick another name"
        )
        super().__init__(f"experiment {name!r} already exists; {hint}")
        self.name = name


class ParamConflictError(InvalidInputError):
    """A param was logged again with a different value; params are immutable once logged."""

    def __init__(self, run_id: str, key: str, old_value: str, new_value: str) -> None:
        super().__init__(
            f"param {key!r} of run {run_id} is already {old_value!r} and cannot change to "
            f"{new_value!r}; params are immutable: log the new value under another key, or start "
            "a new run",
            field=key,
        )
        self.run_id = run_id
        self.key = key
        self.old_value = old_value
        self.new_value = new_value


class RunNotActiveError(InvalidStateError):
    """Writing to a run that is deleted."""

    def __init__(self, run_id: str, status: str) -> None:
        super().__init__(
            f"run {run_id} is {status} and accepts no more data; restore it with "
            f"`mloop runs restore {run_id}` first"
        )
        self.run_id = run_id
        self.status = status


class InvalidFilterError(InvalidInputError):
    """A search filter or order-by clause does not parse.

    Attributes:
        text: the filter text.
        position: character offset where the problem was found, when known.
    """

    def __init__(self, message: str, *, text: str, position: int | None = None) -> None:
        where = f" at character {position}" if position is not None else ""
        super().__init__(
            f"invalid search filter{where}: {message}. Filters look like "
            "\"metrics.acc > 0.9 AND params.model = 'rf'\" (docs/search.md has the grammar)",
            field="filter",
        )
        self.text = text
        self.position = position


class LoggedModelNotFoundError(NotFoundError):
    """No MLflow logged model with the given id (served by the MLflow-compatible API)."""

    def __init__(self, model_id: str) -> None:
        super().__init__(
            f"logged model {model_id!r} does not exist; MLflow's `search_logged_models` lists the "
            "logged models of an experiment"
        )
        self.model_id = model_id
