"""Choosing the experiment the fluent API logs to."""

from __future__ import annotations

from mloop.client.context import STATE, get_store, settings
from mloop.entities import Experiment, LifecycleStage
from mloop.errors import ExperimentNotFoundError, InvalidStateError

DEFAULT_EXPERIMENT_ID = "0"


def set_experiment(name: str | None = None, *, experiment_id: str | None = None) -> Experiment:
    """Make an experiment current, creating it by name when it does not exist.

    Args:
        name: the experiment's name.
        experiment_id: or its id (must exist).

    Returns:
        The experiment.

    Raises:
        InvalidInputError: neither or both of name and id given, or a bad name.
        ExperimentNotFoundError: the id does not exist.
        InvalidStateError: the experiment is deleted.
    """
    from mloop.errors import InvalidInputError

    if (name is None) == (experiment_id is None):
        raise InvalidInputError("give exactly one of name or experiment_id", field="name")
    store = get_store()
    if name is not None:
        experiment = store.experiments.find_by_name(name) or _create(name)
    else:
        experiment = store.experiments.get(str(experiment_id))
    if experiment.lifecycle_stage == LifecycleStage.DELETED:
        raise InvalidStateError(
            f"experiment {experiment.name!r} is deleted; restore it with "
            f"`mloop experiments restore {experiment.experiment_id}` or use another name"
        )
    STATE.experiment_id = experiment.experiment_id
    return experiment


def _create(name: str) -> Experiment:
    from mloop.errors import ExperimentAlreadyExistsError

    store = get_store()
    try:
        return store.experiments.create(name)
    except ExperimentAlreadyExistsError:  # another process created it meanwhile
        return store.experiments.get_by_name(name)


def current_experiment_id() -> str:
    """The experiment new runs go to: `set_experiment`, else `MLOOP_EXPERIMENT_NAME`, else "0"."""
    if STATE.experiment_id is not None:
        return STATE.experiment_id
    name = settings().experiment_name
    if name:
        return set_experiment(name).experiment_id
    return DEFAULT_EXPERIMENT_ID


def get_experiment_by_name(name: str) -> Experiment:
    """The experiment with this name.

    Raises:
        ExperimentNotFoundError: there is none.
    """
    found = get_store().experiments.find_by_name(name)
    if found is None:
        raise ExperimentNotFoundError(name)
    return found
