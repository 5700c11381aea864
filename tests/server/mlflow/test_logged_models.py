"""MLflow 3 logged models: `mlflow.sklearn.log_model` through mloop, loaded back with pyfunc."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.conftest import LiveServer


def _code(exc: pytest.ExceptionInfo[Any]) -> str:
    return str(exc.value.error_code)


def test_sklearn_log_model_is_stored_and_loads_back(mlflow_server: LiveServer) -> None:
    import mlflow
    import mlflow.pyfunc
    import mlflow.sklearn
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    features = rng.random((40, 3))
    labels = (features[:, 0] > 0.5).astype(int)
    model = LogisticRegression().fit(features, labels)
    mlflow.set_experiment("models")
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            model, name="model", input_example=features[:2], params={"C": 1.0}
        )
    expected = model.predict(features[:5])
    for uri in (info.model_uri, f"runs:/{run.info.run_id}/model"):
        loaded = mlflow.pyfunc.load_model(uri)
        assert (loaded.predict(features[:5]) == expected).all()
    client = mlflow.MlflowClient()
    logged = client.get_logged_model(info.model_id)
    assert str(logged.status) == "READY"
    assert logged.source_run_id == run.info.run_id
    assert logged.artifact_location == (
        f"mlflow-artifacts:/{run.info.experiment_id}/models/{info.model_id}/artifacts"
    )
    assert logged.params == {"C": "1.0"}
    files = {f.path for f in client.list_logged_model_artifacts(info.model_id)}
    assert {"MLmodel", "requirements.txt", "input_example.json"} <= files
    outputs = client.get_run(run.info.run_id).outputs
    assert outputs is not None
    assert [o.model_id for o in outputs.model_outputs] == [info.model_id]


def test_logged_models_are_searched_tagged_and_deleted(client: Any) -> None:
    from mlflow.exceptions import MlflowException

    experiment_id = client.create_experiment("lm")
    run_id = client.create_run(experiment_id).info.run_id
    first = client.create_logged_model(
        experiment_id, name="a", source_run_id=run_id, tags={"k": "1"}, model_type="clf"
    )
    second = client.create_logged_model(experiment_id, name="b", params={"p": "x"})
    client.finalize_logged_model(first.model_id, "READY")
    client.set_logged_model_tags(second.model_id, {"k": "2", "other": "y"})
    client.delete_logged_model_tag(second.model_id, "other")
    assert client.get_logged_model(second.model_id).tags == {"k": "2"}
    found = client.search_logged_models([experiment_id], filter_string="name = 'a'")
    assert [m.model_id for m in found] == [first.model_id]
    by_tag = client.search_logged_models(
        [experiment_id], filter_string="tags.k = '2'", order_by=[{"field_name": "name"}]
    )
    assert [m.model_id for m in by_tag] == [second.model_id]
    page = client.search_logged_models(
        [experiment_id], max_results=1, order_by=[{"field_name": "name", "ascending": True}]
    )
    rest = client.search_logged_models(
        [experiment_id],
        max_results=1,
        order_by=[{"field_name": "name", "ascending": True}],
        page_token=page.token,
    )
    assert [m.name for m in page + rest] == ["a", "b"]
    assert rest.token is None
    client.delete_logged_model(second.model_id)
    with pytest.raises(MlflowException) as gone:
        client.get_logged_model(second.model_id)
    assert _code(gone) == "RESOURCE_DOES_NOT_EXIST"
    assert [m.model_id for m in client.search_logged_models([experiment_id])] == [first.model_id]
    with pytest.raises(MlflowException) as bad_filter:
        client.search_logged_models([experiment_id], filter_string="colour = 'red'")
    assert _code(bad_filter) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as no_experiment:
        client.create_logged_model("98765")
    assert _code(no_experiment) == "RESOURCE_DOES_NOT_EXIST"


def test_metrics_with_a_model_id_are_recorded_on_the_model(client: Any) -> None:
    from mlflow.entities import Metric

    run_id = client.create_run("0").info.run_id
    model = client.create_logged_model("0", name="m", source_run_id=run_id)
    client.log_batch(
        run_id,
        metrics=[
            Metric(
                "acc",
                0.9,
                100,
                1,
                model_id=model.model_id,
                dataset_name="test",
                dataset_digest="abc",
            ),
        ],
    )
    got = client.get_logged_model(model.model_id)
    assert [(m.key, m.value, m.step, m.dataset_name, m.run_id) for m in got.metrics] == [
        ("acc", 0.9, 1, "test", run_id)
    ]
    assert client.get_run(run_id).data.metrics == {"acc": 0.9}
    found = client.search_logged_models(["0"], filter_string="metrics.acc > 0.5")
    assert [m.model_id for m in found] == [model.model_id]


def test_raw_logged_model_requests(live_server: LiveServer) -> None:
    http = live_server.client
    base = "/api/2.0/mlflow/logged-models"
    created = http.post(base, json={"experiment_id": "0"}).json()["model"]
    model_id = created["info"]["model_id"]
    assert created["info"]["status"] == "LOGGED_MODEL_PENDING"
    assert created["info"]["name"]  # a generated name, as MLflow gives one
    finalized = http.patch(f"{base}/{model_id}", json={"model_id": model_id, "status": 2})
    assert finalized.json()["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    bad_status = http.patch(f"{base}/{model_id}", json={"status": "SHINY"})
    assert bad_status.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    logged = http.post(f"{base}/{model_id}/params", json={"params": [{"key": "a", "value": "1"}]})
    assert logged.status_code == 200
    conflict = http.post(f"{base}/{model_id}/params", json={"params": [{"key": "a", "value": "2"}]})
    assert conflict.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    too_many = http.post(f"{base}/search", json={"experiment_ids": ["0"], "max_results": 5000})
    assert too_many.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    stored = http.put(
        f"/api/2.0/mlflow-artifacts/artifacts/0/models/{model_id}/artifacts/MLmodel",
        content=b"flavors: {}\n",
    )
    assert stored.status_code == 200
    listed = http.get(f"{base}/{model_id}/artifacts/directories").json()
    assert listed["files"] == [{"path": "MLmodel", "is_dir": False, "file_size": 12}]
    assert http.delete(f"{base}/{model_id}").status_code == 200
    deleted = http.get(f"{base}/{model_id}", params={"allow_deleted": "true"}).json()
    assert deleted["model"]["info"]["model_id"] == model_id
    missing = http.delete(f"{base}/{model_id}/tags/nope")
    assert (missing.status_code, missing.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    outputs = http.post(
        "/api/2.0/mlflow/runs/outputs",
        json={"run_id": "a" * 32, "models": [{"model_id": model_id, "step": 0}]},
    )
    assert outputs.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
