"""MLflow's experiment endpoints: create, get (by id or name), search, rename, delete, tags.

Experiments are few, so search filters and orders them in memory with the shared grammar.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import Field

from mloop.entities import Experiment, LifecycleStage
from mloop.errors import (
    ExperimentNotFoundError,
    InvalidFilterError,
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
)
from mloop.server.mlflow.convert import experiment_json
from mloop.server.mlflow.routing import (
    KeyValue,
    Location,
    Message,
    StoreDep,
    actor_of,
    new_router,
)
from mloop.storage import Store
from mloop.storage.search.matching import lookup_in, matches
from mloop.storage.search.parser import Searchable, parse_filter
from mloop.storage.search.syntax import Entity

router = new_router()

MAX_RESULTS = 50_000
_SEARCHABLE = Searchable(
    "experiments",
    frozenset({Entity.ATTRIBUTE, Entity.TAG}),
    frozenset({"creation_time", "last_update_time"}),
    frozenset({"name", "experiment_id"}),
)
_ORDER_FIELDS = {"name", "experiment_id", "creation_time", "last_update_time"}


class CreateExperiment(Message):
    name: str
    artifact_location: Location | None = None
    tags: list[KeyValue] = Field(default_factory=list)


class ExperimentRef(Message):
    experiment_id: str


class UpdateExperiment(Message):
    experiment_id: str
    new_name: str


class SetExperimentTag(Message):
    experiment_id: str
    key: str
    value: str


class SearchExperiments(Message):
    max_results: int | None = None
    page_token: str | None = None
    filter: str | None = None
    order_by: list[str] = Field(default_factory=list)
    view_type: str | int | None = None


@router.post("/experiments/create")
def create_experiment(body: CreateExperiment, store: StoreDep) -> dict[str, Any]:
    """Create an experiment; answers its id."""
    experiment = store.experiments.create(
        body.name,
        artifact_location=body.artifact_location or None,
        tags={t.key: t.value for t in body.tags},
    )
    return {"experiment_id": experiment.experiment_id}


@router.get("/experiments/get")
def get_experiment(experiment_id: Annotated[str, Query()], store: StoreDep) -> dict[str, Any]:
    """One experiment by id (deleted ones too, as MLflow answers)."""
    experiment = store.experiments.get(experiment_id)
    return {"experiment": experiment_json(experiment, store.artifact_root)}


@router.get("/experiments/get-by-name")
def get_experiment_by_name(
    experiment_name: Annotated[str, Query()], store: StoreDep
) -> dict[str, Any]:
    """One experiment by name."""
    experiment = store.experiments.find_by_name(experiment_name)
    if experiment is None:
        raise ExperimentNotFoundError(experiment_name)
    return {"experiment": experiment_json(experiment, store.artifact_root)}


@router.post("/experiments/update")
def update_experiment(body: UpdateExperiment, store: StoreDep) -> dict[str, Any]:
    """Rename an active experiment (MLflow refuses to rename a deleted one)."""
    _active(store, body.experiment_id)
    store.experiments.rename(body.experiment_id, body.new_name)
    return {}


@router.post("/experiments/delete")
def delete_experiment(body: ExperimentRef, request: Request, store: StoreDep) -> dict[str, Any]:
    """Soft-delete an active experiment and, as MLflow does, its runs."""
    _in_stage(store, body.experiment_id, LifecycleStage.ACTIVE)
    store.experiments.delete(body.experiment_id)
    for run_id in _run_ids(store, body.experiment_id, LifecycleStage.ACTIVE):
        store.runs.delete(run_id, actor=actor_of(request))
    return {}


@router.post("/experiments/restore")
def restore_experiment(body: ExperimentRef, request: Request, store: StoreDep) -> dict[str, Any]:
    """Restore a deleted experiment and, as MLflow does, every deleted run in it."""
    _in_stage(store, body.experiment_id, LifecycleStage.DELETED)
    store.experiments.restore(body.experiment_id)
    for run_id in _run_ids(store, body.experiment_id, LifecycleStage.DELETED):
        store.runs.restore(run_id, actor=actor_of(request))
    return {}


def _active(store: Store, experiment_id: str) -> None:
    if store.experiments.get(experiment_id).lifecycle_stage is LifecycleStage.DELETED:
        raise InvalidStateError(
            f"The experiment {experiment_id} must be in the 'active' state. "
            "Current state is deleted."
        )


def _in_stage(store: Store, experiment_id: str, stage: LifecycleStage) -> None:
    experiment = store.experiments.get(experiment_id)
    if experiment.lifecycle_stage is not stage:
        raise NotFoundError(
            f"No Experiment with id={experiment_id} exists in lifecycle stage {stage.value!r} "
            f"(it is {experiment.lifecycle_stage.value})"
        )


def _run_ids(store: Store, experiment_id: str, stage: LifecycleStage) -> list[str]:
    ids: list[str] = []
    token = None
    while True:
        page = store.runs.search(
            [experiment_id],
            filter_string=f"attributes.lifecycle_stage = '{stage.value}'",
            include_deleted=True,
            max_results=MAX_RESULTS,
            page_token=token,
        )
        ids.extend(r.run_id for r in page)
        token = page.next_page_token
        if token is None:
            return ids


@router.post("/experiments/set-experiment-tag")
def set_experiment_tag(body: SetExperimentTag, store: StoreDep) -> dict[str, Any]:
    """Set (or overwrite) a tag of an active experiment."""
    _active(store, body.experiment_id)
    store.experiments.set_tag(body.experiment_id, body.key, body.value)
    return {}


class DeleteExperimentTag(Message):
    experiment_id: str
    key: str


@router.post("/experiments/delete-experiment-tag")
def delete_experiment_tag(body: DeleteExperimentTag, store: StoreDep) -> dict[str, Any]:
    """Remove a tag of an active experiment (RESOURCE_DOES_NOT_EXIST when it has none)."""
    _active(store, body.experiment_id)
    store.experiments.delete_tag(body.experiment_id, body.key)
    return {}


@router.post("/experiments/search")
def search_experiments(body: SearchExperiments, store: StoreDep) -> dict[str, Any]:
    """Experiments matching a filter, in order, one page at a time."""
    return _search(body, store)


@router.get("/experiments/search")
def search_experiments_get(
    query: Annotated[SearchExperiments, Query()], store: StoreDep
) -> dict[str, Any]:
    """The GET form of search."""
    return _search(query, store)


def view_stages(view_type: str | int | None) -> set[LifecycleStage]:
    """The lifecycle stages an MLflow view type selects (ACTIVE_ONLY by default).

    Raises:
        InvalidInputError: the view type is unknown.
    """
    views = {
        None: {LifecycleStage.ACTIVE},
        "": {LifecycleStage.ACTIVE},
        "ACTIVE_ONLY": {LifecycleStage.ACTIVE},
        "1": {LifecycleStage.ACTIVE},
        "DELETED_ONLY": {LifecycleStage.DELETED},
        "2": {LifecycleStage.DELETED},
        "ALL": {LifecycleStage.ACTIVE, LifecycleStage.DELETED},
        "3": {LifecycleStage.ACTIVE, LifecycleStage.DELETED},
    }
    key = None if view_type is None else str(view_type).upper()
    if key not in views:
        raise InvalidInputError(
            f"view type {view_type!r} is not ACTIVE_ONLY, DELETED_ONLY or ALL", field="view_type"
        )
    return views[key]


def _search(body: SearchExperiments, store: Store) -> dict[str, Any]:
    max_results = body.max_results if body.max_results is not None else 1000
    if not 1 <= max_results <= MAX_RESULTS:
        raise InvalidInputError(
            f"Invalid value {max_results} for parameter 'max_results' supplied: it must be "
            f"between 1 and {MAX_RESULTS}",
            field="max_results",
        )
    stages = view_stages(body.view_type)
    node = parse_filter(body.filter, searchable=_SEARCHABLE)
    experiments = [
        e
        for e in store.experiments.list(include_deleted=LifecycleStage.DELETED in stages)
        if e.lifecycle_stage in stages and matches(node, _lookup(e))
    ]
    experiments = _ordered(experiments, body.order_by)
    fingerprint = json.dumps([body.filter, body.order_by, sorted(stages)])
    offset = _decode(body.page_token, fingerprint) if body.page_token else 0
    page = experiments[offset : offset + max_results]
    answer: dict[str, Any] = {
        "experiments": [experiment_json(e, store.artifact_root) for e in page]
    }
    if offset + max_results < len(experiments):
        token = json.dumps({"offset": offset + max_results, "query": fingerprint})
        answer["next_page_token"] = base64.urlsafe_b64encode(token.encode()).decode()
    return answer


def _lookup(experiment: Experiment) -> Any:
    return lookup_in(
        {
            "name": experiment.name,
            "experiment_id": experiment.experiment_id,
            "creation_time": float(experiment.created_at_ms),
            "last_update_time": float(experiment.updated_at_ms),
        },
        tags=experiment.tags,
    )


def _ordered(experiments: list[Experiment], order_by: list[str]) -> list[Experiment]:
    # MLflow's default: newest first, then by id.
    result = sorted(experiments, key=lambda e: (-e.created_at_ms, int(e.experiment_id)))
    for clause in reversed(order_by):
        field, _, direction = clause.strip().partition(" ")
        field = field.removeprefix("attributes.").removeprefix("attribute.")
        direction = direction.strip().upper() or "ASC"
        if field not in _ORDER_FIELDS or direction not in ("ASC", "DESC"):
            raise InvalidFilterError(
                f"cannot order experiments by {clause!r}; use name, experiment_id, "
                "creation_time or last_update_time with ASC or DESC",
                text=clause,
            )
        result.sort(key=lambda e: _order_value(e, field), reverse=direction == "DESC")
    return result


def _order_value(experiment: Experiment, field: str) -> Any:
    return {
        "name": experiment.name,
        "experiment_id": int(experiment.experiment_id),
        "creation_time": experiment.created_at_ms,
        "last_update_time": experiment.updated_at_ms,
    }[field]


def _decode(token: str, fingerprint: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(data["offset"])
        same = data["query"] == fingerprint
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InvalidInputError("the page token is malformed", field="page_token") from exc
    if not same or offset < 0:
        raise InvalidInputError(
            "the page token belongs to another search; repeat the first page's filter and order",
            field="page_token",
        )
    return offset
