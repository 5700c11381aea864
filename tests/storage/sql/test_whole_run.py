"""A new run written whole by one PostgreSQL statement (`storage/sql/whole_run.py`): it writes
what the transactional path writes, or nothing at all when the run cannot be inserted."""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest

from mloop.entities import Metric, Param, RunStart, RunStatus, RunTag
from mloop.errors import ParamConflictError, RunNotFoundError
from mloop.storage.sql.engine import single_write
from mloop.storage.sql.run_writes import start_values
from mloop.storage.sql.store import SqlStore
from mloop.storage.sql.whole_run import write_whole_run

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

END = {"b_status": "FAILED", "b_end_time": 1_700_000_000_900}
METRICS = [
    Metric("loss", 0.5, 1_700_000_000_100, 0),
    Metric("loss", math.nan, 1_700_000_000_200, 1),
    Metric("acc", 0.9, 1_700_000_000_150, 0),
    Metric("gain", math.inf, 1_700_000_000_150, 0),
    Metric("drop", -math.inf, 1_700_000_000_150, 4),
    Metric("drop", 0.1 + 0.2, 1_700_000_000_150, 2),
]
PARAMS = [Param("lr", "0.1"), Param("lr", "0.1"), Param("depth", "3")]
TAGS = [RunTag("team", "a"), RunTag("team", "b")]


def _write(store: SqlStore, run_id: str, start: RunStart, **batch: Any) -> bool:
    values, shared = start_values(run_id, start)
    parts = (batch.get("metrics", ()), batch.get("params", ()), batch.get("tags", ()))
    with single_write(store.engine) as conn:
        return write_whole_run(conn, store.runs._writer, values | END, shared, parts)


def _start(**changes: Any) -> RunStart:
    values: dict[str, Any] = {"experiment_id": "0", "run_name": "whole", "start_time_ms": 1}
    return RunStart(**(values | changes))


def _learn_keys(store: SqlStore) -> None:
    """Metric key ids are cached once a transaction assigned them."""
    warm = store.runs.create("0", run_name="warm")
    store.runs.log_batch(
        warm.run_id, metrics=[Metric(key, 0.0, 1) for key in ("loss", "acc", "gain", "drop")]
    )


def _without_ids(store: SqlStore, run_id: str) -> dict[str, Any]:
    run = store.runs.get(run_id)
    history = {
        key: [
            (m.step, m.timestamp_ms, str(m.value))
            for m in store.runs.get_metric_history(run_id, key)
        ]
        for key in run.metrics
    }
    files = {(f.path, f.digest) for f in store.artifacts.list_files(run_id)}
    return {
        "fields": (run.status, run.start_time_ms, run.end_time_ms, run.user_id, run.run_name),
        "params": run.params,
        "tags": run.tags,
        "metrics": {k: str(v) for k, v in run.metrics.items()},
        "steps": run.metric_steps,
        "history": history,
        "files": files,
        "uri": run.artifact_uri.replace(run_id, "RUN"),
    }


def test_it_writes_what_the_transactional_path_writes(store: SqlStore) -> None:
    source = store.runs.create("0", run_name="source")
    store.artifacts.write_bytes(source.run_id, "environment/requirements.txt", b"numpy\n")
    store.artifacts.write_bytes(source.run_id, "model/w.bin", b"\x00")
    _learn_keys(store)
    start = _start(user_id="ada", share_artifacts=(source.run_id, "environment"))
    whole = uuid.uuid4().hex
    assert _write(store, whole, start, metrics=METRICS, params=PARAMS, tags=TAGS)
    stepwise = store.runs.create(
        "0",
        run_name="whole",
        start_time_ms=1,
        user_id="ada",
        share_artifacts=(source.run_id, "environment"),
    )
    store.runs.finish(
        stepwise.run_id,
        status=RunStatus.FAILED,
        end_time_ms=1_700_000_000_900,
        metrics=METRICS,
        params=PARAMS,
        tags=TAGS,
    )
    assert _without_ids(store, whole) == _without_ids(store, stepwise.run_id)
    assert _without_ids(store, whole)["files"] == {
        ("environment/requirements.txt", store.artifacts.list_files(source.run_id)[0].digest)
    }


@pytest.mark.parametrize("parts", [{}, {"params": PARAMS}, {"tags": TAGS}, {"metrics": METRICS}])
def test_each_part_alone_is_written(store: SqlStore, parts: dict[str, Any]) -> None:
    _learn_keys(store)
    run_id = uuid.uuid4().hex
    assert _write(store, run_id, _start(), **parts)
    run = store.runs.get(run_id)
    assert (run.status, run.end_time_ms) == (RunStatus.FAILED, 1_700_000_000_900)
    assert bool(run.params) == ("params" in parts)
    assert bool(run.tags) == ("tags" in parts)
    assert bool(run.metrics) == ("metrics" in parts)


def test_nothing_is_written_when_the_run_cannot_be_inserted(store: SqlStore) -> None:
    _learn_keys(store)
    exists = store.runs.create("0", run_name="exists")
    deleted = store.experiments.create("deleted").experiment_id
    store.experiments.delete(deleted)
    batch = {"metrics": METRICS, "params": PARAMS, "tags": TAGS}
    assert not _write(store, exists.run_id, _start(), **batch)
    after = store.runs.get(exists.run_id)
    assert (after.status, after.metrics, after.params, after.tags) == (
        RunStatus.RUNNING,
        {},
        {},
        {},
    )
    for start in (
        _start(experiment_id="424242"),
        _start(experiment_id=deleted),
        _start(share_artifacts=(uuid.uuid4().hex, "environment")),
    ):
        run_id = uuid.uuid4().hex
        assert not _write(store, run_id, start, **batch)
        with pytest.raises(RunNotFoundError):
            store.runs.get(run_id)


def test_a_metric_key_not_known_yet_is_left_to_the_transaction(store: SqlStore) -> None:
    run_id = uuid.uuid4().hex
    assert not _write(store, run_id, _start(), metrics=[Metric("brand_new", 1.0, 1)])
    with pytest.raises(RunNotFoundError):
        store.runs.get(run_id)
    # Through the store: the transaction assigns the key, and the next run is written whole.
    store.runs.finish(
        run_id, status=RunStatus.FINISHED, metrics=[Metric("brand_new", 1.0, 1)], start=_start()
    )
    assert store.runs.get(run_id).metrics == {"brand_new": 1.0}
    assert _write(store, uuid.uuid4().hex, _start(), metrics=[Metric("brand_new", 2.0, 1)])


def test_a_param_given_twice_with_two_values_writes_nothing(store: SqlStore) -> None:
    run_id = uuid.uuid4().hex
    with pytest.raises(ParamConflictError):
        _write(store, run_id, _start(), params=[Param("p", "1"), Param("p", "2")])
    with pytest.raises(RunNotFoundError):
        store.runs.get(run_id)
