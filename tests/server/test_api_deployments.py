"""`/api/v1/deployments` on a real uvicorn: statuses, error bodies, roles and audit actors."""

from __future__ import annotations

import httpx
import pytest

from mloop.entities.auth import Role
from mloop.storage.sql.store import SqlStore
from tests.server.conftest import LiveServer
from tests.server.live_auth import AuthServer, auth_server, bearer

__all__ = ["auth_server"]  # a fixture, used by name

BODY = {
    "name": "churn-api",
    "model": "churn",
    "routes": [{"target": "@champion", "weight": 90}, {"target": "challenger", "weight": 10}],
    "shadows": ["3"],
    "sticky_key": "user_id",
}


def _registry(store: SqlStore) -> None:
    for _ in range(3):
        store.registry.create_version("churn", "s3://bucket/churn", actor="ana")
    store.registry.set_alias("churn", "champion", 1, actor="ana")
    store.registry.set_alias("churn", "challenger", 2, actor="ana")


@pytest.fixture
def served(live_server: LiveServer, server_config: object) -> LiveServer:
    store = live_server.app.state.store
    _registry(store)
    return live_server


def test_a_deployment_is_created_changed_rolled_back_and_listed(served: LiveServer) -> None:
    client = served.client
    created = client.post("/api/v1/deployments", json=BODY, params={"actor": "ana"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["routes"] == [
        {"target": "@champion", "weight": 90},
        {"target": "@challenger", "weight": 10},
    ]
    assert (body["shadows"], body["sticky_key"], body["revision"]) == (["/3"], "user_id", 1)
    assert body["created_by"] == "ana"
    changed = client.patch(
        "/api/v1/deployments/churn-api",
        json={"routes": [{"target": "champion", "weight": 100}], "sticky_key": ""},
        params={"actor": "bo"},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["revision"], changed.json()["sticky_key"]) == (2, None)
    rolled = client.post("/api/v1/deployments/churn-api/rollback", params={"actor": "cy"})
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["routes"] == body["routes"]
    assert rolled.json()["revision"] == 3
    history = client.get("/api/v1/deployments/churn-api/history").json()
    assert [
        (r["revision"], r["action"], r["actor"], r["restored_from"]) for r in history["revisions"]
    ] == [(1, "create", "ana", None), (2, "update", "bo", None), (3, "rollback", "cy", 1)]
    listed = client.get("/api/v1/deployments", params={"model": "churn"}).json()
    assert [d["name"] for d in listed["deployments"]] == ["churn-api"]
    assert client.get("/api/v1/deployments", params={"model": "x"}).json() == {"deployments": []}
    assert client.get("/api/v1/deployments/churn-api").json() == rolled.json()


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"routes": [{"target": "@champion", "weight": 50}]}, 400, "INVALID_INPUT"),
        ({"routes": [{"target": "latest", "weight": 100}]}, 400, "INVALID_INPUT"),
        ({"routes": [{"target": "@ghost", "weight": 100}]}, 404, "NOT_FOUND"),
        ({"model": "nope"}, 404, "NOT_FOUND"),
        ({"name": "Not A DNS Name"}, 400, "INVALID_INPUT"),
        ({"sticky_key": "no spaces"}, 400, "INVALID_INPUT"),
        ({"shadows": ["@champion"]}, 400, "INVALID_INPUT"),
        ({"unknown": 1}, 400, "INVALID_INPUT"),
    ],
)
def test_bad_deployments_answer_4xx_naming_the_problem_and_change_nothing(
    served: LiveServer, change: dict[str, object], status: int, code: str
) -> None:
    response = served.client.post("/api/v1/deployments", json={**BODY, **change})
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert served.client.get("/api/v1/deployments").json() == {"deployments": []}


def test_missing_names_conflicts_and_bad_rollbacks(served: LiveServer) -> None:
    client = served.client
    assert client.get("/api/v1/deployments/nope").status_code == 404
    assert client.get("/api/v1/deployments/Bad_Name").status_code == 400
    assert client.post("/api/v1/deployments/nope/rollback").status_code == 404
    assert client.post("/api/v1/deployments", json=BODY).status_code == 201
    other = {**BODY, "routes": [{"target": "1", "weight": 100}], "shadows": []}
    taken = client.post("/api/v1/deployments", json=other)
    assert taken.status_code == 409
    assert taken.json()["error"]["details"]["error_type"] == "DeploymentAlreadyExistsError"
    first = client.post("/api/v1/deployments/churn-api/rollback")
    assert first.status_code == 409
    assert first.json()["error"]["details"]["error_type"] == "NothingToRollBackError"
    missing = client.post("/api/v1/deployments/churn-api/rollback", json={"to_revision": 7})
    assert missing.status_code == 404
    huge = client.post("/api/v1/deployments/churn-api/rollback", json={"to_revision": 2**40})
    assert huge.status_code == 400


def test_readers_read_editors_write_and_the_audit_names_the_user(
    auth_server: AuthServer,
) -> None:
    _registry(auth_server.store)
    reader = bearer(auth_server.token_for("rita", Role.READER))
    editor = bearer(auth_server.token_for("eddie", Role.EDITOR))
    with httpx.Client(base_url=auth_server.url, timeout=30) as anonymous:
        assert anonymous.get("/api/v1/deployments").status_code == 401
        assert anonymous.post("/api/v1/deployments", json=BODY).status_code == 401
    with auth_server.client(reader) as client:
        assert client.get("/api/v1/deployments").status_code == 200
        denied = client.post("/api/v1/deployments", json=BODY)
        assert denied.status_code == 403
        assert denied.json()["error"]["code"] == "PERMISSION_DENIED"
    assert auth_server.store.deployments.list() == []
    with auth_server.client(editor) as client:
        created = client.post("/api/v1/deployments", json=BODY, params={"actor": "mallory"})
        assert created.status_code == 201
        assert created.json()["created_by"] == "eddie"
        changed = client.patch("/api/v1/deployments/churn-api", json={"description": "x"})
        assert changed.status_code == 200
    with auth_server.client(reader) as client:
        assert (
            client.patch("/api/v1/deployments/churn-api", json={"description": "y"}).status_code
            == 403
        )
        assert client.post("/api/v1/deployments/churn-api/rollback").status_code == 403
        assert client.get("/api/v1/deployments/churn-api/history").status_code == 200
    with auth_server.client(reader) as client:
        assert client.delete("/api/v1/deployments/churn-api").status_code == 403
    with auth_server.client(editor) as client:
        assert client.post("/api/v1/deployments/churn-api/rollback").status_code == 200
    events = auth_server.store.audit.list(entity=("deployment", "churn-api"))
    assert [(e.action, e.actor) for e in events] == [
        ("deployment.create", "eddie"),
        ("deployment.update", "eddie"),
        ("deployment.rollback", "eddie"),
    ]
    assert auth_server.store.deployments.get("churn-api").revision == 3
    with auth_server.client(editor) as client:
        assert client.delete("/api/v1/deployments/churn-api").status_code == 204
        assert client.delete("/api/v1/deployments/churn-api").status_code == 404
    last = auth_server.store.audit.list(entity=("deployment", "churn-api"))[-1]
    assert (last.action, last.actor) == ("deployment.delete", "eddie")


def test_the_endpoints_are_documented_in_openapi(served: LiveServer) -> None:
    paths = served.client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/v1/deployments"]) == {"get", "post"}
    assert set(paths["/api/v1/deployments/{name}"]) == {"get", "patch", "delete"}
    assert "post" in paths["/api/v1/deployments/{name}/rollback"]
    assert "get" in paths["/api/v1/deployments/{name}/history"]
