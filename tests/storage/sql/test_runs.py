"""The run store contract (lifecycle, inputs, tags, history, search) on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest

from mloop.entities import LifecycleStage, Metric, Param, Run, RunInput, RunStatus, RunTag
from mloop.errors import (
    ExperimentNotFoundError,
    InvalidInputError,
    RunNotActiveError,
    RunNotFoundError,
)
from mloop.storage.sql.store import SqlStore
from tests.storage.sql.rows import scalar


def _ids(runs: list[Run]) -> list[str]:
    return [r.run_id for r in runs]


def test_create_generates_a_32_hex_id_and_starts_running(store: SqlStore) -> None:
    run = store.runs.create("0", run_name="first", user_id="alice")
    assert re.fullmatch(r"[0-9a-f]{32}", run.run_id)
    assert run.status is RunStatus.RUNNING
    assert run.end_time_ms is None
    assert run.lifecycle_stage is LifecycleStage.ACTIVE
    assert run.run_name == "first"
    assert run.user_id == "alice"
    assert run.experiment_id == "0"
    assert run.start_time_ms > 0
    assert (
        run.artifact_uri == f"{store.experiments.get('0').artifact_location}/{run.run_id}/artifacts"
    )


def test_generated_ids_differ(store: SqlStore) -> None:
    ids = {store.runs.create("0", run_name=f"r{i}").run_id for i in range(5)}
    assert len(ids) == 5


def test_create_with_a_given_id_is_idempotent(store: SqlStore) -> None:
    run_id = uuid.uuid4().hex
    first = store.runs.create(
        "0", run_id=run_id, run_name="retry", start_time_ms=1000, tags=[RunTag("k", "v")]
    )
    again = store.runs.create("0", run_id=run_id, run_name="retry", start_time_ms=2000)
    assert again == first
    assert first.start_time_ms == 1000
    assert first.tags == {"k": "v"}
    assert scalar(store, "SELECT count(*) FROM runs WHERE run_uuid = :u", u=run_id) == 1


def test_create_records_parent_and_tags(store: SqlStore) -> None:
    parent = store.runs.create("0", run_name="parent")
    child = store.runs.create(
        "0",
        run_name="child",
        parent_run_id=parent.run_id,
        tags=[RunTag("mloop.source", "train.py"), RunTag("k", "v")],
    )
    assert child.parent_run_id == parent.run_id
    assert store.runs.get(child.run_id).tags == {"mloop.source": "train.py", "k": "v"}


@pytest.mark.parametrize("bad_id", ["ABCDEF" + "0" * 26, "x" * 32, "a" * 31, ""])
def test_create_with_a_malformed_run_id_changes_nothing(store: SqlStore, bad_id: str) -> None:
    with pytest.raises(InvalidInputError):
        store.runs.create("0", run_id=bad_id, run_name="bad")
    with pytest.raises(InvalidInputError):
        store.runs.create("0", run_name="bad", parent_run_id=bad_id)
    assert scalar(store, "SELECT count(*) FROM runs") == 0


def test_create_with_an_invalid_name_changes_nothing(store: SqlStore) -> None:
    with pytest.raises(InvalidInputError):
        store.runs.create("0", run_name="")
    assert scalar(store, "SELECT count(*) FROM runs") == 0


def test_create_in_a_missing_or_deleted_experiment_raises_not_found(store: SqlStore) -> None:
    with pytest.raises(ExperimentNotFoundError):
        store.runs.create("404", run_name="r")
    gone = store.experiments.create("gone")
    store.experiments.delete(gone.experiment_id)
    with pytest.raises(ExperimentNotFoundError):
        store.runs.create(gone.experiment_id, run_name="r")
    with pytest.raises(InvalidInputError):
        store.runs.create("zero", run_name="r")
    assert scalar(store, "SELECT count(*) FROM runs") == 0


def test_get_of_an_unknown_run_raises_not_found(store: SqlStore) -> None:
    missing = uuid.uuid4().hex
    with pytest.raises(RunNotFoundError) as caught:
        store.runs.get(missing)
    assert caught.value.run_id == missing
    with pytest.raises(InvalidInputError):
        store.runs.get("not-a-run-id")


def test_terminal_status_sets_the_end_time(store: SqlStore) -> None:
    run = store.runs.create("0", run_name="r")
    store.runs.update(run.run_id, status=RunStatus.FINISHED)
    ended = store.runs.get(run.run_id)
    assert ended.status is RunStatus.FINISHED
    assert ended.end_time_ms is not None
    assert ended.end_time_ms >= run.start_time_ms
    store.runs.update(run.run_id, status=RunStatus.FAILED, end_time_ms=123)
    failed = store.runs.get(run.run_id)
    assert (failed.status, failed.end_time_ms) == (RunStatus.FAILED, 123)


def test_resuming_a_run_as_running_clears_its_end_time(store: SqlStore) -> None:
    run = store.runs.create("0", run_name="r")
    store.runs.update(run.run_id, status=RunStatus.KILLED)
    store.runs.update(run.run_id, status=RunStatus.RUNNING)
    resumed = store.runs.get(run.run_id)
    assert resumed.status is RunStatus.RUNNING
    assert resumed.end_time_ms is None


def test_update_renames_and_sets_end_time_alone(store: SqlStore) -> None:
    run = store.runs.create("0", run_name="r")
    store.runs.update(run.run_id, run_name="better")
    renamed = store.runs.get(run.run_id)
    assert (renamed.run_name, renamed.status) == ("better", RunStatus.RUNNING)
    store.runs.update(run.run_id, end_time_ms=99)
    assert store.runs.get(run.run_id).end_time_ms == 99
    with pytest.raises(InvalidInputError):
        store.runs.update(run.run_id, run_name="")
    assert store.runs.get(run.run_id).run_name == "better"


def test_update_of_an_unknown_run_raises_not_found(store: SqlStore) -> None:
    with pytest.raises(RunNotFoundError):
        store.runs.update(uuid.uuid4().hex, status=RunStatus.FINISHED)


def test_delete_and_restore_are_recorded_in_the_audit_log(store: SqlStore) -> None:
    run = store.runs.create("0", run_name="r")
    store.runs.delete(run.run_id, actor="alice")
    deleted = store.runs.get(run.run_id)
    assert deleted.lifecycle_stage is LifecycleStage.DELETED
    store.runs.restore(run.run_id, actor="bob")
    assert store.runs.get(run.run_id).lifecycle_stage is LifecycleStage.ACTIVE
    events = store.audit.list(entity=("run", run.run_id))
    assert [(e.action, e.actor) for e in events] == [
        ("run.delete", "alice"),
        ("run.restore", "bob"),
    ]
    assert store.audit.verify().is_intact


def test_delete_of_an_unknown_run_raises_and_records_nothing(store: SqlStore) -> None:
    with pytest.raises(RunNotFoundError):
        store.runs.delete(uuid.uuid4().hex, actor="alice")
    with pytest.raises(RunNotFoundError):
        store.runs.restore(uuid.uuid4().hex, actor="alice")
    assert store.audit.list() == []


def test_a_deleted_run_accepts_no_data(store: SqlStore) -> None:
    run = store.runs.create("0", run_name="r", tags=[RunTag("t", "1")])
    store.runs.delete(run.run_id, actor="alice")
    calls: tuple[Callable[[], None], ...] = (
        lambda: store.runs.log_batch(run.run_id, metrics=[Metric("m", 1.0, 1)]),
        lambda: store.runs.log_batch(run.run_id, params=[Param("p", "1")]),
        lambda: store.runs.log_batch(run.run_id, tags=[RunTag("t", "2")]),
        lambda: store.runs.log_inputs(run.run_id, [RunInput("d", "sha256:1")]),
        lambda: store.runs.delete_tag(run.run_id, "t"),
    )
    for call in calls:
        with pytest.raises(RunNotActiveError) as caught:
            call()
        assert caught.value.run_id == run.run_id
    store.runs.restore(run.run_id, actor="alice")
    after = store.runs.get(run.run_id)
    assert (after.metrics, after.params, after.tags, after.inputs) == ({}, {}, {"t": "1"}, ())


def test_writes_to_an_unknown_run_raise_not_found(store: SqlStore) -> None:
    missing = uuid.uuid4().hex
    with pytest.raises(RunNotFoundError):
        store.runs.log_batch(missing, metrics=[Metric("m", 1.0, 1)])
    with pytest.raises(RunNotFoundError):
        store.runs.log_inputs(missing, [RunInput("d", "sha256:1")])
    with pytest.raises(RunNotFoundError):
        store.runs.delete_tag(missing, "t")
    with pytest.raises(RunNotFoundError):
        store.runs.get_metric_history(missing, "m")


def test_log_inputs_is_idempotent(store: SqlStore) -> None:
    run = store.runs.create("0", run_name="r")
    train = RunInput("customers", "sha256:abc", source="datasets:/customers/1", context="training")
    holdout = RunInput("customers", "sha256:abc", source="datasets:/customers/1", context="eval")
    store.runs.log_inputs(run.run_id, [train, holdout])
    store.runs.log_inputs(run.run_id, [train])
    store.runs.log_inputs(run.run_id, [])
    assert sorted(store.runs.get(run.run_id).inputs, key=lambda i: i.context) == [holdout, train]


@pytest.mark.parametrize(
    "bad",
    [
        RunInput("d" * 251, "sha256:1"),
        RunInput("d", "x" * 129),
        RunInput("d", "sha256:1", source="s" * 1001),
        RunInput("d", "sha256:1", context="c" * 251),
        RunInput("d\x00", "sha256:1"),
    ],
)
def test_log_inputs_refuses_fields_its_columns_cannot_hold(store: SqlStore, bad: RunInput) -> None:
    run = store.runs.create("0", run_name="r")
    good = RunInput("ok", "sha256:2")
    with pytest.raises(InvalidInputError, match="dataset input"):
        store.runs.log_inputs(run.run_id, [good, bad])
    assert store.runs.get(run.run_id).inputs == ()


@pytest.mark.parametrize("user_id", ["u" * 257, "a\x00b"])
def test_create_refuses_a_user_id_its_column_cannot_hold(store: SqlStore, user_id: str) -> None:
    with pytest.raises(InvalidInputError, match="user id"):
        store.runs.create("0", run_name="r", user_id=user_id)
    assert list(store.runs.search(["0"])) == []


def test_params_and_tags_with_nul_characters_are_refused(store: SqlStore) -> None:
    run = store.runs.create("0", run_name="r")
    with pytest.raises(InvalidInputError, match="NUL"):
        store.runs.log_batch(run.run_id, params=[Param("p", "a\x00")])
    with pytest.raises(InvalidInputError, match="NUL"):
        store.runs.log_batch(run.run_id, tags=[RunTag("t", "a\x00")])
    stored = store.runs.get(run.run_id)
    assert stored.params == {}
    assert "t" not in stored.tags


def test_delete_tag_removes_only_that_tag_of_that_run(store: SqlStore) -> None:
    run = store.runs.create("0", run_name="r", tags=[RunTag("a", "1"), RunTag("b", "2")])
    other = store.runs.create("0", run_name="o", tags=[RunTag("a", "1")])
    store.runs.delete_tag(run.run_id, "a")
    assert store.runs.get(run.run_id).tags == {"b": "2"}
    assert store.runs.get(other.run_id).tags == {"a": "1"}
    with pytest.raises(InvalidInputError, match="'a'"):
        store.runs.delete_tag(run.run_id, "a")


def test_metric_history_is_ordered_by_step_then_timestamp(store: SqlStore) -> None:
    run = store.runs.create("0", run_name="r")
    points = [Metric("loss", 0.3, 30, 2), Metric("loss", 0.9, 10, 0), Metric("loss", 0.5, 25, 1)]
    store.runs.log_batch(run.run_id, metrics=points[:1])
    store.runs.log_batch(
        run.run_id, metrics=[*points[1:], Metric("loss", 0.4, 20, 1), Metric("acc", 1.0, 5, 0)]
    )
    history = store.runs.get_metric_history(run.run_id, "loss")
    assert [(m.step, m.timestamp_ms, m.value) for m in history] == [
        (0, 10, 0.9),
        (1, 20, 0.4),
        (1, 25, 0.5),
        (2, 30, 0.3),
    ]
    assert all(m.key == "loss" for m in history)
    assert store.runs.get_metric_history(run.run_id, "never-logged") == []


def _searchable(store: SqlStore) -> dict[str, str]:
    exp = store.experiments.create("search").experiment_id
    made = {}
    for name, lr, team, start in (
        ("a", "0.1", "x", 100),
        ("b", "0.2", "x", 300),
        ("c", "0.1", "y", 200),
    ):
        run = store.runs.create(
            exp, run_name=name, start_time_ms=start, tags=[RunTag("team", team)]
        )
        store.runs.log_batch(run.run_id, params=[Param("lr", lr), Param("depth", "3")])
        made[name] = run.run_id
    made["other"] = store.runs.create("0", run_name="other", start_time_ms=400).run_id
    made["exp"] = exp
    return made


def test_search_returns_runs_of_the_given_experiments_newest_first(store: SqlStore) -> None:
    made = _searchable(store)
    found = store.runs.search([made["exp"]])
    assert _ids(found) == [made["b"], made["c"], made["a"]]
    assert found[0].params == {"lr": "0.2", "depth": "3"}
    assert found[0].tags == {"team": "x"}
    both = store.runs.search(["0", made["exp"]])
    assert _ids(both) == [made["other"], made["b"], made["c"], made["a"]]
    assert store.runs.search([]) == []


def test_search_filters_by_param_and_tag_equality(store: SqlStore) -> None:
    made = _searchable(store)
    assert _ids(store.runs.search([made["exp"]], params={"lr": "0.1"})) == [made["c"], made["a"]]
    assert _ids(store.runs.search([made["exp"]], tags={"team": "x"})) == [made["b"], made["a"]]
    assert _ids(store.runs.search([made["exp"]], params={"lr": "0.1"}, tags={"team": "x"})) == [
        made["a"]
    ]
    assert store.runs.search([made["exp"]], params={"lr": "0.3"}) == []
    assert store.runs.search([made["exp"]], params={"missing": "0.1"}) == []
    # equality is exact: no prefix, pattern or case-insensitive match
    assert store.runs.search([made["exp"]], params={"lr": "0.%"}) == []
    assert store.runs.search([made["exp"]], tags={"team": "X"}) == []


def test_search_filters_by_status(store: SqlStore) -> None:
    made = _searchable(store)
    store.runs.update(made["a"], status=RunStatus.FINISHED)
    finished = store.runs.search([made["exp"]], status=RunStatus.FINISHED)
    assert _ids(finished) == [made["a"]]
    running = store.runs.search([made["exp"]], status=RunStatus.RUNNING)
    assert _ids(running) == [made["b"], made["c"]]


def test_search_skips_deleted_runs_unless_asked(store: SqlStore) -> None:
    made = _searchable(store)
    store.runs.delete(made["b"], actor="alice")
    assert _ids(store.runs.search([made["exp"]])) == [made["c"], made["a"]]
    with_deleted = store.runs.search([made["exp"]], include_deleted=True)
    assert _ids(with_deleted) == [made["b"], made["c"], made["a"]]


def test_search_limits_results_to_max_results(store: SqlStore) -> None:
    made = _searchable(store)
    assert _ids(store.runs.search([made["exp"]], max_results=1)) == [made["b"]]
    assert len(store.runs.search([made["exp"]], max_results=50_000)) == 3


@pytest.mark.parametrize("max_results", [0, -1, 50_001])
def test_search_refuses_max_results_out_of_bounds(store: SqlStore, max_results: int) -> None:
    with pytest.raises(InvalidInputError) as caught:
        store.runs.search(["0"], max_results=max_results)
    assert caught.value.field == "max_results"


def test_search_refuses_malformed_experiment_ids(store: SqlStore) -> None:
    with pytest.raises(InvalidInputError):
        store.runs.search(["zero"])


def test_search_reports_latest_metric_values(store: SqlStore) -> None:
    made = _searchable(store)
    store.runs.log_batch(made["a"], metrics=[Metric("acc", 0.5, 1, 0), Metric("acc", 0.7, 2, 1)])
    found = {r.run_id: r for r in store.runs.search([made["exp"]])}
    assert found[made["a"]].metrics == {"acc": 0.7}
    assert found[made["b"]].metrics == {}
