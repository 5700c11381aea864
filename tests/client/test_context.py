"""Process-wide client state (`client/context.py`): default store, fork safety, exit flush."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import mloop
from mloop.client.context import STATE, get_store
from mloop.entities import RunStatus
from mloop.storage.sql.store import SqlStore
from tests.client.conftest import FluentEnv
from tests.client.scripts import run_script


def wait_for_child(pid: int, timeout_s: float) -> int:
    """The exit code of a forked child; kills it and fails when it hangs."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError(f"forked child {pid} did not finish in {timeout_s} s (deadlock?)")


@contextmanager
def forked_child(
    body: Callable[[], None], error_file: Path, timeout_s: float = 90
) -> Iterator[None]:
    """Run `body` in a forked child while the block runs in the parent, then check the child.

    Fails with the child's own traceback (written to `error_file`) when `body` raised.
    """
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        code = 1
        try:
            body()
            code = 0
        except BaseException:  # noqa: BLE001 - reported to the parent, then the child exits
            error_file.write_text(traceback.format_exc())
        finally:
            os._exit(code)
    try:
        yield
    finally:
        code = wait_for_child(pid, timeout_s)  # reaped also when the block failed
    error = error_file.read_text() if error_file.exists() else "(no exception recorded)"
    assert code == 0, f"forked child exited with status {code}:\n{error}"


def test_a_forked_child_logs_to_the_parents_run_and_both_points_are_stored(
    store: SqlStore, tmp_path: Path
):
    def child() -> None:
        for step in range(500):
            mloop.log_metric("child", float(step), step=step)
        mloop.log_param("from_child", "yes")
        mloop.flush(timeout_s=60)

    with mloop.start_run() as run:
        # Keep the writer busy at the moment of the fork, so the child inherits held locks.
        for step in range(3_000):
            mloop.log_metric("parent", float(step), step=step)
        with forked_child(child, tmp_path / "child-error.txt"):
            for step in range(3_000, 3_500):
                mloop.log_metric("parent", float(step), step=step)

    assert len(store.runs.get_metric_history(run.run_id, "child")) == 500
    assert len(store.runs.get_metric_history(run.run_id, "parent")) == 3_500
    stored = store.runs.get(run.run_id)
    assert stored.params == {"from_child": "yes"}
    assert stored.status is RunStatus.FINISHED


def test_a_fork_while_another_thread_holds_the_runs_environment_event_leaves_the_child_working(
    store: SqlStore,
):
    with mloop.start_run() as run:
        active = STATE.runs[-1]
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            # What the environment capture thread holds for an instant while it sets the event.
            with active.environment_recorded._cond:  # type: ignore[attr-defined]
                held.set()
                release.wait(30)

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait(30)
        try:
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child's coverage is not collected
                code = 1
                try:
                    mloop.log_metric("child", 1.0)
                    mloop.flush(timeout_s=30)
                    code = 0
                finally:
                    os._exit(code)
        finally:
            release.set()
            holder.join()
        assert wait_for_child(pid, timeout_s=30) == 0

    assert len(store.runs.get_metric_history(run.run_id, "child")) == 1


@pytest.mark.slow
def test_interpreter_exit_flushes_queued_metrics_and_ends_the_run(
    store: SqlStore, fluent: FluentEnv
):
    done = run_script(
        """
        import mloop

        run = mloop.start_run()
        print(run.run_id)
        for step in range(5_000):
            mloop.log_metric("loss", 1.0 / (step + 1), step=step)
        """,
        env=fluent.subprocess_env(),
        cwd=fluent.workdir,
    )

    run_id = done.stdout.strip()
    assert len(store.runs.get_metric_history(run_id, "loss")) == 5_000
    stored = store.runs.get(run_id)
    assert stored.status is RunStatus.FINISHED
    assert stored.metrics["loss"] == 1.0 / 5_000


def test_a_process_that_exits_leaves_its_sqlite_store_checkpointed(
    tmp_path: Path, fluent: FluentEnv
) -> None:
    db = tmp_path / "own.db"  # no connection of this test process holds it open
    env = fluent.subprocess_env()
    env["MLOOP_TRACKING_URI"] = f"sqlite:///{db}"
    done = run_script(
        f"""
        import os
        import mloop

        for i in range(20):
            with mloop.start_run():
                mloop.log_params({{"i": str(i)}})
                mloop.log_metric("m", float(i))
        print(os.path.exists({str(db) + "-wal"!r}))
        """,
        env=env,
        cwd=fluent.workdir,
    )
    assert done.stdout.strip() == "True"  # the runs went through the write-ahead log
    # Closed at exit: the log was folded back into the database and removed.
    assert not Path(f"{db}-wal").exists()
    reopened = SqlStore(f"sqlite:///{db}", artifact_root=str(tmp_path / "artifacts"))
    try:
        assert len(reopened.runs.search(["0"], max_results=100)) == 20
    finally:
        reopened.close()


@pytest.mark.slow
def test_a_forked_child_that_exits_normally_leaves_the_parents_runs_running(
    store: SqlStore, fluent: FluentEnv
):
    done = run_script(
        """
        import json
        import os
        import sys

        import mloop

        def fork_and_exit(key):
            pid = os.fork()
            if pid == 0:
                mloop.log_metric(key, 2.0)
                sys.exit(0)  # a normal exit: with blocks unwind and atexit handlers run
            _, status = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(status)

        outer = mloop.start_run()
        mloop.log_metric("parent", 1.0)
        exits = [fork_and_exit("child")]
        statuses = [mloop.get_run(outer.run_id).status]
        with mloop.start_run(nested=True) as inner:
            exits.append(fork_and_exit("child_in_block"))
            statuses += [mloop.get_run(inner.run_id).status, mloop.get_run(outer.run_id).status]
        mloop.log_metric("parent", 3.0, step=1)
        mloop.end_run()
        print(json.dumps({"outer": outer.run_id, "inner": inner.run_id, "exits": exits,
                          "statuses": statuses}))
        """,
        env=fluent.subprocess_env(),
        cwd=fluent.workdir,
        timeout_s=120,
    )

    reported = json.loads(done.stdout.strip().splitlines()[-1])
    assert reported["exits"] == [0, 0]
    assert reported["statuses"] == ["RUNNING"] * 3
    outer, inner = reported["outer"], reported["inner"]
    assert [m.value for m in store.runs.get_metric_history(outer, "child")] == [2.0]
    assert [m.value for m in store.runs.get_metric_history(inner, "child_in_block")] == [2.0]
    assert [m.value for m in store.runs.get_metric_history(outer, "parent")] == [1.0, 3.0]
    assert store.runs.get(outer).status is RunStatus.FINISHED
    assert store.runs.get(inner).status is RunStatus.FINISHED


def test_without_configuration_the_store_is_created_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    mloop.set_tracking_uri(None)
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)

    with mloop.start_run() as run:
        mloop.log_metric("m", 1.0)

    assert (project / ".mloop" / "mloop.db").is_file()
    assert get_store().runs.get(run.run_id).metrics == {"m": 1.0}
    assert Path(get_store().runs.get(run.run_id).artifact_uri).is_relative_to(project / ".mloop")


def test_a_sub_folder_uses_the_projects_existing_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    mloop.set_tracking_uri(None)
    project = tmp_path / "project"
    (project / ".mloop").mkdir(parents=True)
    notebooks = project / "notebooks" / "eda"
    notebooks.mkdir(parents=True)
    monkeypatch.chdir(notebooks)

    mloop.start_run()
    mloop.end_run()

    assert (project / ".mloop" / "mloop.db").is_file()
    assert not (notebooks / ".mloop").exists()


def test_set_tracking_uri_writes_pending_points_to_the_old_store_first(
    store: SqlStore, tmp_path: Path
):
    run = mloop.start_run()
    for step in range(100):
        mloop.log_metric("m", float(step), step=step)
    STATE.runs.clear()  # the run stays RUNNING in the old store

    mloop.set_tracking_uri(f"sqlite:///{tmp_path / 'other.db'}", artifact_uri=str(tmp_path / "a"))

    assert len(store.runs.get_metric_history(run.run_id, "m")) == 100
    moved = mloop.start_run()
    mloop.end_run()
    assert moved.artifact_uri.startswith(str(tmp_path / "a"))


def test_an_uncaught_exception_at_exit_ends_open_runs_failed(store: SqlStore, fluent: FluentEnv):
    script = fluent.workdir / "crash.py"
    script.write_text(
        "import mloop\n"
        "run = mloop.start_run()\n"
        "print(run.run_id, flush=True)\n"
        "mloop.log_metric('loss', 0.5)\n"
        "raise RuntimeError('diverged at step 7')\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=fluent.workdir,
        env=fluent.subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "diverged at step 7" in done.stderr  # the previous hook still prints the traceback
    stored = store.runs.get(done.stdout.strip())
    assert stored.status is RunStatus.FAILED
    assert stored.tags["mloop.error.type"] == "RuntimeError"
    assert stored.tags["mloop.error.message"] == "diverged at step 7"
    assert stored.metrics["loss"] == 0.5
