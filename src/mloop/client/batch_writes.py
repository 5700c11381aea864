"""How the write queue's items become store calls.

Items are `(run id, kind, value)`: a metric point, a param, a tag, or a run's create
(`RunStart`). `write_batch` writes a drained batch, one `log_batch` per run after the run's
create when it is queued too; `finish_run` ends a run with its last items in one `finish`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from mloop.entities import Metric, Param, RunStart, RunStatus, RunTag
from mloop.errors import (
    ExperimentNotFoundError,
    MloopError,
    ParamConflictError,
    RunNotFoundError,
    StorageError,
)
from mloop.storage import RunStore, create_started

KIND_METRIC = 0
KIND_PARAM = 1
KIND_TAG = 2
KIND_START = 3

Item = tuple[str, int, Any]
# A run's queued items by kind: metrics, params, tags, and its create (at most one).
RunItems = tuple[list[Metric], list[Param], list[RunTag], list[RunStart]]


def write_batch(
    store: RunStore, batch: Sequence[Item], unshared: Callable[[str], None] | None = None
) -> list[MloopError]:
    """Write queued items grouped by run, one `log_batch` per run; return the errors met.

    A run whose create is in the batch is created first (with its tags); when the files it
    was to share are gone, it is created without them and `unshared` is called with its id.
    A param that conflicts with a stored value is dropped (and reported) and the rest of the
    batch is written, so one bad param never costs the metrics logged beside it.
    """
    errors: list[MloopError] = []
    for run_id, parts in _by_run(batch).items():
        metrics, params, tags, starts = parts
        if starts:
            created = _create_run(store, run_id, starts[0], tags, errors.append)
            if created is None:
                continue  # what was logged to it would only fail again
            if created.share_artifacts != starts[0].share_artifacts and unshared is not None:
                unshared(run_id)
            tags = []
        if metrics or params or tags:
            _write_run(store, run_id, (metrics, params, tags), errors.append)
    return errors


def _by_run(batch: Sequence[Item]) -> dict[str, RunItems]:
    by_run: dict[str, RunItems] = {}
    for run_id, kind, item in batch:
        parts = by_run.get(run_id)
        if parts is None:
            parts = by_run[run_id] = ([], [], [], [])
        parts[kind].append(item)
    return by_run


def _without_shared_files(start: RunStart, exc: RunNotFoundError) -> RunStart | None:
    """`start` without its shared artifacts when they are what is missing, else None.

    The run whose environment files a new run links may have been purged meanwhile: the run is
    then created without them rather than not at all.
    """
    shared = start.share_artifacts
    if shared is None or exc.run_id != shared[0]:
        return None
    return dataclasses.replace(start, share_artifacts=None)


def _create_run(
    store: RunStore,
    run_id: str,
    start: RunStart,
    tags: Sequence[RunTag],
    report: Callable[[MloopError], None],
) -> RunStart | None:
    """Create a run whose create was queued; how it was created, None when it failed (reported).

    A run whose shared files are gone is created without them (see `_without_shared_files`).
    """
    while True:
        try:
            create_started(store, start, run_id=run_id, tags=tags)
            return start
        except RunNotFoundError as exc:
            fallback = _without_shared_files(start, exc)
            if fallback is None:
                report(exc)
                return None
            start = fallback
        except MloopError as exc:
            report(exc)
            return None
        except Exception as exc:  # noqa: BLE001 - an unexpected failure must reach the user
            error = StorageError(f"creating run {run_id} failed: {exc!r}")
            error.__cause__ = exc
            report(error)
            return None


def finish_run(
    store: RunStore,
    run_id: str,
    items: Sequence[Item],
    end: tuple[RunStatus, int | None],
    report: Callable[[MloopError], None],
    *,
    unshared: Callable[[str], None],
) -> None:
    """End a run with its last items in one `finish`; a param conflict drops only that param.

    A run whose create is still queued is created by the same call (without the files it was
    to share when they are gone: `unshared` is then called with its id). When the items fail for
    another reason (reported), the run is still ended without them.
    """
    metrics, params, tags, starts = _by_run(items).get(run_id, ([], [], [], []))
    start = starts[0] if starts else None
    status, end_time_ms = end
    while True:
        try:
            store.finish(
                run_id,
                status=status,
                end_time_ms=end_time_ms,
                metrics=metrics,
                params=params,
                tags=tags,
                start=start,
            )
            return
        except ParamConflictError as exc:
            report(exc)
            params = [p for p in params if p.key != exc.key]
        except RunNotFoundError as exc:
            fallback = None if start is None else _without_shared_files(start, exc)
            if fallback is None:
                if not (metrics or params or tags):
                    raise
                report(exc)
                metrics, params, tags = [], [], []
            else:
                start = fallback
                unshared(run_id)
        except MloopError as exc:
            if not (metrics or params or tags) or isinstance(exc, ExperimentNotFoundError):
                raise  # nothing to drop, or a run that cannot be created: raised once, here
            report(exc)
            metrics, params, tags = [], [], []
        except Exception as exc:
            if not (metrics or params or tags):
                raise
            error = StorageError(f"writing to run {run_id} failed: {exc!r}")
            error.__cause__ = exc
            report(error)
            metrics, params, tags = [], [], []


def _write_run(
    store: RunStore,
    run_id: str,
    parts: tuple[list[Metric], list[Param], list[RunTag]],
    report: Callable[[MloopError], None],
) -> None:
    metrics, params, tags = parts
    while True:
        try:
            store.log_batch(run_id, metrics=metrics, params=params, tags=tags)
            return
        except ParamConflictError as exc:
            report(exc)
            params = [p for p in params if p.key != exc.key]
        except MloopError as exc:
            report(exc)
            return
        except Exception as exc:  # noqa: BLE001 - an unexpected failure must reach the user
            error = StorageError(f"writing to run {run_id} failed: {exc!r}")
            error.__cause__ = exc
            report(error)
            return
