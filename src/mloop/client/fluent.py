"""The fluent logging API: `log_param`, `log_metric`, `set_tag`, artifacts, `flush`.

Params, metrics and tags are validated here, at once, so bad input raises at the call that made
it and changes nothing; then they are queued for the background writer.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from mloop.client.active_run import is_active, queued_run_id, require_run_id
from mloop.client.batch_writes import KIND_METRIC, KIND_PARAM, KIND_TAG
from mloop.client.context import STATE, get_queue, get_store
from mloop.entities import Metric, Param, Run, RunPage, RunStatus, RunTag
from mloop.entities.validation import (
    checked_tags,
    validate_key,
    validate_metric_value,
    validate_param_value,
    validate_step,
    validate_timestamp_ms,
)
from mloop.errors import ParamConflictError
from mloop.tracking.artifacts import RunArtifacts
from mloop.tracking.environment import current_user

# Keys already checked: a training loop logs the same few keys thousands of times.
_valid_metric_keys: set[str] = set()
_MIN_STEP = -(2**63)
_MAX_STEP = 2**63 - 1


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    *,
    timestamp_ms: int | None = None,
    run_id: str | None = None,
) -> None:
    """Log one metric point to the active run (or `run_id`); returns without waiting for the store.

    Args:
        key: metric name.
        value: a number; NaN and infinities are kept.
        step: training step (default 0).
        timestamp_ms: when it was measured (default now).
        run_id: log to this run instead of the active one.

    Raises:
        InvalidInputError: bad key, value, step or timestamp.
        MloopError: an earlier queued write failed.
    """
    if key not in _valid_metric_keys:
        validate_key(key, kind="metric")
        _valid_metric_keys.add(key)
    number = value if type(value) is float else validate_metric_value(key, value)
    if step is None:
        step = 0
    elif type(step) is not int or not _MIN_STEP <= step <= _MAX_STEP:
        # The fast path skips only plain in-range ints: an out-of-range step would fail in the
        # writer and cost the whole batch beside it.
        step = validate_step(key, step)
    stamp = (
        time.time_ns() // 1_000_000
        if timestamp_ms is None
        else validate_timestamp_ms(key, timestamp_ms)
    )
    get_queue().put(queued_run_id(run_id), KIND_METRIC, Metric(key, number, stamp, step))


def log_metrics(
    metrics: Mapping[str, float],
    step: int | None = None,
    *,
    timestamp_ms: int | None = None,
    run_id: str | None = None,
) -> None:
    """Log several metrics at one step and time; all are checked before any is queued.

    Raises:
        InvalidInputError: a bad key or value (nothing is queued).
    """
    stamp = time.time_ns() // 1_000_000 if timestamp_ms is None else timestamp_ms
    points = []
    for key, value in metrics.items():
        validate_key(key, kind="metric")
        points.append(
            Metric(
                key,
                validate_metric_value(key, value),
                validate_timestamp_ms(key, stamp),
                0 if step is None else validate_step(key, step),
            )
        )
    target = queued_run_id(run_id)
    get_queue().put_many([(target, KIND_METRIC, p) for p in points])


def log_param(key: str, value: Any, *, run_id: str | None = None) -> str:
    """Log a param; logging the same value again is fine, another value is an error.

    Returns:
        The value as stored (its string form).

    Raises:
        InvalidInputError: bad key or too long a value.
        ParamConflictError: the param already has another value.
    """
    return log_params({key: value}, run_id=run_id)[key]


def log_params(params: Mapping[str, Any], *, run_id: str | None = None) -> dict[str, str]:
    """Log several params; all are checked before any is queued.

    Returns:
        The values as stored.

    Raises:
        InvalidInputError: a bad key or value (nothing is queued).
        ParamConflictError: a param already has another value (nothing is queued).
    """
    target = queued_run_id(run_id)
    known = STATE.params.get(target)
    if known is None:  # a run this process did not start: check against what is stored
        flush()
        known = STATE.params.setdefault(target, dict(get_store().runs.get(target).params))
    clean: dict[str, str] = {}
    for key, value in params.items():
        validate_key(key, kind="param")
        text = validate_param_value(key, value)
        old = known.get(key, clean.get(key))
        if old is not None and old != text:
            raise ParamConflictError(target, key, old, text)
        clean[key] = text
    known.update(clean)
    get_queue().put_many([(target, KIND_PARAM, Param(k, v)) for k, v in clean.items()])
    return clean


def set_tag(key: str, value: Any, *, run_id: str | None = None) -> None:
    """Set a tag (overwriting an earlier value).

    Raises:
        InvalidInputError: bad key or too long a value.
    """
    set_tags({key: value}, run_id=run_id)


def set_tags(tags: Mapping[str, Any], *, run_id: str | None = None) -> None:
    """Set several tags; all are checked before any is queued.

    Raises:
        InvalidInputError: a bad key or value (nothing is queued).
    """
    clean = [RunTag(k, v) for k, v in checked_tags(tags).items()]
    target = queued_run_id(run_id)
    get_queue().put_many([(target, KIND_TAG, t) for t in clean])


def flush(timeout_s: float | None = None) -> None:
    """Wait until everything logged so far is stored; this is the acknowledgement.

    Raises:
        MloopError: a queued write failed.
    """
    if STATE.queue is not None:
        STATE.queue.flush(timeout_s)


def get_run(run_id: str) -> Run:
    """A run with everything logged to it (queued writes are stored first).

    Raises:
        RunNotFoundError: no such run.
    """
    flush()
    return get_store().runs.get(run_id)


def delete_run(run_id: str) -> None:
    """Soft-delete a run (restorable); recorded in the audit log.

    Raises:
        RunNotFoundError: no such run.
    """
    flush()
    get_store().runs.delete(run_id, actor=current_user())


def restore_run(run_id: str) -> None:
    """Restore a deleted run; recorded in the audit log.

    Raises:
        RunNotFoundError: no such run.
    """
    get_store().runs.restore(run_id, actor=current_user())


def search_runs(
    experiment_names: list[str] | None = None,
    *,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    status: RunStatus | str | None = None,
    search_all_experiments: bool = False,
    max_results: int = 1000,
    page_token: str | None = None,
) -> RunPage:
    """Search runs with the filter grammar; one page at a time.

    Args:
        experiment_names: experiments to search (default: the current one).
        filter_string: e.g. "metrics.acc > 0.9 AND (params.model = 'rf' OR tags.team = 'a')";
            the grammar is in docs/search.md and accepts MLflow's filters unchanged.
        order_by: e.g. ["metrics.acc DESC", "start_time"]; default newest first.
        params: shorthand for `params.KEY = 'VALUE'` conditions.
        tags: shorthand for `tags.KEY = 'VALUE'` conditions.
        status: only runs with this status.
        search_all_experiments: search every experiment instead.
        max_results: page size; more results are never dropped silently: the page's
            `next_page_token` is set when there are more.
        page_token: the previous page's `next_page_token`.

    Returns:
        A list of runs with `next_page_token` and `to_pandas()`.

    Raises:
        ExperimentNotFoundError: a named experiment does not exist.
        InvalidFilterError: the filter, order or token is malformed.
    """
    from mloop.client.experiments import current_experiment_id, get_experiment_by_name

    flush()
    ids: list[str] | None
    if search_all_experiments:
        ids = None
    elif experiment_names:
        ids = [get_experiment_by_name(n).experiment_id for n in experiment_names]
    else:
        ids = [current_experiment_id()]
    from mloop.client.client import MloopClient

    return MloopClient(store=get_store()).search_runs(
        ids,
        filter_string=filter_string,
        order_by=order_by,
        params=params,
        tags=tags,
        status=status,
        max_results=max_results,
        page_token=page_token,
    )


def _artifacts(run_id: str | None) -> RunArtifacts:
    target = require_run_id(run_id)
    if is_active(target):
        return RunArtifacts(get_store().artifacts, target)
    return RunArtifacts.of(get_store(), target)  # checks that the run exists


def log_artifact(
    local_path: str | os.PathLike[str],
    artifact_path: str | None = None,
    *,
    run_id: str | None = None,
) -> str:
    """Copy a file into the run's artifacts (under `artifact_path/`).

    Returns:
        The artifact's path relative to the run's artifact root.

    Raises:
        InvalidInputError: the file does not exist or the artifact path escapes the root.
    """
    return _artifacts(run_id).log_file(local_path, artifact_path)


def log_artifacts(
    local_dir: str | os.PathLike[str],
    artifact_path: str | None = None,
    *,
    run_id: str | None = None,
) -> int:
    """Copy a folder's files into the run's artifacts; returns how many were copied.

    Raises:
        InvalidInputError: the folder does not exist or the artifact path escapes the root.
    """
    return _artifacts(run_id).log_dir(local_dir, artifact_path)


def log_text(text: str, artifact_file: str, *, run_id: str | None = None) -> str:
    """Write text as an artifact file (UTF-8).

    Raises:
        InvalidInputError: the artifact path is invalid.
    """
    return _artifacts(run_id).write_bytes(artifact_file, text.encode("utf-8"))


def log_dict(data: Mapping[str, Any], artifact_file: str, *, run_id: str | None = None) -> str:
    """Write a dict as a JSON (`.json`) or YAML (`.yaml`/`.yml`) artifact file.

    Raises:
        InvalidInputError: the artifact path is invalid or the data is not serialisable.
    """
    from mloop.client.serialization import dump_mapping

    return _artifacts(run_id).write_bytes(artifact_file, dump_mapping(data, artifact_file))


def log_figure(figure: Any, artifact_file: str, *, run_id: str | None = None) -> str:
    """Save a matplotlib figure (PNG, SVG, PDF by extension) or a plotly figure (HTML).

    Raises:
        InvalidInputError: the object is not a figure mloop knows, or the path is invalid.
    """
    from mloop.client.serialization import render_figure

    return _artifacts(run_id).write_bytes(artifact_file, render_figure(figure, artifact_file))
