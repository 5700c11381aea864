"""Ending a run with its last batch (`finish`) and linking shared artifacts at creation.

Only the store protocols are used, so tests/storage/rest/test_contract.py runs them all again
through a live server.
"""

from __future__ import annotations

import math
import uuid

import pytest

from mloop.entities import Metric, Param, RunStart, RunStatus, RunTag
from mloop.errors import (
    ExperimentNotFoundError,
    InvalidInputError,
    ParamConflictError,
    RunNotActiveError,
    RunNotFoundError,
)
from mloop.storage import Store


def test_finish_writes_the_last_batch_and_ends_the_run(store: Store) -> None:
    run = store.runs.create("0", run_name="r")
    store.runs.finish(
        run.run_id,
        status=RunStatus.FAILED,
        end_time_ms=run.start_time_ms + 5,
        metrics=[Metric("loss", 0.5, 10, 0), Metric("loss", math.nan, 11, 1)],
        params=[Param("lr", "0.1")],
        tags=[RunTag("team", "a")],
    )
    ended = store.runs.get(run.run_id)
    assert (ended.status, ended.end_time_ms) == (RunStatus.FAILED, run.start_time_ms + 5)
    assert ended.params == {"lr": "0.1"}
    assert ended.tags == {"team": "a"}
    assert math.isnan(ended.metrics["loss"])
    history = store.runs.get_metric_history(run.run_id, "loss")
    assert [(m.step, m.timestamp_ms) for m in history] == [(0, 10), (1, 11)]


def test_finish_without_a_batch_only_ends_the_run_now(store: Store) -> None:
    run = store.runs.create("0", run_name="r")
    store.runs.finish(run.run_id, status=RunStatus.FINISHED)
    ended = store.runs.get(run.run_id)
    assert ended.status is RunStatus.FINISHED
    assert ended.end_time_ms is not None
    assert ended.end_time_ms >= run.start_time_ms
    assert (ended.metrics, ended.params, ended.tags) == ({}, {}, {})


def test_finishing_twice_with_the_same_batch_stores_it_once(store: Store) -> None:
    run = store.runs.create("0", run_name="r")
    metrics, params = [Metric("m", 1.0, 5, 3)], [Param("p", "1")]
    for _ in range(2):
        store.runs.finish(
            run.run_id, status=RunStatus.FINISHED, end_time_ms=100, metrics=metrics, params=params
        )
    assert len(store.runs.get_metric_history(run.run_id, "m")) == 1
    assert store.runs.get(run.run_id).params == {"p": "1"}


@pytest.mark.parametrize("status", ["RUNNING", "SCHEDULED", "DONE"])
def test_finish_refuses_a_status_that_does_not_end_a_run(store: Store, status: str) -> None:
    run = store.runs.create("0", run_name="r")
    with pytest.raises(InvalidInputError, match="FINISHED, FAILED or KILLED"):
        store.runs.finish(run.run_id, status=status, params=[Param("p", "1")])  # type: ignore[arg-type]
    after = store.runs.get(run.run_id)
    assert (after.status, after.end_time_ms, after.params) == (RunStatus.RUNNING, None, {})


def test_a_param_conflict_writes_nothing_and_leaves_the_run_running(store: Store) -> None:
    run = store.runs.create("0", run_name="r")
    store.runs.log_batch(run.run_id, params=[Param("p", "1")])
    with pytest.raises(ParamConflictError) as caught:
        store.runs.finish(
            run.run_id,
            status=RunStatus.FINISHED,
            metrics=[Metric("m", 1.0, 1)],
            params=[Param("p", "2")],
            tags=[RunTag("t", "x")],
        )
    assert caught.value.key == "p"
    after = store.runs.get(run.run_id)
    assert (after.status, after.end_time_ms) == (RunStatus.RUNNING, None)
    assert (after.metrics, after.params, after.tags) == ({}, {"p": "1"}, {})


def test_finish_of_an_unknown_run_raises_not_found(store: Store) -> None:
    missing = uuid.uuid4().hex
    with pytest.raises(RunNotFoundError) as caught:
        store.runs.finish(missing, status=RunStatus.FINISHED, metrics=[Metric("m", 1.0, 1)])
    assert caught.value.run_id == missing
    with pytest.raises(RunNotFoundError):
        store.runs.finish(missing, status=RunStatus.FINISHED)
    with pytest.raises(InvalidInputError):
        store.runs.finish("not-a-run", status=RunStatus.FINISHED)


def test_a_deleted_run_can_end_but_takes_no_last_batch(store: Store) -> None:
    run = store.runs.create("0", run_name="r")
    store.runs.delete(run.run_id, actor="alice")
    with pytest.raises(RunNotActiveError):
        store.runs.finish(run.run_id, status=RunStatus.KILLED, metrics=[Metric("m", 1.0, 1)])
    assert store.runs.get(run.run_id).status is RunStatus.RUNNING
    store.runs.finish(run.run_id, status=RunStatus.KILLED)
    after = store.runs.get(run.run_id)
    assert (after.status, after.metrics) == (RunStatus.KILLED, {})


def test_finish_takes_a_batch_past_one_requests_limits(store: Store) -> None:
    run = store.runs.create("0", run_name="r")
    points = [Metric("m", float(i), 1000 + i, i) for i in range(2500)]
    params = [Param(f"p{i}", str(i)) for i in range(150)]
    store.runs.finish(run.run_id, status=RunStatus.FINISHED, metrics=points, params=params)
    ended = store.runs.get(run.run_id)
    assert ended.status is RunStatus.FINISHED
    assert len(ended.params) == 150
    assert ended.metrics == {"m": 2499.0}
    assert len(store.runs.get_metric_history(run.run_id, "m")) == 2500


def test_finish_checks_keys_and_values_and_writes_nothing(store: Store) -> None:
    run = store.runs.create("0", run_name="r")
    with pytest.raises(InvalidInputError):
        store.runs.finish(
            run.run_id,
            status=RunStatus.FINISHED,
            metrics=[Metric("ok", 1.0, 1)],
            params=[Param("bad key!", "1")],
        )
    after = store.runs.get(run.run_id)
    assert (after.status, after.metrics) == (RunStatus.RUNNING, {})


def test_a_new_run_shares_another_runs_files_by_digest(store: Store) -> None:
    source = store.runs.create("0", run_name="first")
    store.artifacts.write_bytes(source.run_id, "environment/requirements.txt", b"numpy==2.0\n")
    store.artifacts.write_bytes(source.run_id, "environment/git.diff", b"+x\n")
    store.artifacts.write_bytes(source.run_id, "environments/other.txt", b"not shared")
    store.artifacts.write_bytes(source.run_id, "model/weights.bin", b"\x00\x01")
    run = store.runs.create("0", run_name="second", share_artifacts=(source.run_id, "environment"))
    shared = {e.path: e.digest for e in store.artifacts.list_files(run.run_id)}
    originals = {e.path: e.digest for e in store.artifacts.list_files(source.run_id)}
    assert shared == {
        "environment/git.diff": originals["environment/git.diff"],
        "environment/requirements.txt": originals["environment/requirements.txt"],
    }
    assert store.artifacts.read_bytes(run.run_id, "environment/requirements.txt") == (
        b"numpy==2.0\n"
    )
    # The files belong to each run: removing them from one leaves the other's.
    store.artifacts.delete(source.run_id, "environment")
    assert len(store.artifacts.list_files(run.run_id)) == 2


def test_sharing_a_folder_with_wildcard_characters_matches_it_literally(store: Store) -> None:
    source = store.runs.create("0", run_name="first")
    store.artifacts.write_bytes(source.run_id, "a_b%/f.txt", b"1")
    store.artifacts.write_bytes(source.run_id, "axb%/g.txt", b"2")
    store.artifacts.write_bytes(source.run_id, "a_bc/h.txt", b"3")
    run = store.runs.create("0", run_name="second", share_artifacts=(source.run_id, "a_b%"))
    assert [e.path for e in store.artifacts.list_files(run.run_id)] == ["a_b%/f.txt"]


def test_sharing_from_an_unknown_run_creates_nothing(store: Store) -> None:
    run_id, missing = uuid.uuid4().hex, uuid.uuid4().hex
    with pytest.raises(RunNotFoundError) as caught:
        store.runs.create(
            "0", run_id=run_id, run_name="r", share_artifacts=(missing, "environment")
        )
    assert caught.value.run_id == missing
    with pytest.raises(RunNotFoundError):
        store.runs.get(run_id)


def test_sharing_a_run_without_such_files_links_nothing(store: Store) -> None:
    source = store.runs.create("0", run_name="first")
    run = store.runs.create("0", run_name="r", share_artifacts=(source.run_id, "environment"))
    assert store.artifacts.list_files(run.run_id) == []


@pytest.mark.parametrize("folder", ["", ".", "../x", "/abs"])
def test_sharing_the_root_or_outside_it_is_refused(store: Store, folder: str) -> None:
    source = store.runs.create("0", run_name="first")
    run_id = uuid.uuid4().hex
    with pytest.raises(InvalidInputError):
        store.runs.create("0", run_id=run_id, run_name="r", share_artifacts=(source.run_id, folder))
    with pytest.raises(RunNotFoundError):
        store.runs.get(run_id)


def _start(**changes: object) -> RunStart:
    values: dict[str, object] = {
        "experiment_id": "0",
        "run_name": "deferred",
        "start_time_ms": 1_700_000_000_000,
        "user_id": "ada",
    }
    return RunStart(**(values | changes))  # type: ignore[arg-type]


def test_finish_with_a_start_creates_the_run_ended_with_its_batch(store: Store) -> None:
    parent = store.runs.create("0", run_name="parent")
    source = store.runs.create("0", run_name="first")
    store.artifacts.write_bytes(source.run_id, "environment/requirements.txt", b"numpy\n")
    run_id = uuid.uuid4().hex
    store.runs.finish(
        run_id,
        status=RunStatus.FAILED,
        end_time_ms=1_700_000_000_900,
        metrics=[
            Metric("loss", 0.5, 1_700_000_000_100, 0),
            Metric("loss", 0.25, 1_700_000_000_200, 1),
        ],
        params=[Param("lr", "0.1")],
        tags=[RunTag("team", "a"), RunTag("team", "b"), RunTag("stage", "x")],
        start=_start(parent_run_id=parent.run_id, share_artifacts=(source.run_id, "environment")),
    )
    run = store.runs.get(run_id)
    assert (run.run_name, run.experiment_id, run.user_id) == ("deferred", "0", "ada")
    assert run.parent_run_id == parent.run_id
    assert (run.status, run.start_time_ms, run.end_time_ms) == (
        RunStatus.FAILED,
        1_700_000_000_000,
        1_700_000_000_900,
    )
    assert run.artifact_uri.endswith(f"/{run_id}/artifacts")
    assert run.artifact_uri.replace(run_id, "") == parent.artifact_uri.replace(parent.run_id, "")
    assert (run.params, run.tags, run.metrics) == (
        {"lr": "0.1"},
        {"team": "b", "stage": "x"},
        {"loss": 0.25},
    )
    assert [m.value for m in store.runs.get_metric_history(run_id, "loss")] == [0.5, 0.25]
    assert [e.path for e in store.artifacts.list_files(run_id)] == ["environment/requirements.txt"]
    assert run_id in [r.run_id for r in store.runs.search(["0"], filter_string="status = 'FAILED'")]


def test_finish_with_a_start_of_a_run_that_exists_only_ends_it(store: Store) -> None:
    run = store.runs.create("0", run_name="created", user_id="bob")
    for _ in range(2):  # the second time is a retried request: stored once, start ignored
        store.runs.finish(
            run.run_id,
            status=RunStatus.FINISHED,
            end_time_ms=run.start_time_ms + 1,
            params=[Param("p", "1")],
            start=_start(run_name="ignored"),
        )
    after = store.runs.get(run.run_id)
    assert (after.run_name, after.user_id, after.start_time_ms) == (
        "created",
        "bob",
        run.start_time_ms,
    )
    assert (after.status, after.end_time_ms, after.params) == (
        RunStatus.FINISHED,
        run.start_time_ms + 1,
        {"p": "1"},
    )


def test_finish_with_a_start_in_a_missing_experiment_stores_nothing(store: Store) -> None:
    run_id = uuid.uuid4().hex
    with pytest.raises(ExperimentNotFoundError):
        store.runs.finish(
            run_id,
            status=RunStatus.FINISHED,
            metrics=[Metric("m", 1.0, 1)],
            start=_start(experiment_id="987654"),
        )
    deleted = store.experiments.create("gone")
    store.experiments.delete(deleted.experiment_id)
    with pytest.raises(ExperimentNotFoundError):
        store.runs.finish(
            run_id, status=RunStatus.FINISHED, start=_start(experiment_id=deleted.experiment_id)
        )
    with pytest.raises(RunNotFoundError):
        store.runs.get(run_id)


def test_finish_with_a_start_sharing_an_unknown_runs_files_stores_nothing(store: Store) -> None:
    run_id, missing = uuid.uuid4().hex, uuid.uuid4().hex
    with pytest.raises(RunNotFoundError) as caught:
        store.runs.finish(
            run_id,
            status=RunStatus.FINISHED,
            params=[Param("p", "1")],
            start=_start(share_artifacts=(missing, "environment")),
        )
    assert caught.value.run_id == missing
    with pytest.raises(RunNotFoundError):
        store.runs.get(run_id)


@pytest.mark.parametrize(
    "changes",
    [{"run_name": ""}, {"experiment_id": "not-an-id"}, {"parent_run_id": "nope"}],
)
def test_finish_with_a_malformed_start_stores_nothing(
    store: Store, changes: dict[str, object]
) -> None:
    run_id = uuid.uuid4().hex
    with pytest.raises(InvalidInputError):
        store.runs.finish(run_id, status=RunStatus.FINISHED, start=_start(**changes))
    with pytest.raises(RunNotFoundError):
        store.runs.get(run_id)


def test_finish_with_a_start_and_a_batch_past_one_requests_limits(store: Store) -> None:
    run_id = uuid.uuid4().hex
    points = [Metric("m", float(i), 1000 + i, i) for i in range(2500)]
    store.runs.finish(
        run_id,
        status=RunStatus.FINISHED,
        metrics=points,
        tags=[RunTag("t", "1")],
        start=_start(),
    )
    run = store.runs.get(run_id)
    assert (run.status, run.run_name, run.tags) == (RunStatus.FINISHED, "deferred", {"t": "1"})
    assert len(store.runs.get_metric_history(run_id, "m")) == 2500
