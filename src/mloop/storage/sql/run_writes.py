"""The statements and checks behind a run's writes: creating, ending, logging to it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, String, bindparam, func, literal, select, update

from mloop.entities import Metric, Param, RunInput, RunStart, RunStatus, RunTag
from mloop.entities.validation import (
    validate_experiment_id,
    validate_key,
    validate_name,
    validate_param_value,
    validate_run_id,
    validate_tag_value,
    validate_text,
)
from mloop.storage.sql import schema
from mloop.storage.sql.batches import check_shared_folder
from mloop.storage.sql.dialect import insert_ignore_for
from mloop.storage.sql.prepared import Prepared

_runs = schema.runs
_experiments = schema.experiments

ACTIVE_EXPERIMENT_LOCATION = select(_experiments.c.artifact_location).where(
    _experiments.c.experiment_id == bindparam("experiment_id"),
    _experiments.c.lifecycle_stage == "active",
)


RUN_COLUMNS = (
    "run_uuid",
    "experiment_id",
    "name",
    "status",
    "start_time",
    "end_time",
    "lifecycle_stage",
    "artifact_uri",
    "user_id",
    "parent_run_uuid",
)


def run_source(*conditions: Any) -> Any:
    """The new run's row (`RUN_COLUMNS`) from bound values, when its experiment is active.

    Its artifact URI is built from the experiment's location. `conditions` are further
    conditions the row needs.
    """
    run_uuid = bindparam("b_run_uuid", type_=String)
    location = func.rtrim(_experiments.c.artifact_location, literal("/"))
    return select(
        run_uuid,
        _experiments.c.experiment_id,
        bindparam("b_name", type_=String),
        bindparam("b_status", type_=String),
        bindparam("b_start_time", type_=BigInteger),
        bindparam("b_end_time", type_=BigInteger),
        literal("active"),
        location + literal("/") + run_uuid + literal("/artifacts"),
        bindparam("b_user_id", type_=String),
        bindparam("b_parent_run_uuid", type_=String),
    ).where(
        _experiments.c.experiment_id == bindparam("b_experiment_id"),
        _experiments.c.lifecycle_stage == "active",
        *conditions,
    )


def _insert_run(dialect: str) -> Any:
    return (
        insert_ignore_for(dialect, _runs)
        .from_select(RUN_COLUMNS, run_source(), include_defaults=False)
        .returning(_runs.c.id, _runs.c.artifact_uri)
    )


# Insert a run into an active experiment unless its id exists (a retried create), RUNNING or
# already ended (a deferred create sent with the run's end). Returns the new row's key and
# artifact URI; no row when the experiment is missing or deleted, or when the run exists.
INSERT_RUN = Prepared(_insert_run)

# End a run; returns its key and lifecycle stage, no row when it does not exist.
END_RUN = Prepared(
    lambda _dialect: (
        update(_runs)
        .where(_runs.c.run_uuid == bindparam("b_run_uuid"))
        .values(status=bindparam("b_status"), end_time=bindparam("b_end_time"))
        .returning(_runs.c.id, _runs.c.lifecycle_stage)
    )
)


def validate_batch(
    metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> None:
    """Check keys and lengths here too, so every backend refuses the same input."""
    for key in {m.key for m in metrics}:
        validate_key(key, kind="metric")
    for param in params:
        validate_param_value(validate_key(param.key, kind="param"), param.value)
    for tag in tags:
        validate_tag_value(validate_key(tag.key, kind="tag"), tag.value)


def validate_run_input(item: RunInput) -> None:
    """Check a dataset input's fields against the limits of the `run_inputs` columns."""
    limits = (
        ("name", item.name, 250),
        ("digest", item.digest, 128),
        ("context", item.context, 250),
        ("source", item.source, 1000),
    )
    for field, value, limit in limits:
        validate_text(
            value, what=f"the {field} of dataset input {item.name!r}", field=field, limit=limit
        )


def start_values(run_uuid: str, start: RunStart) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """The checked bound values of `INSERT_RUN` for a run starting now, and its shared folder.

    Raises:
        InvalidInputError: the name, user id, parent id, experiment id or shared folder is
            malformed.
    """
    validate_name(start.run_name, kind="run")
    validate_text(start.user_id, what="the run's user id", field="user_id", limit=256)
    if start.parent_run_id is not None:
        validate_run_id(start.parent_run_id)
    shared = None if start.share_artifacts is None else check_shared_folder(*start.share_artifacts)
    values = {
        "b_run_uuid": run_uuid,
        "b_experiment_id": validate_experiment_id(start.experiment_id),
        "b_name": start.run_name,
        "b_start_time": start.start_time_ms,
        "b_user_id": start.user_id,
        "b_parent_run_uuid": start.parent_run_id,
        "b_status": RunStatus.RUNNING.value,
        "b_end_time": None,
    }
    return values, shared
