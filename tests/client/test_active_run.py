"""Starting, resuming and ending runs (`client/active_run.py`) and run-level fluent calls."""

from __future__ import annotations

import json
import re

import pytest

import mloop
from mloop.client.context import STATE
from mloop.entities import LifecycleStage, RunStatus
from mloop.errors import (
    ExperimentNotFoundError,
    InvalidStateError,
    ParamConflictError,
    RunNotActiveError,
    RunNotFoundError,
)
from mloop.storage.sql.store import SqlStore
from mloop.tracking.environment import current_user
from tests.client.conftest import FluentEnv
from tests.client.scripts import run_script


def test_run_used_as_context_manager_ends_finished_with_what_was_logged(store: SqlStore):
    with mloop.start_run() as run:
        assert mloop.active_run() is run
        mloop.log_metric("loss", 0.5)

    assert mloop.active_run() is None
    stored = store.runs.get(run.run_id)
    assert stored.status is RunStatus.FINISHED
    assert stored.end_time_ms is not None
    assert stored.end_time_ms >= stored.start_time_ms
    assert stored.metrics == {"loss": 0.5}


def test_run_ends_failed_on_an_exception_with_the_error_recorded(store: SqlStore):
    with pytest.raises(ValueError, match="bad batch"), mloop.start_run() as run:
        raise ValueError("bad batch shape")

    stored = store.runs.get(run.run_id)
    assert stored.status is RunStatus.FAILED
    assert stored.tags["mloop.error.type"] == "ValueError"
    assert stored.tags["mloop.error.message"] == "bad batch shape"
    traceback = store.artifacts.read_bytes(run.run_id, "error/traceback.txt").decode()
    assert "Traceback (most recent call last)" in traceback
    assert "ValueError: bad batch shape" in traceback


def test_run_ends_killed_on_keyboard_interrupt(store: SqlStore):
    with pytest.raises(KeyboardInterrupt), mloop.start_run() as run:
        raise KeyboardInterrupt

    stored = store.runs.get(run.run_id)
    assert stored.status is RunStatus.KILLED
    assert stored.tags["mloop.error.type"] == "KeyboardInterrupt"


def test_nested_run_records_its_parent_and_both_end(store: SqlStore):
    with mloop.start_run() as parent:
        with mloop.start_run(nested=True) as child:
            assert mloop.active_run() is child
        assert mloop.active_run() is parent

    assert store.runs.get(child.run_id).parent_run_id == parent.run_id
    assert store.runs.get(parent.run_id).parent_run_id is None
    assert store.runs.get(child.run_id).status is RunStatus.FINISHED
    assert store.runs.get(parent.run_id).status is RunStatus.FINISHED


def test_open_child_runs_end_with_their_parent(store: SqlStore):
    def train() -> tuple[mloop.ActiveRun, mloop.ActiveRun]:
        with mloop.start_run() as parent:
            child = mloop.start_run(nested=True)
            raise RuntimeError((parent, child))

    with pytest.raises(RuntimeError) as caught:
        train()
    parent, child = caught.value.args[0]

    assert STATE.runs == []
    assert store.runs.get(child.run_id).status is RunStatus.FAILED
    assert store.runs.get(parent.run_id).status is RunStatus.FAILED
    assert store.runs.get(parent.run_id).tags["mloop.error.type"] == "RuntimeError"


def test_starting_a_second_run_while_one_is_active_raises_and_changes_nothing(store: SqlStore):
    with mloop.start_run() as run:
        with pytest.raises(InvalidStateError, match=run.run_id):
            mloop.start_run()
        assert mloop.active_run() is run

    assert [r.run_id for r in store.runs.search(["0"])] == [run.run_id]


def test_runs_get_generated_readable_names_unless_named(store: SqlStore):
    generated = mloop.start_run()
    mloop.end_run()
    named = mloop.start_run(run_name="baseline")
    mloop.end_run()

    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", generated.run_name)
    assert store.runs.get(generated.run_id).run_name == generated.run_name
    assert store.runs.get(named.run_id).run_name == "baseline"


def test_start_run_sets_tags_description_and_user(store: SqlStore):
    run = mloop.start_run(tags={"team": "risk"}, description="first try")
    mloop.end_run()

    stored = store.runs.get(run.run_id)
    assert stored.tags["team"] == "risk"
    assert stored.tags["mloop.note.content"] == "first try"
    assert stored.user_id == current_user()


def test_active_run_is_none_without_a_run():
    assert mloop.active_run() is None


def test_end_run_ends_the_active_run_with_the_given_status(store: SqlStore):
    run = mloop.start_run()
    mloop.log_param("alpha", 1)

    mloop.end_run("KILLED")

    assert mloop.active_run() is None
    stored = store.runs.get(run.run_id)
    assert stored.status is RunStatus.KILLED
    assert stored.params == {"alpha": "1"}


def test_end_run_without_an_active_run_does_nothing():
    mloop.end_run()

    assert mloop.active_run() is None


def test_run_ended_inside_its_with_block_keeps_its_status(store: SqlStore):
    with mloop.start_run() as run:
        mloop.end_run(RunStatus.KILLED)

    assert store.runs.get(run.run_id).status is RunStatus.KILLED


def test_active_run_info_includes_queued_writes():
    with mloop.start_run() as run:
        mloop.log_metric("acc", 0.9)
        assert run.info.metrics == {"acc": 0.9}
        assert run.info.status is RunStatus.RUNNING


def test_resuming_a_run_in_this_process_sets_it_running_and_knows_its_params(store: SqlStore):
    with mloop.start_run() as first:
        mloop.log_param("lr", 0.1)
    assert store.runs.get(first.run_id).status is RunStatus.FINISHED
    STATE.params.clear()  # as in a fresh process

    with mloop.start_run(run_id=first.run_id) as resumed:
        assert store.runs.get(first.run_id).status is RunStatus.RUNNING
        assert store.runs.get(first.run_id).end_time_ms is None
        mloop.log_param("lr", 0.1)
        with pytest.raises(ParamConflictError):
            mloop.log_param("lr", 0.2)
        mloop.log_metric("loss", 0.3)

    assert resumed.run_id == first.run_id
    stored = store.runs.get(first.run_id)
    assert stored.status is RunStatus.FINISHED
    assert stored.params == {"lr": "0.1"}
    assert stored.metrics == {"loss": 0.3}


@pytest.mark.slow
def test_a_run_can_be_resumed_from_another_process(store: SqlStore, fluent: FluentEnv):
    with mloop.start_run() as run:
        mloop.log_param("lr", 0.1)
        mloop.log_metric("loss", 1.0, step=0)

    done = run_script(
        f"""
        import json
        import mloop
        from mloop.client.context import STATE
        from mloop.errors import ParamConflictError

        with mloop.start_run(run_id="{run.run_id}") as run:
            mloop.log_param("lr", 0.1)
            try:
                mloop.log_param("lr", 0.5)
                conflict = False
            except ParamConflictError:
                conflict = True
            queued = STATE.queue.pending if STATE.queue else 0
            mloop.log_metric("loss", 0.5, step=1)
        print(json.dumps({{"conflict": conflict, "queued": queued}}))
        """,
        env=fluent.subprocess_env(),
        cwd=fluent.workdir,
    )

    reported = json.loads(done.stdout.strip().splitlines()[-1])
    assert reported["conflict"] is True
    stored = store.runs.get(run.run_id)
    assert stored.status is RunStatus.FINISHED
    assert stored.params == {"lr": "0.1"}
    assert [m.value for m in store.runs.get_metric_history(run.run_id, "loss")] == [1.0, 0.5]


def test_resuming_an_unknown_run_raises_not_found():
    with pytest.raises(RunNotFoundError):
        mloop.start_run(run_id="0" * 32)
    assert mloop.active_run() is None


def test_resuming_a_deleted_run_raises_not_active(store: SqlStore):
    run = mloop.start_run()
    mloop.end_run()
    store.runs.delete(run.run_id, actor="test")

    with pytest.raises(RunNotActiveError):
        mloop.start_run(run_id=run.run_id)
    assert mloop.active_run() is None


def test_delete_and_restore_run_change_its_stage_and_are_audited(store: SqlStore):
    with mloop.start_run() as run:
        mloop.log_metric("m", 1.0)

    mloop.delete_run(run.run_id)
    assert store.runs.get(run.run_id).lifecycle_stage is LifecycleStage.DELETED
    assert mloop.search_runs() == []

    mloop.restore_run(run.run_id)
    assert store.runs.get(run.run_id).lifecycle_stage is LifecycleStage.ACTIVE

    events = store.audit.list(entity=("run", run.run_id))
    assert [e.action for e in events] == ["run.delete", "run.restore"]
    assert {e.actor for e in events} == {current_user()}


def test_delete_run_of_an_unknown_run_raises_not_found():
    with pytest.raises(RunNotFoundError):
        mloop.delete_run("f" * 32)


def test_get_run_returns_everything_logged_without_an_explicit_flush():
    with mloop.start_run() as run:
        mloop.log_params({"depth": 3, "lr": 0.01})
        mloop.log_metric("loss", 0.25, step=3)
        mloop.set_tag("stage", "dev")

        fetched = mloop.get_run(run.run_id)

    assert fetched.params == {"depth": "3", "lr": "0.01"}
    assert fetched.metrics == {"loss": 0.25}
    assert fetched.tags["stage"] == "dev"


def test_get_run_of_an_unknown_run_raises_not_found():
    with pytest.raises(RunNotFoundError):
        mloop.get_run("a" * 32)


def test_search_runs_filters_by_param_tag_and_status_equality():
    mloop.set_experiment("search")
    ids = {}
    for model, team in [("tree", "a"), ("tree", "b"), ("linear", "a")]:
        with mloop.start_run() as run:
            mloop.log_param("model", model)
            mloop.set_tag("team", team)
        ids[(model, team)] = run.run_id
    failed = mloop.start_run()
    mloop.log_param("model", "tree")
    mloop.end_run("FAILED")

    assert {r.run_id for r in mloop.search_runs(params={"model": "linear"})} == {
        ids[("linear", "a")]
    }
    assert {r.run_id for r in mloop.search_runs(params={"model": "tree"}, tags={"team": "a"})} == {
        ids[("tree", "a")]
    }
    assert {r.run_id for r in mloop.search_runs(status="FAILED")} == {failed.run_id}
    assert len(mloop.search_runs(["search"])) == 4
    assert len(mloop.search_runs(["search"], max_results=2)) == 2
    assert mloop.search_runs(params={"model": "svm"}) == []


def test_search_runs_is_limited_to_the_current_experiment(store: SqlStore):
    mloop.start_run()
    mloop.end_run()
    mloop.set_experiment("other")
    other = mloop.start_run()
    mloop.end_run()

    assert [r.run_id for r in mloop.search_runs()] == [other.run_id]
    assert len(mloop.search_runs(["Default", "other"])) == 2


def test_search_runs_in_an_unknown_experiment_raises_not_found():
    with pytest.raises(ExperimentNotFoundError):
        mloop.search_runs(["nope"])


def test_logging_without_an_active_run_starts_one(store: SqlStore):
    mloop.log_metric("loss", 1.0)

    run = mloop.active_run()
    assert run is not None
    mloop.end_run()
    assert store.runs.get(run.run_id).metrics == {"loss": 1.0}
