"""`MloopClient` (`client/client.py`): explicit ids, synchronous writes, batch limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mloop
from mloop.client import MloopClient
from mloop.entities import LifecycleStage, Metric, Param, RunInput, RunStatus, RunTag
from mloop.errors import (
    ExperimentAlreadyExistsError,
    ExperimentNotFoundError,
    InvalidInputError,
    NotFoundError,
    ParamConflictError,
    RunNotFoundError,
)
from mloop.storage.sql.store import SqlStore
from tests.client.conftest import FluentEnv


@pytest.fixture
def client(fluent: FluentEnv, tmp_path: Path) -> Iterator[MloopClient]:
    """A client with a store of its own on the test's database."""
    opened = MloopClient(fluent.store_url, artifact_uri=fluent.artifact_root)
    yield opened
    opened.store.close()


@pytest.fixture
def run_id(client: MloopClient) -> str:
    return client.create_run("0", run_name="explicit").run_id


def test_logging_is_synchronous(client: MloopClient, run_id: str, store: SqlStore):
    client.log_metric(run_id, "loss", 0.5, step=2, timestamp_ms=1_000)
    client.log_param(run_id, "lr", 0.1)
    client.set_tag(run_id, "team", "risk")

    run = store.runs.get(run_id)  # another connection sees it at once: no flush exists
    assert run.metrics == {"loss": 0.5}
    assert run.params == {"lr": "0.1"}
    assert run.tags["team"] == "risk"
    assert store.runs.get_metric_history(run_id, "loss") == [Metric("loss", 0.5, 1_000, 2)]


def test_log_param_conflict_raises_and_keeps_the_first_value(
    client: MloopClient, run_id: str, store: SqlStore
):
    client.log_param(run_id, "lr", 0.1)
    client.log_param(run_id, "lr", "0.1")

    with pytest.raises(ParamConflictError):
        client.log_param(run_id, "lr", 0.2)

    assert store.runs.get(run_id).params == {"lr": "0.1"}


def test_a_batch_over_the_limits_raises_and_writes_nothing(
    client: MloopClient, run_id: str, store: SqlStore
):
    metrics = [Metric("m", float(i), 1, i) for i in range(1001)]
    with pytest.raises(InvalidInputError, match="1000 metrics"):
        client.log_batch(run_id, metrics=metrics)
    with pytest.raises(InvalidInputError, match="100 params"):
        client.log_batch(run_id, params=[Param(f"p{i}", "v") for i in range(101)])
    with pytest.raises(InvalidInputError, match="100 tags"):
        client.log_batch(run_id, tags=[RunTag(f"t{i}", "v") for i in range(101)])

    assert store.runs.get_metric_history(run_id, "m") == []
    client.log_batch(run_id, metrics=metrics[:1000])
    assert len(store.runs.get_metric_history(run_id, "m")) == 1000


def test_a_batch_with_one_bad_item_writes_nothing(
    client: MloopClient, run_id: str, store: SqlStore
):
    good = [Metric("m", 1.0, 1, 0), Metric("n", 2.0, 1, 0)]
    with pytest.raises(InvalidInputError):
        client.log_batch(run_id, metrics=[*good, Metric("bad key!", 1.0, 1, 0)])
    with pytest.raises(InvalidInputError):
        client.log_batch(run_id, metrics=[*good, Metric("m", True, 1, 1)])
    with pytest.raises(InvalidInputError):
        client.log_batch(run_id, metrics=good, params=[Param("p", "x" * 6001)])
    with pytest.raises(InvalidInputError):
        client.log_batch(run_id, metrics=good, tags=[RunTag("t", "x" * 8001)])
    with pytest.raises(InvalidInputError):
        client.log_metric(run_id, "m", "1.0")  # type: ignore[arg-type]

    run = store.runs.get(run_id)
    assert (run.metrics, run.params) == ({}, {})


def test_a_batch_with_a_conflicting_param_writes_nothing(
    client: MloopClient, run_id: str, store: SqlStore
):
    client.log_param(run_id, "lr", "0.1")

    with pytest.raises(ParamConflictError):
        client.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)], params=[Param("lr", "0.2")])

    assert store.runs.get(run_id).metrics == {}


def test_experiments_can_be_created_read_renamed_deleted_and_restored(client: MloopClient):
    created = client.create_experiment("churn", tags={"owner": "risk"})

    assert client.get_experiment(created.experiment_id).name == "churn"
    assert client.get_experiment_by_name("churn").experiment_id == created.experiment_id
    assert client.get_experiment(created.experiment_id).tags == {"owner": "risk"}
    with pytest.raises(ExperimentAlreadyExistsError):
        client.create_experiment("churn")

    renamed = client.rename_experiment(created.experiment_id, "churn-v2")
    assert renamed.name == "churn-v2"
    with pytest.raises(ExperimentNotFoundError):
        client.get_experiment_by_name("churn")

    client.delete_experiment(created.experiment_id)
    assert "churn-v2" not in [e.name for e in client.list_experiments()]
    deleted = [e for e in client.list_experiments(include_deleted=True) if e.name == "churn-v2"]
    assert deleted[0].lifecycle_stage is LifecycleStage.DELETED

    client.restore_experiment(created.experiment_id)
    assert "churn-v2" in [e.name for e in client.list_experiments()]
    assert {e.name for e in client.list_experiments()} >= {"Default", "churn-v2"}


def test_unknown_experiments_raise_not_found(client: MloopClient):
    with pytest.raises(ExperimentNotFoundError):
        client.get_experiment("987654")
    with pytest.raises(ExperimentNotFoundError):
        client.create_run("987654")


def test_create_run_names_tags_and_parents_a_run(client: MloopClient, store: SqlStore):
    parent = client.create_run("0", run_name="parent", start_time_ms=5_000)
    child = client.create_run("0", tags={"kind": "trial"}, parent_run_id=parent.run_id)

    assert (parent.run_name, parent.start_time_ms, parent.status) == (
        "parent",
        5_000,
        RunStatus.RUNNING,
    )
    assert child.run_name  # generated
    assert store.runs.get(child.run_id).parent_run_id == parent.run_id
    assert store.runs.get(child.run_id).tags["kind"] == "trial"


def test_set_terminated_ends_a_run_with_its_status_and_end_time(
    client: MloopClient, run_id: str, store: SqlStore
):
    ended = client.set_terminated(run_id, "KILLED", end_time_ms=9_000)

    assert (ended.status, ended.end_time_ms) == (RunStatus.KILLED, 9_000)
    assert store.runs.get(run_id).status is RunStatus.KILLED
    client.set_terminated(run_id)
    assert store.runs.get(run_id).status is RunStatus.FINISHED


def test_update_run_renames(client: MloopClient, run_id: str):
    assert client.update_run(run_id, run_name="renamed").run_name == "renamed"


def test_unknown_runs_raise_not_found(client: MloopClient):
    with pytest.raises(RunNotFoundError):
        client.get_run("b" * 32)
    with pytest.raises(RunNotFoundError):
        client.set_terminated("b" * 32)
    with pytest.raises(RunNotFoundError):
        client.log_metric("b" * 32, "m", 1.0)


def test_delete_tag_removes_it_and_a_missing_tag_raises(client: MloopClient, run_id: str):
    client.set_tag(run_id, "stage", "dev")
    client.delete_tag(run_id, "stage")

    assert "stage" not in client.get_run(run_id).tags
    with pytest.raises(InvalidInputError):
        client.delete_tag(run_id, "stage")


def test_get_metric_history_orders_by_step_then_time(client: MloopClient, run_id: str):
    client.log_batch(
        run_id,
        metrics=[Metric("m", 3.0, 30, 2), Metric("m", 1.0, 10, 0), Metric("m", 2.0, 5, 1)],
    )
    client.log_metric(run_id, "m", 1.5, step=0, timestamp_ms=20)

    assert [(p.step, p.value) for p in client.get_metric_history(run_id, "m")] == [
        (0, 1.0),
        (0, 1.5),
        (1, 2.0),
        (2, 3.0),
    ]
    assert client.get_metric_history(run_id, "absent") == []


def test_delete_and_restore_run_are_audited(client: MloopClient, run_id: str, store: SqlStore):
    client.delete_run(run_id)
    assert client.get_run(run_id).lifecycle_stage is LifecycleStage.DELETED
    assert client.search_runs(["0"]) == []
    assert [r.run_id for r in client.search_runs(["0"], include_deleted=True)] == [run_id]

    client.restore_run(run_id)
    assert client.get_run(run_id).lifecycle_stage is LifecycleStage.ACTIVE
    actions = [e.action for e in store.audit.list(entity=("run", run_id))]
    assert actions == ["run.delete", "run.restore"]


def test_search_runs_filters_by_equality(client: MloopClient):
    first = client.create_run("0")
    second = client.create_run("0")
    client.log_param(first.run_id, "model", "tree")
    client.log_param(second.run_id, "model", "linear")
    client.set_tag(second.run_id, "team", "a")
    client.set_terminated(second.run_id)

    assert [r.run_id for r in client.search_runs(["0"], params={"model": "tree"})] == [first.run_id]
    assert [r.run_id for r in client.search_runs(["0"], tags={"team": "a"})] == [second.run_id]
    assert [r.run_id for r in client.search_runs(["0"], status="FINISHED")] == [second.run_id]


def test_log_inputs_records_datasets_once(client: MloopClient, run_id: str):
    used = RunInput("customers", "sha256:abc", source="datasets:/customers/1", context="training")

    client.log_inputs(run_id, [used])
    client.log_inputs(run_id, [used])

    assert client.get_run(run_id).inputs == (used,)


def test_artifacts_can_be_logged_listed_and_downloaded(
    client: MloopClient, run_id: str, tmp_path: Path
):
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("a")
    (source / "sub" / "b.txt").write_text("bb")
    single = tmp_path / "model.bin"
    single.write_bytes(b"m")

    assert client.log_artifact(run_id, single, "model") == "model/model.bin"
    assert client.log_artifacts(run_id, source, "data") == 2

    assert [(a.path, a.is_dir) for a in client.list_artifacts(run_id)] == [
        ("data", True),
        ("model", True),
    ]
    listed = client.list_artifacts(run_id, "data")
    assert [(a.path, a.is_dir, a.size_bytes) for a in listed] == [
        ("data/a.txt", False, 1),
        ("data/sub", True, None),
    ]
    folder = client.download_artifacts(run_id, "data", tmp_path / "out")
    assert (folder / "sub" / "b.txt").read_text() == "bb"
    file = client.download_artifacts(run_id, "model/model.bin", tmp_path / "out2")
    assert file.read_bytes() == b"m"
    everything = client.download_artifacts(run_id, None, tmp_path / "out3")
    assert (everything / "data" / "a.txt").read_text() == "a"
    with pytest.raises(NotFoundError):
        client.download_artifacts(run_id, "missing.txt", tmp_path / "out4")
    with pytest.raises(InvalidInputError):
        client.list_artifacts(run_id, "../..")


def test_a_client_without_arguments_uses_the_fluent_default_store(store: SqlStore):
    run = mloop.start_run()
    mloop.end_run()

    assert MloopClient().get_run(run.run_id).status is RunStatus.FINISHED
