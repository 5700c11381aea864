"""MLflow's model registry endpoints on mloop's registry, driven by the MLflow client."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.conftest import LiveServer


def _code(exc: pytest.ExceptionInfo[Any]) -> str:
    return str(exc.value.error_code)


def test_register_a_logged_model_and_load_it_by_version_and_alias(
    mlflow_server: LiveServer,
) -> None:
    import mlflow
    import mlflow.pyfunc
    import mlflow.sklearn
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    features = rng.random((30, 2))
    labels = (features[:, 0] > 0.5).astype(int)
    model = LogisticRegression().fit(features, labels)
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(model, name="model", registered_model_name="churn")
    client = mlflow.MlflowClient()
    version = client.get_model_version("churn", "1")
    assert version.run_id == run.info.run_id
    assert version.status == "READY"
    second = mlflow.register_model(f"runs:/{run.info.run_id}/model", "churn")
    assert second.version == "2"
    client.set_registered_model_alias("churn", "champion", "2")
    expected = model.predict(features[:4])
    for uri in ("models:/churn/1", "models:/churn@champion", "models:/churn/latest"):
        assert (mlflow.pyfunc.load_model(uri).predict(features[:4]) == expected).all(), uri
    assert client.get_model_version_by_alias("churn", "champion").version == "2"
    registered = client.get_registered_model("churn")
    assert registered.aliases == {"champion": "2"}
    assert [v.version for v in registered.latest_versions] == ["2"]


def test_models_and_versions_are_tagged_searched_updated_and_deleted(client: Any) -> None:
    from mlflow.exceptions import MlflowException

    client.create_registered_model("fraud", tags={"team": "risk"}, description="first")
    client.create_registered_model("forecast")
    with pytest.raises(MlflowException) as taken:
        client.create_registered_model("fraud")
    assert _code(taken) == "RESOURCE_ALREADY_EXISTS"
    client.update_registered_model("fraud", description="second")
    client.set_registered_model_tag("fraud", "tier", "gold")
    client.delete_registered_model_tag("fraud", "team")
    got = client.get_registered_model("fraud")
    assert (got.description, got.tags) == ("second", {"tier": "gold"})
    for i in range(3):
        client.create_model_version("fraud", f"s3://bucket/fraud/{i}", tags={"i": str(i)})
    client.update_model_version("fraud", "2", description="better")
    client.set_model_version_tag("fraud", "2", "checked", "yes")
    client.delete_model_version_tag("fraud", "2", "i")
    v2 = client.get_model_version("fraud", "2")
    assert (v2.description, v2.tags, v2.source) == (
        "better",
        {"checked": "yes"},
        "s3://bucket/fraud/1",
    )
    assert client.get_model_version_download_uri("fraud", "2") == "s3://bucket/fraud/1"
    names = [m.name for m in client.search_registered_models(order_by=["name ASC"])]
    assert names == ["forecast", "fraud"]
    liked = client.search_registered_models(filter_string="name LIKE 'fr%'")
    assert [m.name for m in liked] == ["fraud"]
    versions = client.search_model_versions("name = 'fraud'", order_by=["version DESC"])
    assert [v.version for v in versions] == ["3", "2", "1"]
    first = client.search_model_versions("name = 'fraud'", max_results=2)
    assert first.token is not None
    client.set_registered_model_alias("fraud", "prod", "3")
    client.delete_model_version("fraud", "3")
    with pytest.raises(MlflowException) as gone:
        client.get_model_version_by_alias("fraud", "prod")
    assert _code(gone) == "RESOURCE_DOES_NOT_EXIST"
    client.delete_registered_model("fraud")
    with pytest.raises(MlflowException) as missing:
        client.get_registered_model("fraud")
    assert _code(missing) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as bad_name:
        client.create_registered_model("bad/name")
    assert _code(bad_name) == "INVALID_PARAMETER_VALUE"


def test_raw_registry_requests(live_server: LiveServer) -> None:
    http = live_server.client
    base = "/api/2.0/mlflow"
    http.post(f"{base}/registered-models/create", json={"name": "m"})
    created = http.post(
        f"{base}/model-versions/create", json={"name": "m", "source": "runs:/x/y", "model_id": ""}
    ).json()["model_version"]
    assert (created["version"], created["current_stage"]) == ("1", "None")
    latest = http.get(f"{base}/registered-models/get-latest-versions", params={"name": "m"})
    assert [v["version"] for v in latest.json()["model_versions"]] == ["1"]
    staged = http.post(
        f"{base}/registered-models/get-latest-versions",
        json={"name": "m", "stages": ["Production"]},
    )
    assert staged.json() == {"model_versions": []}
    bad = http.get(f"{base}/model-versions/get", params={"name": "m", "version": "one"})
    assert (bad.status_code, bad.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    uri = http.get(f"{base}/model-versions/get-download-uri", params={"name": "m", "version": 1})
    assert uri.json() == {"artifact_uri": "runs:/x/y"}
    timed = http.get(
        f"{base}/registered-models/search", params={"order_by": "last_updated_timestamp DESC"}
    )
    assert [m["name"] for m in timed.json()["registered_models"]] == ["m"]
    stage = http.post(f"{base}/model-versions/transition-stage", json={"name": "m"})
    assert stage.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_registry_edges_aliases_pages_and_download_uris(live_server: LiveServer) -> None:
    http = live_server.client
    base = "/api/2.0/mlflow"
    run_id = http.post(f"{base}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"][
        "run_id"
    ]
    logged = http.post(
        f"{base}/logged-models",
        json={"experiment_id": "0", "name": "clf", "source_run_id": run_id},
    ).json()["model"]["info"]
    for name in ("a", "b"):
        http.post(f"{base}/registered-models/create", json={"name": name})
    http.post(
        f"{base}/model-versions/create",
        json={"name": "a", "source": "s3://x", "model_id": logged["model_id"]},
    )
    http.post(f"{base}/model-versions/create", json={"name": "a", "source": f"runs:/{run_id}/clf"})
    http.post(
        f"{base}/model-versions/create", json={"name": "a", "source": f"runs:/{run_id}/plain/f"}
    )

    def uri(version: int) -> str:
        answer = http.get(
            f"{base}/model-versions/get-download-uri", params={"name": "a", "version": version}
        )
        return str(answer.json()["artifact_uri"])

    model_uri = f"mlflow-artifacts:/0/models/{logged['model_id']}/artifacts"
    assert uri(1) == model_uri
    assert uri(2) == model_uri
    assert uri(3) == f"mlflow-artifacts:/0/{run_id}/artifacts/plain/f"
    first = http.get(f"{base}/model-versions/get", params={"name": "a", "version": 1}).json()
    assert first["model_version"]["run_id"] == run_id
    assert first["model_version"]["model_id"] == logged["model_id"]
    http.post(f"{base}/registered-models/alias", json={"name": "a", "alias": "x", "version": "1"})
    assert (
        http.request(
            "DELETE", f"{base}/registered-models/alias", json={"name": "a", "alias": "x"}
        ).json()
        == {}
    )
    by_alias = http.get(f"{base}/registered-models/alias", params={"name": "a", "alias": "x"})
    assert by_alias.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    page = http.get(f"{base}/registered-models/search", params={"max_results": 1}).json()
    rest = http.get(
        f"{base}/registered-models/search",
        params={"max_results": 1, "page_token": page["next_page_token"]},
    ).json()
    assert [m["name"] for m in page["registered_models"] + rest["registered_models"]] == [
        "a",
        "b",
    ]
    for version in (1, 2, 3):  # numbers for string fields are accepted, as MLflow does
        deleted = http.request(
            "DELETE", f"{base}/model-versions/delete", json={"name": "a", "version": version}
        )
        assert deleted.status_code == 200
    emptied = http.get(f"{base}/registered-models/get", params={"name": "a"}).json()
    assert emptied["registered_model"]["latest_versions"] == []
    no_model = http.post(
        f"{base}/model-versions/create",
        json={"name": "b", "source": "x", "model_id": "m-" + "0" * 32},
    )
    assert no_model.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
