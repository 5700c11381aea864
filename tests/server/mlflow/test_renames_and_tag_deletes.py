"""MLflow's delete-experiment-tag and registered-model rename, through the MLflow client."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.conftest import LiveServer


def test_an_experiment_tag_is_deleted(client: Any) -> None:
    from mlflow.exceptions import MlflowException

    experiment_id = client.create_experiment("tagged", tags={"team": "ml", "stage": "dev"})
    client.delete_experiment_tag(experiment_id, "stage")
    assert client.get_experiment(experiment_id).tags == {"team": "ml"}
    with pytest.raises(MlflowException) as missing:
        client.delete_experiment_tag(experiment_id, "stage")
    assert str(missing.value.error_code) == "RESOURCE_DOES_NOT_EXIST"
    client.delete_experiment(experiment_id)
    with pytest.raises(MlflowException) as deleted:
        client.delete_experiment_tag(experiment_id, "team")
    assert str(deleted.value.error_code) == "INVALID_PARAMETER_VALUE"  # as MLflow answers


def test_a_registered_model_is_renamed_with_its_versions_and_aliases(
    client: Any, mlflow_server: LiveServer
) -> None:
    from mlflow.exceptions import MlflowException

    client.create_registered_model("churn", tags={"team": "ml"})
    for _ in range(2):
        client.create_model_version("churn", "s3://bucket/model")
    client.set_registered_model_alias("churn", "champion", 2)
    client.create_registered_model("taken")
    with pytest.raises(MlflowException) as clash:
        client.rename_registered_model("churn", "taken")
    assert str(clash.value.error_code) == "RESOURCE_ALREADY_EXISTS"
    client.rename_registered_model("churn", "churn-v2")  # the client returns nothing
    answer = mlflow_server.client.post(
        "/api/2.0/mlflow/registered-models/rename", json={"name": "churn-v2", "new_name": "c3"}
    )
    assert answer.json()["registered_model"]["name"] == "c3"
    client.rename_registered_model("c3", "churn-v2")
    model = client.get_registered_model("churn-v2")
    assert (model.tags, model.aliases) == ({"team": "ml"}, {"champion": "2"})
    assert client.get_model_version_by_alias("churn-v2", "champion").version == "2"
    assert sorted(v.version for v in client.search_model_versions("name = 'churn-v2'")) == [
        "1",
        "2",
    ]
    with pytest.raises(MlflowException) as gone:
        client.get_registered_model("churn")
    assert str(gone.value.error_code) == "RESOURCE_DOES_NOT_EXIST"
    audit = mlflow_server.client.get("/api/v1/audit", params={"entity_type": "model"}).json()
    renames = [e for e in audit["events"] if e["action"] == "model.rename"]
    assert [(e["entity_id"], e["details"]) for e in renames] == [
        ("churn", {"new_name": "churn-v2"}),
        ("churn-v2", {"new_name": "c3"}),
        ("c3", {"new_name": "churn-v2"}),
    ]
