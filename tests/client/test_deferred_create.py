"""Deferred creates: after the first run of an experiment, a run's create waits in the write
queue and is written with what is logged to it, at the latest with its end (one store call).

Whatever a user can do with the run's id still finds the run stored: reading `run_id` (or
`info`, `artifact_uri`) and every fluent call that reads the store write the create first.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import mloop
from mloop.client.context import STATE, close_store
from mloop.entities import RunStatus
from mloop.errors import ExperimentNotFoundError
from mloop.storage.sql.store import SqlStore
from tests.client.test_context import forked_child
from tests.client.test_run_end import CountingRuns, _empty_run, _environment_files


def _count_writes(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch, linger_s: float
) -> CountingRuns:
    """Count the queue's store calls; the writer lingers `linger_s` before writing a batch."""
    runs = CountingRuns(store)
    queue = STATE.queue
    assert queue is not None
    monkeypatch.setattr(queue, "_store", runs)
    monkeypatch.setattr(queue, "_linger_s", linger_s)
    return runs


def _named(store: SqlStore, name: str) -> list[Any]:
    """Runs with this name, read from the store itself (nothing of the client is written)."""
    return list(store.runs.search(["0"], filter_string=f"attributes.run_name = '{name}'"))


def test_a_later_run_is_stored_with_its_end_in_one_store_call(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
):
    first = _empty_run()
    runs = _count_writes(store, monkeypatch, linger_s=60.0)
    with mloop.start_run(run_name="short", tags={"team": "a"}, description="note") as run:
        mloop.log_params({"lr": 0.1})
        mloop.log_metric("loss", 0.5, step=2)
        mloop.set_tag("stage", "x")
        assert _named(store, "short") == []  # the create waits in the queue
    assert runs.calls == ["finish"]
    stored = store.runs.get(run.run_id)
    assert (stored.run_name, stored.experiment_id, stored.status) == (
        "short",
        "0",
        RunStatus.FINISHED,
    )
    assert stored.end_time_ms is not None
    assert stored.start_time_ms <= stored.end_time_ms
    assert stored.user_id == store.runs.get(first.run_id).user_id != ""
    assert (stored.params, stored.metrics) == ({"lr": "0.1"}, {"loss": 0.5})
    assert {"team": "a", "stage": "x", "mloop.note.content": "note"}.items() <= stored.tags.items()
    assert "mloop.source.name" in stored.tags or len(stored.tags) > 3  # the environment's tags
    assert stored.artifact_uri.endswith(f"/{run.run_id}/artifacts")
    assert run.artifact_uri == stored.artifact_uri
    assert _environment_files(store, run.run_id) == _environment_files(store, first.run_id) != {}


def test_reading_the_run_id_stores_the_run_at_once(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
):
    _empty_run()
    runs = _count_writes(store, monkeypatch, linger_s=60.0)
    with mloop.start_run(run_name="read") as run:
        mloop.log_metric("m", 1.0)
        # Another client, given the id, finds the run (and what was logged before the read).
        found = store.runs.get(run.run_id)
        assert (found.run_name, found.status, found.metrics) == (
            "read",
            RunStatus.RUNNING,
            {"m": 1.0},
        )
        mloop.log_metric("m", 2.0, step=1)
    assert runs.calls == ["create", "log_batch", "finish"]
    assert store.runs.get(run.run_id).metrics == {"m": 2.0}


def test_fluent_reads_during_a_deferred_run_find_it(store: SqlStore):
    _empty_run()
    with mloop.start_run(run_name="searched"):
        assert [r.run_name for r in mloop.search_runs()][:1] == ["searched"]
        active = mloop.active_run()
        assert active is not None
        assert active.info.status is RunStatus.RUNNING
        mloop.log_text("hello", "notes/a.txt")
        assert mloop.get_run(active.run_id).run_name == "searched"


def test_a_run_longer_than_the_linger_is_created_by_the_writer(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
):
    _empty_run()
    runs = _count_writes(store, monkeypatch, linger_s=0.02)
    with mloop.start_run(run_name="long"):
        deadline = time.monotonic() + 30
        while not _named(store, "long") and time.monotonic() < deadline:
            time.sleep(0.01)
        (stored,) = _named(store, "long")
        assert stored.status is RunStatus.RUNNING
        mloop.log_metric("m", 1.0)
    assert runs.calls == ["create", "finish"]
    assert _named(store, "long")[0].status is RunStatus.FINISHED


def test_the_first_run_in_an_experiment_is_created_at_once_and_fails_there(store: SqlStore):
    _empty_run()
    with pytest.raises(ExperimentNotFoundError):
        mloop.start_run(experiment_id="424242")
    assert mloop.active_run() is None


def test_a_deferred_run_whose_experiment_was_deleted_fails_at_its_end(store: SqlStore):
    experiment = mloop.set_experiment("short-lived")
    _empty_run()
    store.experiments.delete(experiment.experiment_id)
    mloop.start_run(run_name="orphan")  # deferred: the experiment was known to exist
    mloop.log_metric("m", 1.0)
    with pytest.raises(ExperimentNotFoundError):
        mloop.end_run()
    assert mloop.active_run() is None
    assert list(store.runs.search([experiment.experiment_id], include_deleted=True)) != []
    assert all(r.run_name != "orphan" for r in store.runs.search([experiment.experiment_id]))


def test_nested_deferred_runs_keep_their_parent(store: SqlStore, monkeypatch: pytest.MonkeyPatch):
    _empty_run()
    runs = _count_writes(store, monkeypatch, linger_s=60.0)
    with mloop.start_run(run_name="parent") as parent:
        with mloop.start_run(run_name="child", nested=True) as child:
            mloop.log_metric("m", 1.0)
        mloop.log_metric("p", 2.0)
    # The child's end writes the parent's queued create first, then ends the child.
    assert runs.calls == ["create", "finish", "finish"]
    stored_child = store.runs.get(child.run_id)
    assert stored_child.parent_run_id == parent.run_id
    assert (stored_child.metrics, store.runs.get(parent.run_id).metrics) == ({"m": 1.0}, {"p": 2.0})


def test_a_forked_child_logs_to_a_deferred_run_of_its_parent(
    store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    _empty_run()
    assert STATE.queue is not None
    monkeypatch.setattr(STATE.queue, "_linger_s", 60.0)  # the parent's create stays queued

    def child() -> None:
        mloop.log_metric("child", 1.0)
        mloop.flush(timeout_s=60)

    with (
        mloop.start_run(run_name="forked") as run,
        forked_child(child, tmp_path / "child-error.txt"),
    ):
        mloop.log_metric("parent", 2.0)  # while the child logs to the same run
    stored = store.runs.get(run.run_id)
    assert (stored.run_name, stored.status) == ("forked", RunStatus.FINISHED)
    assert stored.metrics == {"child": 1.0, "parent": 2.0}


def test_closing_the_store_writes_a_queued_create(store: SqlStore, monkeypatch: pytest.MonkeyPatch):
    """A run neither ended nor read when the store closes is stored, still RUNNING."""
    _empty_run()
    assert STATE.queue is not None
    monkeypatch.setattr(STATE.queue, "_linger_s", 60.0)  # only the close writes it
    mloop.start_run(run_name="left-open")
    assert _named(store, "left-open") == []  # queued, not written yet
    STATE.runs.clear()  # as if the process forgot it; close_store still writes the queue
    close_store()
    (stored,) = _named(store, "left-open")
    assert (stored.status, stored.end_time_ms) == (RunStatus.RUNNING, None)
