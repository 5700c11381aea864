"""Reading runs back from SQL: one run row plus bulk queries for all runs' children."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, any_, bindparam, func, literal, literal_column, select, union_all
from sqlalchemy.engine import Connection

from mloop.entities import LifecycleStage, Run, RunInput, RunStatus
from mloop.storage.sql import schema
from mloop.storage.sql.prepared import Prepared

_runs = schema.runs
_params = schema.params
_tags = schema.tags
_latest = schema.latest_metrics
_keys = schema.metric_keys
_inputs = schema.run_inputs


def _in_pks(column: Any, dialect: str) -> Any:
    """`column` is one of the run keys bound as `pks`, in SQL that is the same for any number.

    An expanding IN is re-rendered on every call; this is an array on PostgreSQL and a JSON
    list read by `json_each` on SQLite (`pks_value` makes the parameter).
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam("pks", type_=ARRAY(BigInteger)))
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam("pks"))))


def pks_value(dialect: str, pks: Sequence[int]) -> Any:
    """The `pks` parameter of the statements below for a dialect."""
    return list(pks) if dialect == "postgresql" else json.dumps(list(pks))


def _children(dialect: str) -> Any:
    return union_all(
        select(literal(0), _params.c.run_id, _params.c.key, _params.c.value).where(
            _in_pks(_params.c.run_id, dialect)
        ),
        select(literal(1), _tags.c.run_id, _tags.c.key, _tags.c.value).where(
            _in_pks(_tags.c.run_id, dialect)
        ),
    )


# Run on the driver's cursor (`prepared.py`): a page of 100 runs reads ~2,000 child rows, and
# SQLAlchemy's result rows cost as much as reading them.
_CHILDREN = Prepared(_children)
_LATEST = Prepared(
    lambda dialect: (
        select(
            _latest.c.run_id,
            _keys.c.key,
            _latest.c.value,
            _latest.c.is_nan,
            _latest.c.step,
            _latest.c.timestamp,
        )
        .join(_keys, _keys.c.id == _latest.c.key_id)
        .where(_in_pks(_latest.c.run_id, dialect))
    )
)
_INPUTS = Prepared(
    lambda dialect: select(
        _inputs.c.run_id, _inputs.c.name, _inputs.c.digest, _inputs.c.source, _inputs.c.context
    ).where(_in_pks(_inputs.c.run_id, dialect))
)
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
    bound = {"pks": pks_value(conn.dialect.name, pks)}
    for kind, run_pk, key, value in _CHILDREN.execute(conn, bound):
        (tags if kind else params)[run_pk][key] = value
    for run_pk, key, value, is_nan, step, stamp in _LATEST.execute(conn, bound):
        metrics[run_pk][key] = math.nan if is_nan else value
        steps[run_pk][key] = (step, stamp)
    for run_pk, name, digest, source, context in _INPUTS.execute(conn, bound):
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
