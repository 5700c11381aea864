"""How the fluent API ends runs: last batch and end status in one store call, and the
environment recorded once per process and shared by every later run."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import mloop
from mloop.client.batch_writes import KIND_METRIC, KIND_PARAM, KIND_TAG
from mloop.client.context import STATE, get_store
from mloop.client.writer import WriteQueue
from mloop.entities import Metric, Param, RunStatus, RunTag
from mloop.entities.clock import now_ms
from mloop.errors import ParamConflictError, RunNotActiveError
from mloop.storage.sql.gc import purge_runs
from mloop.storage.sql.store import SqlStore
from tests.client.conftest import FluentEnv


class CountingRuns:
    """The store's real run store, counting the calls that write."""

    def __init__(self, store: SqlStore) -> None:
        self._runs = store.runs
        self.calls: list[str] = []

    def create(self, experiment_id: str, **fields: Any) -> Any:
        self.calls.append("create")
        return self._runs.create(experiment_id, **fields)

    def log_batch(self, run_id: str, **parts: Sequence[Any]) -> None:
        self.calls.append("log_batch")
        self._runs.log_batch(run_id, **parts)

    def finish(self, run_id: str, **fields: Any) -> None:
        self.calls.append("finish")
        self._runs.finish(run_id, **fields)

    def update(self, run_id: str, **fields: Any) -> None:
        self.calls.append("update")
        self._runs.update(run_id, **fields)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runs, name)


def _empty_run(**kwargs: Any) -> mloop.ActiveRun:
    """A run started and ended with nothing logged to it."""
    run = mloop.start_run(**kwargs)
    mloop.end_run()
    return run


def _environment_files(store: SqlStore, run_id: str) -> dict[str, str]:
    return {
        f.path: f.digest
        for f in store.artifacts.list_files(run_id)
        if f.path.startswith("environment/")
    }


# The writer's end_run ------------------------------------------------------------------------


def test_end_run_writes_the_last_items_and_the_status_in_one_store_call(store: SqlStore):
    runs = CountingRuns(store)
    queue = WriteQueue(runs, linger_s=60)  # the writer thread would not write before the end
    run = store.runs.create("0", run_name="r")
    queue.put(run.run_id, KIND_PARAM, Param("p", "1"))
    queue.put(run.run_id, KIND_METRIC, Metric("m", 2.0, 10, 0))
    queue.put(run.run_id, KIND_TAG, RunTag("t", "x"))
    queue.end_run(run.run_id, RunStatus.FINISHED)
    assert runs.calls == ["finish"]
    ended = store.runs.get(run.run_id)
    assert (ended.status, ended.params, ended.metrics, ended.tags) == (
        RunStatus.FINISHED,
        {"p": "1"},
        {"m": 2.0},
        {"t": "x"},
    )
    assert queue.pending == 0
    queue.close()


def test_end_run_also_writes_other_runs_items_queued_before_it(store: SqlStore):
    queue = WriteQueue(store.runs, linger_s=60)
    ending, other = (store.runs.create("0", run_name=n) for n in ("ending", "other"))
    queue.put(other.run_id, KIND_METRIC, Metric("o", 1.0, 10, 0))
    queue.put(ending.run_id, KIND_METRIC, Metric("e", 1.0, 10, 0))
    queue.end_run(ending.run_id, RunStatus.KILLED, end_time_ms=ending.start_time_ms + 1)
    assert store.runs.get(other.run_id).metrics == {"o": 1.0}
    assert store.runs.get(other.run_id).status is RunStatus.RUNNING
    killed = store.runs.get(ending.run_id)
    assert (killed.status, killed.end_time_ms) == (RunStatus.KILLED, ending.start_time_ms + 1)
    queue.close()


def test_end_run_waits_for_a_batch_the_writer_thread_is_writing(store: SqlStore):
    run = store.runs.create("0", run_name="r")
    queue = WriteQueue(store.runs, batch_size=500, linger_s=0.001)
    # Tags are last-write-wins: the end's value must land after the thread's earlier one.
    for step in range(5_000):
        queue.put(run.run_id, KIND_METRIC, Metric("m", float(step), 1_000 + step, step))
    queue.put(run.run_id, KIND_TAG, RunTag("t", "early"))
    queue.put(run.run_id, KIND_TAG, RunTag("t", "late"))
    queue.end_run(run.run_id, RunStatus.FINISHED)
    ended = store.runs.get(run.run_id)
    assert ended.tags == {"t": "late"}
    assert ended.status is RunStatus.FINISHED
    assert len(store.runs.get_metric_history(run.run_id, "m")) == 5_000
    queue.close()


def test_a_conflicting_param_at_the_end_drops_only_itself_and_the_run_ends(store: SqlStore):
    run = store.runs.create("0", run_name="r")
    store.runs.log_batch(run.run_id, params=[Param("p", "stored")])
    queue = WriteQueue(store.runs, linger_s=60)
    queue.put(run.run_id, KIND_PARAM, Param("p", "other"))
    queue.put(run.run_id, KIND_PARAM, Param("q", "1"))
    queue.put(run.run_id, KIND_METRIC, Metric("m", 1.0, 10, 0))
    with pytest.raises(ParamConflictError):
        queue.end_run(run.run_id, RunStatus.FINISHED)
    ended = store.runs.get(run.run_id)
    assert (ended.status, ended.params, ended.metrics) == (
        RunStatus.FINISHED,
        {"p": "stored", "q": "1"},
        {"m": 1.0},
    )
    queue.close()


def test_a_run_whose_last_items_fail_is_still_ended_and_the_error_raised(store: SqlStore):
    run = store.runs.create("0", run_name="r")
    queue = WriteQueue(store.runs, linger_s=60)
    queue.put(run.run_id, KIND_METRIC, Metric("m", 1.0, 10, 0))
    store.runs.delete(run.run_id, actor="someone")  # a deleted run takes no data, but can end
    with pytest.raises(RunNotActiveError):
        queue.end_run(run.run_id, RunStatus.FAILED)
    ended = store.runs.get(run.run_id)
    assert (ended.status, ended.metrics) == (RunStatus.FAILED, {})
    queue.check()  # raised once, not again
    queue.close()


def test_a_flush_waiting_during_an_end_returns_when_the_end_has_written(store: SqlStore):
    run = store.runs.create("0", run_name="r")
    queue = WriteQueue(store.runs, linger_s=60)
    queue.put(run.run_id, KIND_METRIC, Metric("m", 1.0, 10, 0))
    queue.end_run(run.run_id, RunStatus.FINISHED)
    queue.flush(timeout_s=5)
    assert queue.pending == 0
    queue.close()


# The fluent API ------------------------------------------------------------------------------


def test_every_run_of_a_process_has_the_environment_files_and_tags(store: SqlStore):
    run_ids = []
    for i in range(4):
        with mloop.start_run() as run:
            mloop.log_param("i", i)
        run_ids.append(run.run_id)
    first = _environment_files(store, run_ids[0])
    assert "environment/requirements.txt" in first
    for run_id in run_ids[1:]:
        # Linked by digest to the same blobs: stored once.
        assert _environment_files(store, run_id) == first
        tags = store.runs.get(run_id).tags
        assert (
            tags["mloop.python_version"] == store.runs.get(run_ids[0]).tags["mloop.python_version"]
        )
        assert "mloop.source.name" in tags
    requirements = store.artifacts.read_bytes(run_ids[-1], "environment/requirements.txt")
    assert b"sqlalchemy==" in requirements.lower()
    assert STATE.environment_run == run_ids[0]


def test_tags_given_at_start_win_over_the_environments(store: SqlStore):
    _empty_run()  # the process's first run records the environment
    run = _empty_run(tags={"mloop.source.name": "my-job"})
    assert store.runs.get(run.run_id).tags["mloop.source.name"] == "my-job"


def test_runs_record_the_environment_again_when_the_first_run_was_purged(store: SqlStore):
    first = _empty_run()
    # Deleted, then purged as `mloop gc` does: neither its row nor its manifest is left.
    mloop.delete_run(first.run_id)
    assert purge_runs(store.engine, cutoff_ms=now_ms() + 60_000, actor="gc") == [first.run_id]
    second = _empty_run()
    assert second.environment_recorded.is_set()
    assert "environment/requirements.txt" in _environment_files(store, second.run_id)
    third = _empty_run()
    assert _environment_files(store, third.run_id) == _environment_files(store, second.run_id)


def test_pointing_elsewhere_records_the_environment_in_the_new_store(
    store: SqlStore, tmp_path: Path
):
    _empty_run()
    assert STATE.environment_run is not None
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    mloop.set_tracking_uri(other_url, artifact_uri=str(tmp_path / "other-artifacts"))
    assert STATE.environment_run is None
    run = _empty_run()
    other = get_store()
    assert isinstance(other, SqlStore)
    assert "environment/requirements.txt" in _environment_files(other, run.run_id)


def test_end_run_uses_one_store_call_per_run(store: SqlStore, monkeypatch: pytest.MonkeyPatch):
    _empty_run()  # the environment is recorded; later runs link it at creation
    runs = CountingRuns(store)
    queue = STATE.queue
    assert queue is not None
    monkeypatch.setattr(queue, "_store", runs)
    # A loaded machine could let the writer thread's 50 ms linger end between a log and the
    # run's end; this test is about the end, so the writer waits.
    monkeypatch.setattr(queue, "_linger_s", 60.0)
    for _ in range(3):
        with mloop.start_run():
            mloop.log_params({"a": 1, "b": 2})
            mloop.log_metrics({"m": 0.5})
    assert runs.calls == ["finish", "finish", "finish"]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_run_acknowledged_by_end_run_survives_sigkill(store: SqlStore, fluent: FluentEnv):
    script = fluent.workdir / "runs.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            import mloop

            i = 0
            while True:
                run = mloop.start_run()
                mloop.log_params({f"p{j}": str(i) for j in range(10)})
                mloop.log_metrics({f"m{j}": float(i) for j in range(5)}, step=i)
                mloop.end_run()
                print(run.run_id, flush=True)
                i += 1
            """
        )
    )
    child = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=fluent.workdir,
        env=fluent.subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    acknowledged: list[str] = []
    try:
        for line in child.stdout:
            acknowledged.append(line.strip())
            if len(acknowledged) >= 40:
                break
    finally:
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
        errors = child.stderr.read() if child.stderr is not None else ""
        child.wait(timeout=30)
    acknowledged.extend(rest.split())
    assert child.returncode == -signal.SIGKILL, errors
    assert len(acknowledged) >= 40

    reopened = SqlStore(fluent.store_url, artifact_root=fluent.artifact_root)
    try:
        first_files = _environment_files(reopened, acknowledged[0])
        assert "environment/requirements.txt" in first_files
        for i, run_id in enumerate(acknowledged):
            run = reopened.runs.get(run_id)
            assert run.status is RunStatus.FINISHED
            assert run.params == {f"p{j}": str(i) for j in range(10)}
            assert run.metrics == {f"m{j}": float(i) for j in range(5)}
            assert _environment_files(reopened, run_id) == first_files
        # The run the kill interrupted is FINISHED with everything (its finish committed), or
        # still RUNNING with no end and at most what the writer thread had stored of it.
        found = reopened.runs.search(max_results=1000)
        unacknowledged = [r for r in found if r.run_id not in set(acknowledged)]
        assert len(unacknowledged) <= 1
        for run in unacknowledged:
            if run.status is RunStatus.FINISHED:
                assert len(run.params) == 10
                assert len(run.metrics) == 5
            else:
                assert (run.status, run.end_time_ms) == (RunStatus.RUNNING, None)
                assert len(set(run.params.values())) <= 1  # one run's values, never mixed
    finally:
        reopened.close()
