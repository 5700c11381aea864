"""`mloop server --auth`: credentials, 401/403, per-experiment roles, on a real uvicorn."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import httpx
import pytest
from fastapi import WebSocket

from mloop.entities.auth import Role
from mloop.errors import ConfigurationError
from mloop.server.app import create_app
from mloop.server.auth import AuthMiddleware, install_auth
from mloop.server.config import ServerConfig
from mloop.storage.sql.store import SqlStore
from tests.server.conftest import serve_in_thread
from tests.server.live_auth import AuthServer, auth_server, basic, bearer

__all__ = ["auth_server"]  # a fixture, used by name


def test_health_and_ready_stay_open(auth_server: AuthServer) -> None:
    with auth_server.client() as client:
        assert client.get("/health").status_code == 200
        assert client.get("/ready").json() == {"status": "ready"}


@pytest.mark.parametrize("path", ["/api/v1/experiments", "/metrics", "/docs", "/openapi.json"])
def test_without_credentials_every_other_route_is_401_with_a_challenge(
    auth_server: AuthServer, path: str
) -> None:
    with auth_server.client() as client:
        response = client.get(path)
    assert response.status_code == 401
    challenges = response.headers.get_list("www-authenticate")
    assert [c.split()[0] for c in challenges] == ["Basic", "Bearer"]
    error = response.json()["error"]
    assert error["code"] == "UNAUTHENTICATED"
    assert "MLOOP_TRACKING_TOKEN" in error["message"]


@pytest.mark.parametrize(
    "headers",
    [
        bearer("mloop_0123456789ab_" + "A" * 43),
        bearer("not-a-token"),
        {"Authorization": "Basic %%%"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Digest whatever"},
        basic("alice", "wrong-password"),
    ],
)
def test_wrong_credentials_are_401(auth_server: AuthServer, headers: dict[str, str]) -> None:
    auth_server.store.auth.create_user(
        "alice", role=Role.ADMIN, password="right-password", actor="t"
    )
    with auth_server.client(headers) as client:
        response = client.get("/api/v1/experiments")
    assert response.status_code == 401
    assert "not accepted" in response.json()["error"]["message"]


def test_mlflow_paths_answer_401_in_mlflows_error_shape(auth_server: AuthServer) -> None:
    with auth_server.client() as client:
        response = client.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"})
    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHENTICATED"
    assert response.headers.get_list("www-authenticate")


def test_a_reader_reads_but_may_not_write(auth_server: AuthServer) -> None:
    token = auth_server.token_for("rita", Role.READER)
    with auth_server.client(bearer(token)) as client:
        listed = client.get("/api/v1/experiments")
        assert listed.status_code == 200
        assert [e["name"] for e in listed.json()["experiments"]] == ["Default"]
        denied = client.post("/api/v1/experiments", json={"name": "nope"})
        searched = client.post("/api/v1/runs/search", json={})
        metrics = client.get("/metrics")
    assert denied.status_code == 403
    error = denied.json()["error"]
    assert error["code"] == "PERMISSION_DENIED"
    assert "editor" in error["message"]
    assert "mloop users grant rita" in error["message"]
    assert auth_server.store.experiments.find_by_name("nope") is None
    assert searched.status_code == 200
    assert metrics.status_code == 200
    assert "# TYPE" in metrics.text


def test_an_editor_writes_with_a_token_or_basic_auth(auth_server: AuthServer) -> None:
    auth_server.store.auth.create_user(
        "eddie", role=Role.EDITOR, password="eddies-password", actor="t"
    )
    token = auth_server.store.auth.create_token("eddie", actor="t").secret
    with auth_server.client(bearer(token)) as client:
        assert client.post("/api/v1/experiments", json={"name": "a"}).status_code == 201
    with auth_server.client(basic("eddie", "eddies-password")) as client:
        assert client.post("/api/v1/experiments", json={"name": "b"}).status_code == 201
    with auth_server.client(basic("eddie", token)) as client:
        assert client.post("/api/v1/experiments", json={"name": "c"}).status_code == 201
    with auth_server.client(basic("someone-else", token)) as client:
        assert client.post("/api/v1/experiments", json={"name": "d"}).status_code == 401
    names = [e.name for e in auth_server.store.experiments.list()]
    assert names == ["Default", "a", "b", "c"]


def test_the_authenticated_user_is_the_actor_whatever_the_client_claims(
    auth_server: AuthServer,
) -> None:
    token = auth_server.token_for("eddie", Role.EDITOR)
    run = auth_server.store.runs.create("0", run_name="r")
    with auth_server.client(bearer(token)) as client:
        whoami = client.get("/api/v1/auth/whoami")
        deleted = client.delete(f"/api/v1/runs/{run.run_id}", params={"actor": "mallory"})
    assert whoami.json() == {"name": "eddie", "role": "editor", "experiment_roles": {}}
    assert deleted.status_code == 204
    events = auth_server.store.audit.list(entity=("run", run.run_id))
    assert [e.actor for e in events] == ["eddie"]


def test_runs_belong_to_the_authenticated_user_whatever_the_body_claims(
    auth_server: AuthServer,
) -> None:
    token = auth_server.token_for("eddie", Role.EDITOR)
    with auth_server.client(bearer(token)) as client:
        mine = client.post(
            "/api/v1/runs", json={"experiment_id": "0", "run_name": "a", "user_id": "mallory"}
        )
        mlflow_run = client.post(
            "/api/2.0/mlflow/runs/create", json={"experiment_id": "0", "user_id": "mallory"}
        )
    assert mine.status_code == 201, mine.text
    assert mlflow_run.status_code == 200, mlflow_run.text
    run_ids = [mine.json()["run_id"], mlflow_run.json()["run"]["info"]["run_id"]]
    assert [auth_server.store.runs.get(r).user_id for r in run_ids] == ["eddie", "eddie"]


def test_admin_routes_need_the_global_admin_role(auth_server: AuthServer) -> None:
    editor = auth_server.token_for("eddie", Role.EDITOR)
    admin = auth_server.token_for("ada", Role.ADMIN)
    experiment = auth_server.store.experiments.create("x").experiment_id
    auth_server.store.auth.grant("eddie", Role.ADMIN, experiment_id=experiment, actor="t")
    with auth_server.client(bearer(editor)) as client:
        assert client.get("/api/v1/users").status_code == 403
        assert client.get("/api/v1/tokens", params={"experiment_id": experiment}).status_code == 403
    with auth_server.client(bearer(admin)) as client:
        # Past the auth layer; what answers is whatever route exists there.
        assert client.get("/api/v1/users").status_code not in (401, 403)


def test_a_revoked_token_is_refused_at_once(auth_server: AuthServer) -> None:
    issued_token = auth_server.token_for("rita", Role.READER)
    token_id = issued_token.split("_")[1]
    with auth_server.client(bearer(issued_token)) as client:
        assert client.get("/api/v1/experiments").status_code == 200
        auth_server.store.auth.revoke_token(token_id, actor="t")
        assert client.get("/api/v1/experiments").status_code == 401


def test_a_role_change_applies_to_the_next_request(auth_server: AuthServer) -> None:
    token = auth_server.token_for("rita", Role.READER)
    with auth_server.client(bearer(token)) as client:
        assert client.post("/api/v1/experiments", json={"name": "a"}).status_code == 403
        auth_server.store.auth.grant("rita", Role.EDITOR, actor="t")
        assert client.post("/api/v1/experiments", json={"name": "a"}).status_code == 201


def test_create_app_installs_auth_when_the_config_asks(
    store: SqlStore, server_config: ServerConfig
) -> None:
    app = create_app(dataclasses.replace(server_config, auth=True), store=store)
    url, stop = serve_in_thread(app)
    try:
        assert httpx.get(f"{url}/api/v1/experiments", timeout=30).status_code == 401
        assert httpx.get(f"{url}/health", timeout=30).status_code == 200
    finally:
        stop()


def test_verified_credentials_are_cached_for_the_ttl(
    store: SqlStore, server_config: ServerConfig
) -> None:
    app = create_app(server_config, store=store)
    install_auth(app, cache_ttl_s=300)
    url, stop = serve_in_thread(app)
    store.auth.create_user("rita", role=Role.READER, password="ritas-password", actor="t")
    issued = store.auth.create_token("rita", actor="t")
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            for headers in (bearer(issued.secret), basic("rita", "ritas-password")):
                assert client.get("/api/v1/experiments", headers=headers).status_code == 200
            store.auth.revoke_token(issued.token.token_id, actor="t")
            store.auth.set_password("rita", None, actor="t")
            # Within the TTL the verified credentials still pass (documented trade-off).
            for headers in (bearer(issued.secret), basic("rita", "ritas-password")):
                assert client.get("/api/v1/experiments", headers=headers).status_code == 200
    finally:
        stop()


def test_auth_needs_a_store_with_users(tmp_path: object) -> None:
    store_without_users = object()  # has no `auth` aggregate, as a REST store
    with pytest.raises(ConfigurationError, match="needs the server to run on a database"):
        AuthMiddleware(lambda *_: None, store=store_without_users)  # type: ignore[arg-type]


def test_websockets_need_credentials_too(store: SqlStore, server_config: ServerConfig) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    app = create_app(server_config, store=store)

    @app.websocket("/ws-echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.state.user.name)
        await websocket.close()

    install_auth(app, cache_ttl_s=0)
    url, stop = serve_in_thread(app)
    store.auth.create_user("rita", role=Role.READER, actor="t")
    token = store.auth.create_token("rita", actor="t").secret
    ws_url = url.replace("http://", "ws://") + "/ws-echo"
    try:
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url, open_timeout=10).close()
        assert refused.value.response.status_code == 403
        with connect(ws_url, additional_headers=bearer(token), open_timeout=10) as socket:
            assert socket.recv(timeout=10) == "rita"
    finally:
        stop()


def test_an_unreachable_database_is_a_503_not_a_crash(tmp_path: Path) -> None:
    # Nothing listens on port 1: credentials cannot be checked, which is the database's fault.
    url = "postgresql://postgres@127.0.0.1:1/none?connect_timeout=1"
    store = SqlStore(url, artifact_root=str(tmp_path), create=False)
    app = create_app(ServerConfig(backend_uri=url, artifact_uri=str(tmp_path)), store=store)
    install_auth(app, cache_ttl_s=0)
    base, stop = serve_in_thread(app)
    try:
        token = "mloop_0123456789ab_" + "A" * 43
        response = httpx.get(f"{base}/api/v1/experiments", headers=bearer(token), timeout=30)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "STORAGE_UNAVAILABLE"
        assert httpx.get(f"{base}/health", timeout=30).status_code == 200
    finally:
        stop()
        store.close()
