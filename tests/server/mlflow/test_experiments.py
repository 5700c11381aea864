"""MLflow's experiment endpoints, driven by the real MLflow client and by raw HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.server.conftest import LiveServer


def _code(exc: pytest.ExceptionInfo[Any]) -> str:
    return str(exc.value.error_code)


def test_experiments_are_created_read_renamed_deleted_and_restored(client: Any) -> None:
    from mlflow.exceptions import MlflowException

    experiment_id = client.create_experiment("churn", tags={"team": "a"})
    got = client.get_experiment(experiment_id)
    assert (got.name, got.tags, got.lifecycle_stage) == ("churn", {"team": "a"}, "active")
    assert got.artifact_location == f"mlflow-artifacts:/{experiment_id}"
    assert client.get_experiment_by_name("churn").experiment_id == experiment_id
    assert client.get_experiment_by_name("absent") is None
    client.set_experiment_tag(experiment_id, "team", "b")
    client.rename_experiment(experiment_id, "churn-v2")
    assert client.get_experiment(experiment_id).name == "churn-v2"
    assert client.get_experiment(experiment_id).tags == {"team": "b"}
    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    changes: list[Callable[[], object]] = [
        lambda: client.rename_experiment(experiment_id, "renamed"),
        lambda: client.set_experiment_tag(experiment_id, "team", "c"),
    ]
    for change in changes:
        with pytest.raises(MlflowException) as refused:
            change()
        assert _code(refused) == "INVALID_PARAMETER_VALUE"
    assert client.get_experiment(experiment_id).tags == {"team": "b"}
    with pytest.raises(MlflowException) as taken:
        client.create_experiment("churn-v2")
    assert _code(taken) == "RESOURCE_ALREADY_EXISTS"
    client.restore_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "active"


def test_deleting_an_experiment_deletes_its_runs_and_restoring_restores_them(
    client: Any,
) -> None:
    from mlflow.entities import ViewType
    from mlflow.exceptions import MlflowException

    experiment_id = client.create_experiment("with-runs")
    runs = [client.create_run(experiment_id).info.run_id for _ in range(3)]
    client.delete_experiment(experiment_id)
    stages = {client.get_run(r).info.lifecycle_stage for r in runs}
    assert stages == {"deleted"}
    with pytest.raises(MlflowException) as twice:
        client.delete_experiment(experiment_id)
    assert _code(twice) == "RESOURCE_DOES_NOT_EXIST"
    client.restore_experiment(experiment_id)
    found = client.search_runs([experiment_id], run_view_type=ViewType.ACTIVE_ONLY)
    assert sorted(r.info.run_id for r in found) == sorted(runs)
    with pytest.raises(MlflowException) as active:
        client.restore_experiment(experiment_id)
    assert _code(active) == "RESOURCE_DOES_NOT_EXIST"


def test_errors_carry_mlflow_codes(client: Any) -> None:
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException) as missing:
        client.get_experiment("12345")
    assert _code(missing) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as bad:
        client.create_experiment("")
    assert _code(bad) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as default:
        client.delete_experiment("0")
    assert _code(default) == "INVALID_PARAMETER_VALUE"
    assert client.get_experiment("0").lifecycle_stage == "active"


def test_search_filters_orders_views_and_pages(client: Any) -> None:
    from mlflow.entities import ViewType

    ids = [client.create_experiment(f"exp-{i}", tags={"even": str(i % 2 == 0)}) for i in range(5)]
    client.delete_experiment(ids[4])
    names = [e.name for e in client.search_experiments(order_by=["name DESC"])]
    assert names == ["exp-3", "exp-2", "exp-1", "exp-0", "Default"]
    evens = client.search_experiments(filter_string="tags.even = 'True' AND name LIKE 'exp-%'")
    assert sorted(e.name for e in evens) == ["exp-0", "exp-2"]
    deleted = client.search_experiments(view_type=ViewType.DELETED_ONLY)
    assert [e.experiment_id for e in deleted] == [ids[4]]
    assert len(client.search_experiments(view_type=ViewType.ALL)) == 6
    first = client.search_experiments(max_results=2, order_by=["name ASC"])
    second = client.search_experiments(max_results=2, order_by=["name ASC"], page_token=first.token)
    third = client.search_experiments(max_results=2, order_by=["name ASC"], page_token=second.token)
    assert [e.name for e in first + second + third] == [
        "Default",
        "exp-0",
        "exp-1",
        "exp-2",
        "exp-3",
    ]
    assert third.token is None


def test_bad_search_input_is_invalid_parameter_value(client: Any) -> None:
    from mlflow.exceptions import MlflowException

    for kwargs in (
        {"filter_string": "name ~ 'x'"},
        {"order_by": ["color"]},
        {"max_results": 0},
        {"page_token": "not-a-token"},
    ):
        with pytest.raises(MlflowException) as bad:
            client.search_experiments(**kwargs)
        assert _code(bad) == "INVALID_PARAMETER_VALUE", kwargs


def test_raw_http_error_shapes_and_the_ajax_mirror(live_server: LiveServer) -> None:
    http = live_server.client
    created = http.post("/ajax-api/2.0/mlflow/experiments/create", json={"name": "x"})
    assert created.status_code == 200
    experiment_id = created.json()["experiment_id"]
    got = http.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": experiment_id})
    assert got.json()["experiment"]["name"] == "x"
    searched = http.get("/api/2.0/mlflow/experiments/search", params={"max_results": 1})
    assert len(searched.json()["experiments"]) == 1
    assert "next_page_token" in searched.json()
    missing = http.post("/api/2.0/mlflow/experiments/create", json={})
    assert missing.status_code == 400
    assert missing.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "name" in missing.json()["message"]
    absent = http.get("/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": "no"})
    assert (absent.status_code, absent.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    unknown = http.post("/api/2.0/mlflow/no/such/endpoint", json={})
    assert (unknown.status_code, unknown.json()["error_code"]) == (404, "ENDPOINT_NOT_FOUND")
    bad_view = http.get("/api/2.0/mlflow/experiments/search", params={"view_type": "SOME"})
    assert bad_view.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    info = http.get("/api/3.0/mlflow/server-info").json()
    assert info["multipart_uploads_enabled"] is False
