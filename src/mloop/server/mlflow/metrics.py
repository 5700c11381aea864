"""MLflow's metric history endpoints: one run's history (paged), several runs' sampled history."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import Query

from mloop.entities import Metric
from mloop.errors import InvalidInputError
from mloop.server.mlflow.convert import json_float
from mloop.server.mlflow.routing import StoreDep, new_router
from mloop.server.mlflow.runs import RunRef

router = new_router()

MAX_BULK_RUNS = 100
MAX_BULK_RESULTS = 2500


def _point(metric: Metric, run_id: str | None = None) -> dict[str, Any]:
    point: dict[str, Any] = {
        "key": metric.key,
        "value": json_float(metric.value),
        "timestamp": metric.timestamp_ms,
        "step": metric.step,
    }
    if run_id is not None:
        point["run_id"] = run_id
    return point


@router.get("/metrics/get-history")
def get_metric_history(
    store: StoreDep,
    *,
    metric_key: Annotated[str, Query()],
    run_id: Annotated[str | None, Query()] = None,
    run_uuid: Annotated[str | None, Query()] = None,
    max_results: Annotated[int | None, Query(ge=1)] = None,
    page_token: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """Every point of a metric, by step then time; paged when `max_results` is given."""
    run = RunRef(run_id=run_id, run_uuid=run_uuid).id()
    points = store.runs.get_metric_history(run, metric_key)
    offset = _offset(page_token) if page_token else 0
    end = len(points) if max_results is None else offset + max_results
    answer: dict[str, Any] = {"metrics": [_point(m) for m in points[offset:end]]}
    if end < len(points):
        answer["next_page_token"] = base64.urlsafe_b64encode(str(end).encode()).decode()
    return answer


@router.get("/metrics/get-history-bulk-interval")
def get_metric_history_bulk_interval(
    store: StoreDep,
    *,
    run_ids: Annotated[list[str], Query()],
    metric_key: Annotated[str, Query()],
    start_step: Annotated[int | None, Query()] = None,
    end_step: Annotated[int | None, Query()] = None,
    max_results: Annotated[int, Query(ge=1, le=MAX_BULK_RESULTS)] = MAX_BULK_RESULTS,
) -> dict[str, Any]:
    """Several runs' history of one metric, sampled to at most `max_results` steps per run."""
    if len(run_ids) > MAX_BULK_RUNS:
        raise InvalidInputError(
            f"GetMetricHistoryBulkInterval request must specify at most {MAX_BULK_RUNS} "
            f"run_ids. Received {len(run_ids)} run_ids.",
            field="run_ids",
        )
    if (start_step is None) != (end_step is None):
        raise InvalidInputError(
            "If either start step or end step are specified, both must be specified.",
            field="start_step",
        )
    if start_step is not None and end_step is not None and start_step > end_step:
        raise InvalidInputError(
            "end_step must be greater than start_step. "
            f"Found start_step={start_step} and end_step={end_step}.",
            field="end_step",
        )
    histories = {r: store.runs.get_metric_history(r, metric_key) for r in run_ids}
    low = start_step if start_step is not None else 0
    high = (
        end_step
        if end_step is not None
        else max((m.step for points in histories.values() for m in points), default=0)
    )
    in_range = {r: [m for m in points if low <= m.step <= high] for r, points in histories.items()}
    # Sample steps evenly over the union of steps, keeping each run's first and last step.
    steps = sorted({m.step for points in in_range.values() for m in points})
    if len(steps) > max_results:
        stride = (len(steps) - 1) / max(max_results - 1, 1)
        chosen = {steps[round(i * stride)] for i in range(max_results)}
        for points in in_range.values():
            if points:
                chosen |= {min(m.step for m in points), max(m.step for m in points)}
    else:
        chosen = set(steps)
    metrics = [
        _point(m, run_id) for run_id, points in in_range.items() for m in points if m.step in chosen
    ]
    return {"metrics": metrics}


def _offset(token: str) -> int:
    try:
        offset = int(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, binascii.Error) as exc:
        raise InvalidInputError("the page token is malformed", field="page_token") from exc
    if offset < 0:
        raise InvalidInputError("the page token is malformed", field="page_token")
    return offset
