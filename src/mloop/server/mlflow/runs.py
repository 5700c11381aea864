"""MLflow's run endpoints: create, get, update, delete, restore and search.

Where mloop's run model is more lenient than MLflow's (mloop lets a deleted run be ended or
renamed), these endpoints answer as MLflow does: a deleted run refuses changes with
INVALID_PARAMETER_VALUE. The run name is mirrored in the `mlflow.runName` tag, as MLflow keeps it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import Field

from mloop.entities import LifecycleStage, Run, RunStatus, RunTag
from mloop.errors import InvalidInputError, InvalidStateError
from mloop.server.deps import authenticated_name
from mloop.server.mlflow.convert import run_info_json, run_json
from mloop.server.mlflow.experiments import view_stages
from mloop.server.mlflow.routing import (
    KeyValue,
    Message,
    Millis,
    StoreDep,
    Text256,
    actor_of,
    new_router,
)
from mloop.storage import Store
from mloop.tracking.names import generate_run_name

router = new_router()

RUN_NAME_TAG = "mlflow.runName"
PARENT_RUN_TAG = "mlflow.parentRunId"
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
# MLflow's proto enum numbers, for clients that send numbers instead of names.
_STATUS_NUMBERS = {"1": "RUNNING", "2": "SCHEDULED", "3": "FINISHED", "4": "FAILED", "5": "KILLED"}


class CreateRun(Message):
    experiment_id: str | None = None
    user_id: Text256 | None = None
    run_name: str | None = None
    start_time: Millis | None = None
    tags: list[KeyValue] = Field(default_factory=list)


class RunRef(Message):
    run_id: str | None = None
    run_uuid: str | None = None

    def id(self) -> str:
        """The run id, from `run_id` or the older `run_uuid`.

        Raises:
            InvalidInputError: neither is given.
        """
        value = self.run_id or self.run_uuid
        if not value:
            raise InvalidInputError("Missing value for required parameter 'run_id'")
        return value


class UpdateRun(RunRef):
    status: str | int | None = None
    end_time: Millis | None = None
    run_name: str | None = None


class SearchRuns(Message):
    experiment_ids: list[str] = Field(default_factory=list)
    filter: str | None = None
    run_view_type: str | int | None = None
    max_results: int | None = None
    order_by: list[str] = Field(default_factory=list)
    page_token: str | None = None


def runs_json(store: Store, runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Runs as MLflow's `Run` messages, with their logged-model inputs and outputs."""
    links = store.logged_models.links_of([r.run_id for r in runs]) if runs else {}
    return [run_json(r, store.artifact_root, links.get(r.run_id, ())) for r in runs]


def active_run(store: Store, run_id: str) -> Run:
    """The run, which must not be deleted (MLflow refuses changes to deleted runs).

    Raises:
        RunNotFoundError: no such run.
        InvalidStateError: the run is deleted.
    """
    run = store.runs.get(run_id)
    if run.lifecycle_stage is LifecycleStage.DELETED:
        raise InvalidStateError(
            f"The run {run_id} must be in the 'active' state. Current state is deleted."
        )
    return run


def parse_status(value: str | int) -> RunStatus:
    """A run status from its MLflow name or proto number.

    Raises:
        InvalidInputError: not a run status.
    """
    text = _STATUS_NUMBERS.get(str(value), str(value))
    try:
        return RunStatus(text)
    except ValueError as exc:
        raise InvalidInputError(
            f"Invalid value {value!r} for parameter 'status' supplied: use RUNNING, SCHEDULED, "
            "FINISHED, FAILED or KILLED",
            field="status",
        ) from exc


@router.post("/runs/create")
def create_run(body: CreateRun, store: StoreDep, request: Request) -> dict[str, Any]:
    """Start a run; answers the run (owned by the authenticated user when auth is on)."""
    tags = {t.key: t.value for t in body.tags}
    tagged_name = tags.get(RUN_NAME_TAG)
    if body.run_name and tagged_name and body.run_name != tagged_name:
        raise InvalidInputError(
            f"Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
            f"different values (run_name='{body.run_name}', mlflow.runName='{tagged_name}').",
            field="run_name",
        )
    run_name = body.run_name or tagged_name or generate_run_name()
    tags[RUN_NAME_TAG] = run_name
    experiment_id = body.experiment_id or "0"
    experiment = store.experiments.get(experiment_id)
    if experiment.lifecycle_stage is LifecycleStage.DELETED:
        raise InvalidStateError(
            f"The experiment {experiment_id} must be in the 'active' state. "
            "Current state is deleted."
        )
    parent = tags.get(PARENT_RUN_TAG)
    run = store.runs.create(
        experiment_id,
        run_name=run_name,
        start_time_ms=body.start_time,
        user_id=authenticated_name(request) or body.user_id or "",
        parent_run_id=parent if parent and _RUN_ID.match(parent) else None,
        tags=[RunTag(k, v) for k, v in tags.items()],
    )
    return {"run": run_json(run, store.artifact_root)}


@router.get("/runs/get")
def get_run(
    store: StoreDep,
    run_id: Annotated[str | None, Query()] = None,
    run_uuid: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """One run with its data, inputs and outputs (deleted runs too, as MLflow answers)."""
    run = store.runs.get(RunRef(run_id=run_id, run_uuid=run_uuid).id())
    return {"run": runs_json(store, [run])[0]}


@router.post("/runs/update")
def update_run(body: UpdateRun, store: StoreDep) -> dict[str, Any]:
    """Change a run's status, end time or name; answers the run's info."""
    run_id = body.id()
    active_run(store, run_id)
    status = parse_status(body.status) if body.status not in (None, "") else None
    store.runs.update(
        run_id, status=status, end_time_ms=body.end_time, run_name=body.run_name or None
    )
    if body.run_name:
        store.runs.log_batch(run_id, tags=[RunTag(RUN_NAME_TAG, body.run_name)])
    return {"run_info": run_info_json(store.runs.get(run_id), store.artifact_root)}


@router.post("/runs/delete")
def delete_run(body: RunRef, request: Request, store: StoreDep) -> dict[str, Any]:
    """Soft-delete a run."""
    store.runs.delete(body.id(), actor=actor_of(request))
    return {}


@router.post("/runs/restore")
def restore_run(body: RunRef, request: Request, store: StoreDep) -> dict[str, Any]:
    """Undo a delete."""
    store.runs.restore(body.id(), actor=actor_of(request))
    return {}


@router.post("/runs/search")
def search_runs(body: SearchRuns, store: StoreDep) -> dict[str, Any]:
    """Runs of experiments that match a filter, in order, one page at a time."""
    stages = view_stages(body.run_view_type)
    text = body.filter or None
    if stages == {LifecycleStage.DELETED}:
        deleted = "attributes.lifecycle_stage = 'deleted'"
        text = f"({text}) AND {deleted}" if text else deleted
    page = store.runs.search(
        body.experiment_ids,
        filter_string=text,
        order_by=body.order_by or None,
        include_deleted=LifecycleStage.DELETED in stages,
        max_results=body.max_results if body.max_results is not None else 1000,
        page_token=body.page_token or None,
    )
    answer: dict[str, Any] = {"runs": runs_json(store, page)}
    if page.next_page_token:
        answer["next_page_token"] = page.next_page_token
    return answer
