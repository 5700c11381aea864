"""`/api/v1/experiments` over a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.conftest import LiveServer

BASE = "/api/v1/experiments"


def _error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def test_create_get_and_get_by_name(live_server: LiveServer) -> None:
    http = live_server.client
    created = http.post(BASE, json={"name": "churn", "tags": {"team": "a"}})
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "churn"
    assert body["tags"] == {"team": "a"}
    assert body["lifecycle_stage"] == "active"
    assert body["artifact_location"].endswith(f"/{body['experiment_id']}")
    assert http.get(f"{BASE}/{body['experiment_id']}").json() == body
    assert http.get(f"{BASE}/by-name", params={"name": "churn"}).json() == body


def test_list_includes_the_default_experiment_and_hides_deleted_ones(
    live_server: LiveServer,
) -> None:
    http = live_server.client
    made = http.post(BASE, json={"name": "gone"}).json()
    assert http.delete(f"{BASE}/{made['experiment_id']}").status_code == 204
    names = [e["name"] for e in http.get(BASE).json()["experiments"]]
    assert names == ["Default"]
    every = http.get(BASE, params={"include_deleted": "true"}).json()["experiments"]
    assert [(e["name"], e["lifecycle_stage"]) for e in every] == [
        ("Default", "active"),
        ("gone", "deleted"),
    ]
    assert http.post(f"{BASE}/{made['experiment_id']}/restore").status_code == 204
    assert len(http.get(BASE).json()["experiments"]) == 2


def test_rename_and_tag(live_server: LiveServer) -> None:
    http = live_server.client
    exp_id = http.post(BASE, json={"name": "old"}).json()["experiment_id"]
    renamed = http.patch(f"{BASE}/{exp_id}", json={"name": "new"})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "new"
    assert http.post(f"{BASE}/{exp_id}/tags", json={"key": "k", "value": "v"}).status_code == 204
    assert http.get(f"{BASE}/{exp_id}").json()["tags"] == {"k": "v"}


def test_a_taken_name_is_409_with_the_error_class(live_server: LiveServer) -> None:
    http = live_server.client
    http.post(BASE, json={"name": "dup"})
    answer = http.post(BASE, json={"name": "dup"})
    assert answer.status_code == 409
    error = _error(answer)
    assert error["code"] == "ALREADY_EXISTS"
    assert error["details"] == {"error_type": "ExperimentAlreadyExistsError", "name": "dup"}
    assert "already exists" in error["message"]


def test_unknown_experiments_are_404(live_server: LiveServer) -> None:
    http = live_server.client
    assert http.get(f"{BASE}/999").status_code == 404
    missing = http.get(f"{BASE}/by-name", params={"name": "nope"})
    assert missing.status_code == 404
    assert _error(missing)["details"]["error_type"] == "ExperimentNotFoundError"
    assert http.patch(f"{BASE}/999", json={"name": "x"}).status_code == 404
    assert http.delete(f"{BASE}/999").status_code == 404


def test_the_default_experiment_cannot_be_deleted(live_server: LiveServer) -> None:
    answer = live_server.client.delete(f"{BASE}/0")
    assert answer.status_code == 409
    assert _error(answer)["code"] == "INVALID_STATE"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x" * 251},
        {"name": "a\x00b"},
        {"name": "ok", "tags": {"bad key!": "v"}},
        {"name": "ok", "unknown": 1},
        {"name": 5},
    ],
)
def test_malformed_bodies_are_400_and_change_nothing(
    live_server: LiveServer, body: dict[str, Any]
) -> None:
    http = live_server.client
    answer = http.post(BASE, json=body)
    assert answer.status_code == 400
    assert _error(answer)["code"] == "INVALID_INPUT"
    assert len(http.get(BASE, params={"include_deleted": "true"}).json()["experiments"]) == 1


def test_malformed_ids_are_400(live_server: LiveServer) -> None:
    answer = live_server.client.get(f"{BASE}/abc")
    assert answer.status_code == 400
    assert _error(answer)["details"]["field"] == "path.experiment_id"
