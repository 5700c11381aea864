"""Per-experiment roles: requests are scoped by the experiment they name, through ids, runs and
names in the path, the query string or the JSON body."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from mloop.entities.auth import Role
from mloop.storage.sql.store import SqlStore
from tests.server.live_auth import AuthServer, auth_server, bearer

__all__ = ["auth_server"]  # a fixture, used by name


@dataclass
class Team:
    """Experiment `mine` where the user is editor, `theirs` where it has no role."""

    mine: str
    theirs: str
    my_run: str
    their_run: str
    client: httpx.Client
    store: SqlStore


@pytest.fixture
def team(auth_server: AuthServer) -> Iterator[Team]:
    store = auth_server.store
    mine = store.experiments.create("mine").experiment_id
    theirs = store.experiments.create("theirs").experiment_id
    my_run = store.runs.create(mine, run_name="m").run_id
    their_run = store.runs.create(theirs, run_name="t").run_id
    token = auth_server.token_for("pat", None)
    store.auth.grant("pat", Role.EDITOR, experiment_id=mine, actor="t")
    with auth_server.client(bearer(token)) as client:
        yield Team(mine, theirs, my_run, their_run, client, store)


def test_experiment_ids_in_the_path_scope_the_request(team: Team) -> None:
    assert team.client.get(f"/api/v1/experiments/{team.mine}").status_code == 200
    assert team.client.get(f"/api/v1/experiments/{team.theirs}").status_code == 403
    tagged = team.client.post(
        f"/api/v1/experiments/{team.mine}/tags", json={"key": "k", "value": "v"}
    )
    assert tagged.status_code == 204
    refused = team.client.post(
        f"/api/v1/experiments/{team.theirs}/tags", json={"key": "k", "value": "v"}
    )
    assert refused.status_code == 403
    assert team.store.experiments.get(team.theirs).tags == {}


def test_requests_naming_no_experiment_need_a_global_role(team: Team) -> None:
    assert team.client.get("/api/v1/experiments").status_code == 403
    assert team.client.post("/api/v1/experiments", json={"name": "new"}).status_code == 403
    assert team.client.post("/api/v1/runs/search", json={}).status_code == 403


def test_the_experiment_in_a_json_body_scopes_the_request_and_the_body_reaches_the_route(
    team: Team,
) -> None:
    created = team.client.post(
        "/api/v1/runs", json={"experiment_id": team.mine, "run_name": "from-body"}
    )
    assert created.status_code == 201
    assert created.json()["run_name"] == "from-body"
    refused = team.client.post(
        "/api/v1/runs", json={"experiment_id": team.theirs, "run_name": "sneaky"}
    )
    assert refused.status_code == 403
    assert [r.run_name for r in team.store.runs.search([team.theirs])] == ["t"]


def test_a_search_needs_the_role_in_every_experiment_it_names(team: Team) -> None:
    mine = team.client.post("/api/v1/runs/search", json={"experiment_ids": [team.mine]})
    assert mine.status_code == 200
    assert [r["run_id"] for r in mine.json()["runs"]] == [team.my_run]
    both = team.client.post(
        "/api/v1/runs/search", json={"experiment_ids": [team.mine, team.theirs]}
    )
    assert both.status_code == 403


def test_a_run_id_scopes_the_request_to_the_runs_experiment(team: Team) -> None:
    batch = {"metrics": [{"key": "loss", "value": 0.5, "step": 1}]}
    assert team.client.post(f"/api/v1/runs/{team.my_run}/batch", json=batch).status_code == 204
    assert team.client.get(f"/api/v1/runs/{team.my_run}").status_code == 200
    assert team.client.post(f"/api/v1/runs/{team.their_run}/batch", json=batch).status_code == 403
    assert team.client.get(f"/api/v1/runs/{team.their_run}").status_code == 403
    assert team.store.runs.get(team.their_run).metrics == {}
    history = team.client.get(
        "/api/v1/runs/" + team.my_run + "/metrics/history", params={"key": "loss"}
    )
    assert history.status_code == 200


def test_run_ids_in_the_query_string_scope_mlflow_style_requests(team: Team) -> None:
    # Whatever answers past the auth layer, the auth layer itself let it through or not.
    allowed = team.client.get("/api/2.0/mlflow/runs/get", params={"run_id": team.my_run})
    refused = team.client.get("/api/2.0/mlflow/runs/get", params={"run_id": team.their_run})
    assert allowed.status_code not in (401, 403)
    assert refused.status_code == 403
    assert refused.json()["error_code"] == "PERMISSION_DENIED"


def test_an_experiment_name_scopes_a_get_by_name(team: Team) -> None:
    assert team.client.get("/api/v1/experiments/by-name", params={"name": "mine"}).status_code == (
        200
    )
    refused = team.client.get("/api/v1/experiments/by-name", params={"name": "theirs"})
    assert refused.status_code == 403
    missing = team.client.get("/api/v1/experiments/by-name", params={"name": "nowhere"})
    assert missing.status_code == 403


def test_an_unknown_run_falls_back_to_the_global_role(team: Team) -> None:
    assert team.client.get(f"/api/v1/runs/{'0' * 32}").status_code == 403


def test_an_experiment_reader_may_not_write_there(auth_server: AuthServer) -> None:
    store = auth_server.store
    experiment = store.experiments.create("shared").experiment_id
    run = store.runs.create(experiment, run_name="r").run_id
    token = auth_server.token_for("viewer", None)
    store.auth.grant("viewer", Role.READER, experiment_id=experiment, actor="t")
    with auth_server.client(bearer(token)) as client:
        assert client.get(f"/api/v1/runs/{run}").status_code == 200
        batch = {"params": [{"key": "p", "value": "1"}]}
        assert client.post(f"/api/v1/runs/{run}/batch", json=batch).status_code == 403
    assert store.runs.get(run).params == {}


def test_a_global_reader_with_an_experiment_grant_writes_only_there(
    auth_server: AuthServer,
) -> None:
    store = auth_server.store
    experiment = store.experiments.create("own").experiment_id
    token = auth_server.token_for("mixed", Role.READER)
    store.auth.grant("mixed", Role.EDITOR, experiment_id=experiment, actor="t")
    body = {"run_name": "r"}
    with auth_server.client(bearer(token)) as client:
        assert client.get("/api/v1/experiments").status_code == 200
        created = client.post("/api/v1/runs", json={**body, "experiment_id": experiment})
        assert created.status_code == 201
        assert client.post("/api/v1/runs", json={**body, "experiment_id": "0"}).status_code == 403
