"""Reading runs back from SQL: one run row plus bulk queries for all runs' children."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, literal, select, union_all
from sqlalchemy.engine import Connection

from mloop.entities import LifecycleStage, Run, RunInput, RunStatus
from mloop.storage.sql import schema

_runs = schema.runs
_params = schema.params
_tags = schema.tags
_latest = schema.latest_metrics
_keys = schema.metric_keys
_inputs = schema.run_inputs

_PKS: Any = bindparam("pks", expanding=True)
# Built once: constructing a statement costs more than running it for one run.
_CHILDREN = union_all(
    select(literal(0), _params.c.run_id, _params.c.key, _params.c.value).where(
        _params.c.run_id.in_(_PKS)
    ),
    select(literal(1), _tags.c.run_id, _tags.c.key, _tags.c.value).where(_tags.c.run_id.in_(_PKS)),
)
_LATEST = (
    select(
        _latest.c.run_id,
        _keys.c.key,
        _latest.c.value,
        _latest.c.is_nan,
        _latest.c.step,
        _latest.c.timestamp,
    )
    .join(_keys, _keys.c.id == _latest.c.key_id)
    .where(_latest.c.run_id.in_(_PKS))
)
_INPUTS = select(
    _inputs.c.run_id, _inputs.c.name, _inputs.c.digest, _inputs.c.source, _inputs.c.context
).where(_inputs.c.run_id.in_(_PKS))
RUN_BY_UUID = select(_runs).where(_runs.c.run_uuid == bindparam("run_uuid"))


def load_runs(conn: Connection, rows: Sequence[Sequence[Any]]) -> list[Run]:
    """Turn run rows into entities with three bulk queries for all their children."""
    if not rows:
        return []
    pks = [row[0] for row in rows]
    params: dict[int, dict[str, str]] = {pk: {} for pk in pks}
    tags: dict[int, dict[str, str]] = {pk: {} for pk in pks}
    metrics: dict[int, dict[str, float]] = {pk: {} for pk in pks}
    steps: dict[int, dict[str, tuple[int, int]]] = {pk: {} for pk in pks}
    inputs: dict[int, list[RunInput]] = {pk: [] for pk in pks}
    for kind, run_pk, key, value in conn.execute(_CHILDREN, {"pks": pks}).all():
        (tags if kind else params)[run_pk][key] = value
    for run_pk, key, value, is_nan, step, stamp in conn.execute(_LATEST, {"pks": pks}).all():
        metrics[run_pk][key] = math.nan if is_nan else value
        steps[run_pk][key] = (step, stamp)
    for run_pk, name, digest, source, context in conn.execute(_INPUTS, {"pks": pks}).all():
        inputs[run_pk].append(RunInput(name, digest, source, context))
    runs = [_run_entity(tuple(row), params, metrics, tags, inputs) for row in rows]
    for row, run in zip(rows, runs, strict=True):
        run.metric_steps.update(steps[row[0]])
    return runs


def _run_entity(
    row: tuple[Any, ...],
    params: dict[int, dict[str, str]],
    metrics: dict[int, dict[str, float]],
    tags: dict[int, dict[str, str]],
    inputs: dict[int, list[RunInput]],
) -> Run:
    (pk, run_uuid, experiment_id, name, status, start, end, stage, _deleted, uri, user, parent) = (
        row
    )
    return Run(
        run_id=run_uuid,
        experiment_id=str(experiment_id),
        run_name=name,
        status=RunStatus(status),
        start_time_ms=start,
        end_time_ms=end,
        lifecycle_stage=LifecycleStage(stage),
        artifact_uri=uri,
        user_id=user,
        parent_run_id=parent,
        params=params[pk],
        metrics=metrics[pk],
        tags=tags[pk],
        inputs=tuple(inputs[pk]),
    )
