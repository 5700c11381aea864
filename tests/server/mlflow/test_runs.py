"""MLflow's run endpoints: lifecycle, logging, search and metric history, via the MLflow client."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from tests.server.conftest import LiveServer


def _code(exc: pytest.ExceptionInfo[Any]) -> str:
    return str(exc.value.error_code)


def test_a_fluent_run_logs_params_metrics_tags_and_nested_runs(mlflow_server: LiveServer) -> None:
    import mlflow

    mlflow.set_experiment("fluent")
    with mlflow.start_run(run_name="parent") as parent:
        mlflow.log_params({"lr": 0.1, "depth": 3})
        for step in range(3):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metric("odd", math.nan)
        mlflow.set_tags({"team": "a", "stage": "dev"})
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("inner", 2.0)
    run = mlflow.get_run(parent.info.run_id)
    assert run.info.run_name == "parent"
    assert run.info.status == "FINISHED"
    assert run.info.end_time is not None
    assert run.info.artifact_uri == (
        f"mlflow-artifacts:/{run.info.experiment_id}/{run.info.run_id}/artifacts"
    )
    assert run.data.params == {"lr": "0.1", "depth": "3"}
    assert run.data.metrics["loss"] == pytest.approx(1 / 3)
    assert math.isnan(run.data.metrics["odd"])
    assert run.data.tags["team"] == "a"
    assert run.data.tags["mlflow.runName"] == "parent"
    nested = mlflow.get_run(child.info.run_id)
    assert nested.data.tags["mlflow.parentRunId"] == parent.info.run_id
    history = mlflow.MlflowClient().get_metric_history(parent.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]


def test_runs_are_updated_renamed_deleted_and_restored(client: Any) -> None:
    from mlflow.exceptions import MlflowException

    run = client.create_run("0", run_name="first", tags={"k": "v"})
    run_id = run.info.run_id
    assert run.info.status == "RUNNING"
    client.update_run(run_id, name="renamed")
    assert client.get_run(run_id).info.run_name == "renamed"
    assert client.get_run(run_id).data.tags["mlflow.runName"] == "renamed"
    client.set_tag(run_id, "mlflow.runName", "by-tag")
    assert client.get_run(run_id).info.run_name == "by-tag"
    client.set_terminated(run_id, status="KILLED", end_time=1234)
    info = client.get_run(run_id).info
    assert (info.status, info.end_time) == ("KILLED", 1234)
    client.delete_tag(run_id, "k")
    assert "k" not in client.get_run(run_id).data.tags
    with pytest.raises(MlflowException) as no_tag:
        client.delete_tag(run_id, "k")
    assert _code(no_tag) == "RESOURCE_DOES_NOT_EXIST"
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    changes: list[Callable[[], object]] = [
        lambda: client.log_param(run_id, "p", "1"),
        lambda: client.set_terminated(run_id),
        lambda: client.delete_tag(run_id, "team"),
        lambda: client.log_inputs(run_id, []),
    ]
    for change in changes:
        with pytest.raises(MlflowException) as refused:
            change()
        assert _code(refused) == "INVALID_PARAMETER_VALUE"
    client.restore_run(run_id)
    client.log_param(run_id, "p", "1")
    assert client.get_run(run_id).data.params == {"p": "1"}


def test_logging_errors_have_mlflow_codes_and_change_nothing(
    live_server: LiveServer, client: Any
) -> None:
    from mlflow.exceptions import MlflowException

    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "p", "1")
    with pytest.raises(MlflowException) as conflict:
        client.log_param(run_id, "p", "2")
    assert _code(conflict) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as missing:
        client.get_run("f" * 32)
    assert _code(missing) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as no_experiment:
        client.create_run("424242")
    assert _code(no_experiment) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as two_names:
        client.create_run("0", run_name="a", tags={"mlflow.runName": "b"})
    assert _code(two_names) == "INVALID_PARAMETER_VALUE"
    # The client splits big batches and checks keys itself: send what it would not.
    batch = "/api/2.0/mlflow/runs/log-batch"
    for body in (
        {"run_id": run_id, "params": [{"key": f"k{i}", "value": "v"} for i in range(101)]},
        {"run_id": run_id, "metrics": [{"key": "bad key!", "value": 1, "timestamp": 1}]},
        {"run_id": run_id, "metrics": [{"key": "m", "timestamp": 1}]},
    ):
        bad = live_server.client.post(batch, json=body)
        assert (bad.status_code, bad.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    run = client.get_run(run_id)
    assert run.data.params == {"p": "1"}
    assert run.data.metrics == {}


def test_a_deleted_experiment_takes_no_new_runs(client: Any) -> None:
    from mlflow.exceptions import MlflowException

    experiment_id = client.create_experiment("gone")
    client.delete_experiment(experiment_id)
    with pytest.raises(MlflowException) as refused:
        client.create_run(experiment_id)
    assert _code(refused) == "INVALID_PARAMETER_VALUE"


def test_search_runs_filters_orders_and_pages(client: Any) -> None:
    from mlflow.entities import ViewType

    experiment_id = client.create_experiment("search")
    run_ids = []
    for i in range(6):
        run = client.create_run(experiment_id, run_name=f"run-{i}")
        client.log_metric(run.info.run_id, "acc", i / 10)
        client.log_param(run.info.run_id, "model", "rf" if i % 2 else "lr")
        client.set_terminated(run.info.run_id, status="FINISHED" if i < 4 else "FAILED")
        run_ids.append(run.info.run_id)
    client.delete_run(run_ids[0])
    found = client.search_runs(
        [experiment_id],
        filter_string=(
            "metrics.acc > 0.15 AND params.model = 'rf' AND attributes.status = 'FINISHED'"
        ),
    )
    assert [r.info.run_id for r in found] == [run_ids[3]]
    ordered = client.search_runs([experiment_id], order_by=["metrics.acc DESC"])
    assert [r.info.run_id for r in ordered] == run_ids[:0:-1]
    deleted = client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [run_ids[0]]
    every = client.search_runs([experiment_id], run_view_type=ViewType.ALL)
    assert len(every) == 6
    pages, token = [], None
    while True:
        page = client.search_runs(
            [experiment_id], order_by=["attributes.run_name ASC"], max_results=2, page_token=token
        )
        pages.append([r.info.run_name for r in page])
        token = page.token
        if token is None:
            break
    assert pages == [["run-1", "run-2"], ["run-3", "run-4"], ["run-5"]]
    by_tag = client.search_runs([experiment_id], filter_string="tags.`mlflow.runName` = 'run-2'")
    assert [r.info.run_id for r in by_tag] == [run_ids[2]]


def test_search_runs_refuses_bad_filters(client: Any) -> None:
    from mlflow.exceptions import MlflowException

    for kwargs in (
        {"filter_string": "metrics.acc >> 1"},
        {"order_by": ["colour DESC"]},
        {"max_results": 50_001},
        {"page_token": "bogus"},
    ):
        with pytest.raises(MlflowException) as bad:
            client.search_runs(["0"], **kwargs)
        assert _code(bad) == "INVALID_PARAMETER_VALUE", kwargs


# MLflow 3.17's dataset digest calls a pandas API that pandas 3 deprecates.
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
def test_log_inputs_records_datasets_with_their_context(mlflow_server: LiveServer) -> None:
    import mlflow
    import pandas as pd

    frame = pd.DataFrame({"x": [1, 2, 3]})
    dataset = mlflow.data.from_pandas(frame, name="train-set")  # type: ignore[attr-defined]
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
    run_inputs = mlflow.get_run(run.info.run_id).inputs
    assert run_inputs is not None
    inputs = run_inputs.dataset_inputs
    assert [(i.dataset.name, i.dataset.digest) for i in inputs] == [("train-set", dataset.digest)]
    assert [(t.key, t.value) for t in inputs[0].tags] == [("mlflow.data.context", "training")]


def test_metric_history_pages_and_bulk_interval(live_server: LiveServer, client: Any) -> None:
    from mlflow.entities import Metric

    runs = [client.create_run("0").info.run_id for _ in range(2)]
    for run_id in runs:
        client.log_batch(run_id, metrics=[Metric("m", s * 1.0, 1000 + s, s) for s in range(10)])
    http = live_server.client
    base = "/api/2.0/mlflow/metrics"
    first = http.get(
        f"{base}/get-history", params={"run_id": runs[0], "metric_key": "m", "max_results": 4}
    ).json()
    assert [p["step"] for p in first["metrics"]] == [0, 1, 2, 3]
    rest = http.get(
        f"{base}/get-history",
        params={"run_id": runs[0], "metric_key": "m", "page_token": first["next_page_token"]},
    ).json()
    assert [p["step"] for p in rest["metrics"]] == list(range(4, 10))
    assert "next_page_token" not in rest
    sampled = http.get(
        f"{base}/get-history-bulk-interval",
        params={"run_ids": runs, "metric_key": "m", "max_results": 3},
    ).json()["metrics"]
    assert {p["run_id"] for p in sampled} == set(runs)
    assert sorted({p["step"] for p in sampled}) == [0, 4, 9]
    assert max(p["step"] for p in sampled) == 9
    window = http.get(
        f"{base}/get-history-bulk-interval",
        params={"run_ids": runs[:1], "metric_key": "m", "start_step": 2, "end_step": 4},
    ).json()["metrics"]
    assert [p["step"] for p in window] == [2, 3, 4]
    bad_params: list[dict[str, Any]] = [
        {"run_ids": runs, "metric_key": "m", "start_step": 2},
        {"run_ids": runs, "metric_key": "m", "start_step": 5, "end_step": 2},
        {"run_ids": ["a" * 32] * 101, "metric_key": "m"},
    ]
    for params in bad_params:
        bad = http.get(f"{base}/get-history-bulk-interval", params=params)
        assert (bad.status_code, bad.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    bad_token = http.get(
        f"{base}/get-history", params={"run_id": runs[0], "metric_key": "m", "page_token": "x"}
    )
    assert bad_token.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_raw_requests_accept_proto_json_forms(live_server: LiveServer) -> None:
    http = live_server.client
    base = "/api/2.0/mlflow"
    run = http.post(f"{base}/runs/create", json={"experiment_id": "0", "start_time": "5"}).json()
    run_id = run["run"]["info"]["run_id"]
    assert run["run"]["info"]["start_time"] == 5
    logged = http.post(
        f"{base}/runs/log-metric",
        json={"run_uuid": run_id, "key": "x", "value": "-Infinity", "timestamp": "7", "step": "2"},
    )
    assert logged.status_code == 200
    got = http.get(f"{base}/runs/get", params={"run_uuid": run_id}).json()
    assert got["run"]["data"]["metrics"][0]["value"] == "-Infinity"
    updated = http.post(f"{base}/runs/update", json={"run_id": run_id, "status": 3}).json()
    assert updated["run_info"]["status"] == "FINISHED"
    for body in ({"key": "x", "value": 1, "timestamp": 1}, {"run_id": run_id, "status": "DONE"}):
        path = "log-metric" if "key" in body else "update"
        bad = http.post(f"{base}/runs/{path}", json=body)
        assert (bad.status_code, bad.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    listed = http.get(f"{base}/artifacts/list", params={"run_id": run_id}).json()
    assert listed == {"root_uri": f"mlflow-artifacts:/0/{run_id}/artifacts", "files": []}


def test_log_model_appends_to_the_model_history_tag(live_server: LiveServer) -> None:
    http = live_server.client
    base = "/api/2.0/mlflow/runs"
    run_id = http.post(f"{base}/create", json={"experiment_id": "0"}).json()["run"]["info"][
        "run_id"
    ]
    for name in ("a", "b"):
        answer = http.post(
            f"{base}/log-model",
            json={"run_id": run_id, "model_json": f'{{"artifact_path": "{name}"}}'},
        )
        assert answer.status_code == 200
    bad = http.post(f"{base}/log-model", json={"run_id": run_id, "model_json": "{nope"})
    assert bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    tags = http.get(f"{base}/get", params={"run_id": run_id}).json()["run"]["data"]["tags"]
    history = next(t["value"] for t in tags if t["key"] == "mlflow.log-model.history")
    assert history == '[{"artifact_path": "a"}, {"artifact_path": "b"}]'


def test_concurrent_mlflow_clients_lose_and_duplicate_nothing(
    mlflow_server: LiveServer, client: Any
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from mlflow import MlflowClient
    from mlflow.entities import Metric

    tracking_uri = mlflow_server.url
    run_ids = [client.create_run("0").info.run_id for _ in range(4)]

    def log(run_id: str) -> None:
        own = MlflowClient(tracking_uri)
        for batch in range(25):
            points = [Metric("m", float(batch * 10 + i), 1, batch * 10 + i) for i in range(10)]
            own.log_batch(run_id, metrics=points)
            own.log_metric(run_id, "single", batch, step=batch)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(log, run_ids))
    for run_id in run_ids:
        history = client.get_metric_history(run_id, "m")
        assert sorted(m.step for m in history) == list(range(250))
        assert len(client.get_metric_history(run_id, "single")) == 25
        assert client.get_run(run_id).data.metrics == {"m": 249.0, "single": 24.0}
