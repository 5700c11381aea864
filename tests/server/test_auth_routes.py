"""User and token management over HTTP, for global admins, on a server with auth on."""

from __future__ import annotations

from mloop.entities.auth import Role
from tests.server.live_auth import AuthServer, auth_server, basic, bearer

__all__ = ["auth_server"]  # a fixture, used by name


def test_an_admin_manages_users_and_their_roles(auth_server: AuthServer) -> None:
    admin = auth_server.token_for("ada", Role.ADMIN)
    experiment = auth_server.store.experiments.create("churn").experiment_id
    with auth_server.client(bearer(admin)) as client:
        created = client.post(
            "/api/v1/users", json={"name": "sam", "role": "editor", "password": "sams-password"}
        )
        assert created.status_code == 201
        assert created.json()["has_password"] is True
        granted = client.put(
            "/api/v1/users/sam/role", json={"role": "admin", "experiment_id": experiment}
        )
        assert granted.json()["experiment_roles"] == {experiment: "admin"}
        lowered = client.put("/api/v1/users/sam/role", json={"role": None})
        assert lowered.json()["role"] is None
        listed = client.get("/api/v1/users").json()["users"]
        assert [u["name"] for u in listed] == ["ada", "sam"]
        taken = client.post("/api/v1/users", json={"name": "sam"})
        assert (taken.status_code, taken.json()["error"]["code"]) == (409, "ALREADY_EXISTS")
        bad = client.post("/api/v1/users", json={"name": "x", "role": "owner"})
        assert bad.status_code == 400
        assert client.put("/api/v1/users/ghost/role", json={"role": "reader"}).status_code == 404
        assert client.delete("/api/v1/users/sam").status_code == 204
    assert [u.name for u in auth_server.store.auth.list_users()] == ["ada"]
    actors = {(e.action, e.actor) for e in auth_server.store.audit.list(entity=("user", "sam"))}
    assert actors == {("user.create", "ada"), ("user.grant", "ada"), ("user.delete", "ada")}


def test_an_admin_issues_and_revokes_tokens_that_work_at_once(auth_server: AuthServer) -> None:
    admin = auth_server.token_for("ada", Role.ADMIN)
    auth_server.store.auth.create_user("bot", role=Role.READER, actor="t")
    with auth_server.client(bearer(admin)) as client:
        issued = client.post("/api/v1/tokens", json={"user": "bot", "name": "ci"})
        assert issued.status_code == 201
        body = issued.json()
        assert (body["user"], body["name"], body["revoked_at_ms"]) == ("bot", "ci", None)
        listed = client.get("/api/v1/tokens", params={"user": "bot"}).json()["tokens"]
        assert [t["token_id"] for t in listed] == [body["token_id"]]
        assert "token" not in listed[0]
        with auth_server.client(bearer(body["token"])) as bot:
            assert bot.get("/api/v1/auth/whoami").json()["name"] == "bot"
            revoked = client.post(f"/api/v1/tokens/{body['token_id']}/revoke")
            assert revoked.json()["revoked_at_ms"] is not None
            assert bot.get("/api/v1/auth/whoami").status_code == 401
        assert client.post("/api/v1/tokens/000000000000/revoke").status_code == 404
        assert client.post("/api/v1/tokens", json={"user": "ghost"}).status_code == 404


def test_only_global_admins_reach_user_management(auth_server: AuthServer) -> None:
    auth_server.store.auth.create_user("eve", role=Role.EDITOR, password="eves-password", actor="t")
    with auth_server.client(basic("eve", "eves-password")) as client:
        assert client.get("/api/v1/users").status_code == 403
        refused = client.post("/api/v1/tokens", json={"user": "eve"})
        assert refused.status_code == 403
        assert client.get("/api/v1/auth/whoami").json() == {
            "name": "eve",
            "role": "editor",
            "experiment_roles": {},
        }
    assert auth_server.store.auth.list_tokens() == []


def test_an_experiment_admin_manages_roles_in_that_experiment_only(
    auth_server: AuthServer,
) -> None:
    store = auth_server.store
    mine = store.experiments.create("mine").experiment_id
    other = store.experiments.create("other").experiment_id
    owner = auth_server.token_for("owner", None)
    store.auth.grant("owner", Role.ADMIN, experiment_id=mine, actor="t")
    helper = auth_server.token_for("helper", None)
    store.auth.grant("helper", Role.EDITOR, experiment_id=mine, actor="t")
    bob = auth_server.token_for("bob", None)
    with auth_server.client(bearer(owner)) as client:
        listed = client.get(f"/api/v1/experiments/{mine}/roles").json()
        assert listed == {"experiment_id": mine, "roles": {"helper": "editor", "owner": "admin"}}
        granted = client.put(f"/api/v1/experiments/{mine}/roles/bob", json={"role": "editor"})
        assert granted.json()["roles"]["bob"] == "editor"
        assert (
            client.put(
                f"/api/v1/experiments/{other}/roles/bob", json={"role": "editor"}
            ).status_code
            == 403
        )
        sneaky = client.put(
            f"/api/v1/experiments/{mine}/roles/bob",
            params={"experiment_id": other},
            json={"role": "admin"},
        )
        assert sneaky.status_code == 403
    with auth_server.client(bearer(bob)) as client:
        created = client.post("/api/v1/runs", json={"experiment_id": mine, "run_name": "r"})
        assert created.status_code == 201
    with auth_server.client(bearer(helper)) as client:
        assert client.delete(f"/api/v1/experiments/{mine}/roles/bob").status_code == 403
    with auth_server.client(bearer(owner)) as client:
        removed = client.delete(f"/api/v1/experiments/{mine}/roles/bob")
        assert "bob" not in removed.json()["roles"]
    assert store.auth.get_user("bob").experiment_roles == {}
    admin = auth_server.token_for("ada", Role.ADMIN)
    with auth_server.client(bearer(admin)) as client:
        assert client.get("/api/v1/experiments/999/roles").status_code == 404
        assert client.get(f"/api/v1/experiments/{other}/roles").json()["roles"] == {}
