"""MLflow's run logging endpoints: metrics, params, tags, batches, inputs and outputs.

Everything goes through `RunStore.log_batch`, which is idempotent (a retried request writes
nothing twice). Metrics that name a logged model are also recorded against that model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from mloop.entities import Metric, Param, RunInput, RunTag
from mloop.entities.clock import now_ms
from mloop.entities.logged_models import LoggedModelLink, LoggedModelMetric
from mloop.entities.validation import MAX_KEY_LENGTH, validate_batch_sizes
from mloop.errors import InvalidInputError, NotFoundError
from mloop.server.mlflow.routing import (
    Int64,
    KeyValue,
    Message,
    Millis,
    StoreDep,
    Text64,
    Text128,
    Text250,
    Text1000,
    new_router,
)
from mloop.server.mlflow.runs import RUN_NAME_TAG, RunRef, active_run
from mloop.storage import Store

router = new_router()

DATASET_CONTEXT_TAG = "mlflow.data.context"
# The tag in which MLflow keeps the MLmodel metadata of every model logged to a run.
LOGGED_MODELS_TAG = "mlflow.log-model.history"


class MetricIn(Message):
    key: str
    value: float
    timestamp: Millis | None = None
    step: Int64 = 0
    model_id: Text64 | None = None
    dataset_name: Text250 | None = None
    dataset_digest: Text128 | None = None


class LogMetric(RunRef, MetricIn):
    pass


class LogParam(RunRef):
    key: str
    value: str = ""


class SetTag(RunRef):
    key: str
    value: str = ""


class DeleteTag(RunRef):
    key: str


class LogBatch(RunRef):
    metrics: list[MetricIn] = Field(default_factory=list)
    params: list[KeyValue] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)


class LogModel(RunRef):
    model_json: str


class Dataset(Message):
    name: Text250
    digest: Text128
    source_type: str | None = None
    source: Text1000 | None = None


class DatasetInput(Message):
    tags: list[KeyValue] = Field(default_factory=list)
    dataset: Dataset


class ModelInput(Message):
    model_id: Text64


class ModelOutput(Message):
    model_id: Text64
    step: Int64 = 0


class LogInputs(RunRef):
    datasets: list[DatasetInput] = Field(default_factory=list)
    models: list[ModelInput] = Field(default_factory=list)


class LogOutputs(RunRef):
    models: list[ModelOutput] = Field(default_factory=list)


def _log(
    store: Store,
    run_id: str,
    *,
    metrics: Sequence[MetricIn] = (),
    params: Sequence[Param] = (),
    tags: Sequence[RunTag] = (),
) -> None:
    stamp = now_ms()
    points = [Metric(m.key, m.value, m.timestamp or stamp, m.step) for m in metrics]
    store.runs.log_batch(run_id, metrics=points, params=params, tags=tags)
    by_model: dict[str, list[LoggedModelMetric]] = {}
    for m in metrics:
        if m.model_id:
            by_model.setdefault(m.model_id, []).append(
                LoggedModelMetric(
                    m.key,
                    m.value,
                    m.timestamp or stamp,
                    m.step,
                    run_id=run_id,
                    dataset_name=m.dataset_name or "",
                    dataset_digest=m.dataset_digest or "",
                )
            )
    for model_id, model_points in by_model.items():
        store.logged_models.log_metrics(model_id, model_points)
    for tag in tags:
        if tag.key == RUN_NAME_TAG:
            store.runs.update(run_id, run_name=tag.value)


@router.post("/runs/log-metric")
def log_metric(body: LogMetric, store: StoreDep) -> dict[str, Any]:
    """Log one metric point."""
    _log(store, body.id(), metrics=[body])
    return {}


@router.post("/runs/log-parameter")
def log_param(body: LogParam, store: StoreDep) -> dict[str, Any]:
    """Log one param (immutable once logged)."""
    _log(store, body.id(), params=[Param(body.key, body.value)])
    return {}


@router.post("/runs/set-tag")
def set_tag(body: SetTag, store: StoreDep) -> dict[str, Any]:
    """Set (or overwrite) a tag; `mlflow.runName` also renames the run."""
    _log(store, body.id(), tags=[RunTag(body.key, body.value)])
    return {}


@router.post("/runs/delete-tag")
def delete_tag(body: DeleteTag, store: StoreDep) -> dict[str, Any]:
    """Remove a tag."""
    run_id = body.id()
    run = active_run(store, run_id)
    if body.key not in run.tags:
        raise NotFoundError(f"No tag with name: {body.key} in run with id {run_id}")
    store.runs.delete_tag(run_id, body.key)
    return {}


@router.post("/runs/log-batch")
def log_batch(body: LogBatch, store: StoreDep) -> dict[str, Any]:
    """Log metrics, params and tags in one transaction."""
    validate_batch_sizes(metrics=len(body.metrics), params=len(body.params), tags=len(body.tags))
    _log(
        store,
        body.id(),
        metrics=body.metrics,
        params=[Param(p.key, p.value) for p in body.params],
        tags=[RunTag(t.key, t.value) for t in body.tags],
    )
    return {}


@router.post("/runs/log-inputs")
def log_inputs(body: LogInputs, store: StoreDep) -> dict[str, Any]:
    """Record datasets and logged models a run consumed."""
    run_id = body.id()
    active_run(store, run_id)
    for d in body.datasets:
        for tag in d.tags:
            if tag.key == DATASET_CONTEXT_TAG and len(tag.value) > MAX_KEY_LENGTH:
                raise InvalidInputError(
                    f"dataset context {tag.value[:40]!r}... is {len(tag.value)} characters long; "
                    f"the limit is {MAX_KEY_LENGTH}",
                    field=DATASET_CONTEXT_TAG,
                )
    inputs = [
        RunInput(
            name=d.dataset.name,
            digest=d.dataset.digest,
            source=d.dataset.source or "",
            context=next((t.value for t in d.tags if t.key == DATASET_CONTEXT_TAG), ""),
        )
        for d in body.datasets
    ]
    if inputs:
        store.runs.log_inputs(run_id, inputs)
    store.logged_models.log_links(
        [LoggedModelLink(run_id, m.model_id, is_output=False) for m in body.models]
    )
    return {}


@router.post("/runs/outputs")
def log_outputs(body: LogOutputs, store: StoreDep) -> dict[str, Any]:
    """Record logged models a run produced."""
    run_id = body.id()
    active_run(store, run_id)
    store.logged_models.log_links(
        [LoggedModelLink(run_id, m.model_id, is_output=True, step=m.step) for m in body.models]
    )
    return {}


@router.post("/runs/log-model")
def log_model(body: LogModel, store: StoreDep) -> dict[str, Any]:
    """Append a model's MLmodel metadata to the run's `mlflow.log-model.history` tag."""
    run_id = body.id()
    run = active_run(store, run_id)
    try:
        model = json.loads(body.model_json)
        history = json.loads(run.tags.get(LOGGED_MODELS_TAG, "[]"))
    except ValueError as exc:
        raise InvalidInputError(
            f"Invalid value for parameter 'model_json' supplied: not JSON ({exc})",
            field="model_json",
        ) from exc
    value = json.dumps([*history, model]) if isinstance(history, list) else json.dumps([model])
    store.runs.log_batch(run_id, tags=[RunTag(LOGGED_MODELS_TAG, value)])
    return {}
