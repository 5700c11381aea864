"""`/api/v1/runs/{run_id}/...`: log metrics, params, tags and inputs, read metric histories."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status

from mloop.entities import Metric, Param, RunInput, RunStart, RunTag
from mloop.entities.clock import now_ms
from mloop.errors import InvalidInputError
from mloop.server.deps import StoreDep, authenticated_name
from mloop.server.lean_routes import LeanRoute, lean
from mloop.server.schemas import ERROR_RESPONSES, Key, RunId, TagIn, encode_float
from mloop.server.schemas_runs import (
    BatchIn,
    FinishIn,
    InputsIn,
    MetricColumnsOut,
    MetricHistoryOut,
    MetricIn,
    ParamIn,
)
from mloop.storage import metric_frames

router = APIRouter(
    prefix="/api/v1/runs/{run_id}",
    tags=["logging"],
    responses=ERROR_RESPONSES,
    route_class=LeanRoute,
)

RunPath = Annotated[RunId, Path(description="32 lowercase hex characters.")]
KeyQuery = Annotated[Key, Query(description="The metric key.")]
_NO_CONTENT = status.HTTP_204_NO_CONTENT


def _metrics(items: list[MetricIn]) -> list[Metric]:
    stamp = now_ms()
    return [
        Metric(m.key, m.value, m.timestamp_ms if m.timestamp_ms is not None else stamp, m.step)
        for m in items
    ]


@router.post("/batch", status_code=_NO_CONTENT)
@lean
def log_batch(run_id: RunPath, body: BatchIn, store: StoreDep) -> Response:
    """Write metrics, params and tags in one transaction (re-sending a batch is a no-op)."""
    store.runs.log_batch(
        run_id,
        metrics=_metrics(body.metrics),
        params=[Param(p.key, p.value) for p in body.params],
        tags=[RunTag(t.key, t.value) for t in body.tags],
    )
    return Response(status_code=_NO_CONTENT)


@router.post("/finish", status_code=_NO_CONTENT)
@lean
def finish_run(run_id: RunPath, body: FinishIn, store: StoreDep, request: Request) -> Response:
    """Write the run's last batch and end it (status and end time) in one transaction.

    With `experiment_id` the run is created first when it does not exist; with auth on, it
    belongs to the authenticated user, whatever `user_id` the body claims.
    """
    store.runs.finish(
        run_id,
        status=body.status,
        end_time_ms=body.end_time_ms,
        metrics=_metrics(body.metrics),
        params=[Param(p.key, p.value) for p in body.params],
        tags=[RunTag(t.key, t.value) for t in body.tags],
        start=_start(body, request),
    )
    return Response(status_code=_NO_CONTENT)


def _start(body: FinishIn, request: Request) -> RunStart | None:
    """How to create the run a finish request may start, or None."""
    if body.experiment_id is None:
        return None
    if body.run_name is None:
        raise InvalidInputError(
            "a finish that creates its run (experiment_id given) needs run_name too",
            field="run_name",
        )
    return RunStart(
        experiment_id=body.experiment_id,
        run_name=body.run_name,
        start_time_ms=body.start_time_ms if body.start_time_ms is not None else now_ms(),
        user_id=authenticated_name(request) or body.user_id,
        parent_run_id=body.parent_run_id,
        share_artifacts=(
            None
            if body.share_artifacts_run_id is None
            else (body.share_artifacts_run_id, body.share_artifacts_folder)
        ),
    )


@router.post("/metrics", status_code=_NO_CONTENT)
def log_metric(run_id: RunPath, body: MetricIn, store: StoreDep) -> Response:
    """Log one metric point (clients that log many should batch them)."""
    store.runs.log_batch(run_id, metrics=_metrics([body]))
    return Response(status_code=_NO_CONTENT)


@router.post("/params", status_code=_NO_CONTENT)
def log_param(run_id: RunPath, body: ParamIn, store: StoreDep) -> Response:
    """Log a param; params are immutable (another value is a 400 PARAM_CONFLICT)."""
    store.runs.log_batch(run_id, params=[Param(body.key, body.value)])
    return Response(status_code=_NO_CONTENT)


@router.post("/tags", status_code=_NO_CONTENT)
def set_tag(run_id: RunPath, body: TagIn, store: StoreDep) -> Response:
    """Set or overwrite a tag."""
    store.runs.log_batch(run_id, tags=[RunTag(body.key, body.value)])
    return Response(status_code=_NO_CONTENT)


@router.delete("/tags", status_code=_NO_CONTENT)
def delete_tag(
    run_id: RunPath, key: Annotated[Key, Query(description="The tag key.")], store: StoreDep
) -> Response:
    """Remove a tag (400 when the run has no such tag)."""
    store.runs.delete_tag(run_id, key)
    return Response(status_code=_NO_CONTENT)


@router.post("/inputs", status_code=_NO_CONTENT)
def log_inputs(run_id: RunPath, body: InputsIn, store: StoreDep) -> Response:
    """Record datasets the run consumed (recording one again is a no-op)."""
    store.runs.log_inputs(
        run_id, [RunInput(i.name, i.digest, i.source, i.context) for i in body.inputs]
    )
    return Response(status_code=_NO_CONTENT)


@router.get("/metrics/history", response_model=MetricHistoryOut)
def get_metric_history(run_id: RunPath, key: KeyQuery, store: StoreDep) -> Response:
    """Every point of one metric, one object per point, by step then timestamp."""
    columns = store.runs.get_metric_history_columns(run_id, key)
    values = _json_values(columns.values)
    points = [
        {"value": v, "timestamp_ms": t, "step": s}
        for s, t, v in zip(
            columns.steps.tolist(), columns.timestamps_ms.tolist(), values, strict=True
        )
    ]
    return _json({"key": key, "metrics": points})


@router.get(
    "/metrics/history/columns",
    response_model=MetricColumnsOut,
    responses={
        200: {
            "description": (
                f"JSON columns; with `Accept: {metric_frames.MEDIA_TYPE}`, the raw columns "
                "(magic MLC1, uint64 count, int64 steps, int64 timestamps, float64 values, "
                "all little-endian)"
            ),
            "content": {
                metric_frames.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
def get_metric_history_columns(
    run_id: RunPath, key: KeyQuery, store: StoreDep, request: Request
) -> Response:
    """Every point of one metric as columns (steps, timestamps_ms, values): compact and fast."""
    columns = store.runs.get_metric_history_columns(run_id, key)
    if metric_frames.MEDIA_TYPE in request.headers.get("accept", ""):
        return Response(metric_frames.encode(columns), media_type=metric_frames.MEDIA_TYPE)
    return _json(
        {
            "key": key,
            "steps": columns.steps.tolist(),
            "timestamps_ms": columns.timestamps_ms.tolist(),
            "values": _json_values(columns.values),
        }
    )


def _json_values(values: Any) -> list[float | str]:
    """A float column as JSON can carry it, converting only when a value is not finite."""
    import numpy as np  # only when a history is read: it costs a tenth of a second at start

    if bool(np.isfinite(values).all()):
        plain: list[float | str] = values.tolist()
        return plain
    return [encode_float(v) for v in values.tolist()]


def _json(content: dict[str, Any]) -> Response:
    # Built here rather than through the response model: validating 10,000 points again
    # would cost more than reading them.
    body = json.dumps(content, separators=(",", ":"), allow_nan=False)
    return Response(body, media_type="application/json")
