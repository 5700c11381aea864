"""`POST /api/v1/runs/{id}/finish` and runs created sharing another run's files, over a real
server on both backends (and with auth on, for the shared run's experiment)."""

from __future__ import annotations

import uuid
from typing import Any

from mloop.entities.auth import Role
from tests.server.conftest import LiveServer
from tests.server.live_auth import AuthServer, auth_server, bearer

__all__ = ["auth_server"]  # a fixture, used by name

RUNS = "/api/v1/runs"


def _run(live: LiveServer, **fields: Any) -> str:
    answer = live.client.post(RUNS, json={"experiment_id": "0", "run_name": "r", **fields})
    assert answer.status_code == 201, answer.text
    run_id: str = answer.json()["run_id"]
    return run_id


def test_finish_writes_the_batch_and_ends_the_run(live_server: LiveServer) -> None:
    http = live_server.client
    run_id = _run(live_server)
    body = {
        "metrics": [{"key": "loss", "value": "NaN", "timestamp_ms": 10, "step": 2}],
        "params": [{"key": "lr", "value": "0.1"}],
        "tags": [{"key": "team", "value": "a"}],
        "status": "FINISHED",
        "end_time_ms": 1_700_000_000_123,
    }
    assert http.post(f"{RUNS}/{run_id}/finish", json=body).status_code == 204
    run = http.get(f"{RUNS}/{run_id}").json()
    assert (run["status"], run["end_time_ms"]) == ("FINISHED", 1_700_000_000_123)
    assert (run["params"], run["tags"], run["metrics"]) == (
        {"lr": "0.1"},
        {"team": "a"},
        {"loss": "NaN"},
    )


def test_finish_with_only_a_status_ends_the_run_now(live_server: LiveServer) -> None:
    http = live_server.client
    run_id = _run(live_server)
    assert http.post(f"{RUNS}/{run_id}/finish", json={"status": "KILLED"}).status_code == 204
    run = http.get(f"{RUNS}/{run_id}").json()
    assert run["status"] == "KILLED"
    assert run["end_time_ms"] >= run["start_time_ms"]


def test_bad_finishes_are_4xx_and_change_nothing(live_server: LiveServer) -> None:
    http = live_server.client
    run_id = _run(live_server)
    batch = {"metrics": [{"key": "m", "value": 1.0, "step": 0}]}
    for status in ("RUNNING", "DONE", None):
        answer = http.post(f"{RUNS}/{run_id}/finish", json={**batch, "status": status})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "INVALID_INPUT"
    too_many = [{"key": "m", "value": 1.0, "step": i} for i in range(1001)]
    answer = http.post(f"{RUNS}/{run_id}/finish", json={"metrics": too_many, "status": "FINISHED"})
    assert answer.status_code == 400
    run = http.get(f"{RUNS}/{run_id}").json()
    assert (run["status"], run["end_time_ms"], run["metrics"]) == ("RUNNING", None, {})
    missing = http.post(f"{RUNS}/{uuid.uuid4().hex}/finish", json={"status": "FINISHED"})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"


def test_a_conflicting_param_is_400_and_the_run_keeps_running(live_server: LiveServer) -> None:
    http = live_server.client
    run_id = _run(live_server)
    first = {"params": [{"key": "p", "value": "1"}]}
    assert http.post(f"{RUNS}/{run_id}/batch", json=first).status_code == 204
    answer = http.post(
        f"{RUNS}/{run_id}/finish",
        json={"params": [{"key": "p", "value": "2"}], "status": "FINISHED"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["details"]["error_type"] == "ParamConflictError"
    assert http.get(f"{RUNS}/{run_id}").json()["status"] == "RUNNING"


def test_a_run_created_sharing_files_lists_them_with_the_same_digests(
    live_server: LiveServer,
) -> None:
    http = live_server.client
    source = _run(live_server)
    put = http.put(
        f"{RUNS}/{source}/artifacts/content/environment/requirements.txt", content=b"x==1\n"
    )
    assert put.status_code == 201
    run_id = _run(live_server, share_artifacts_run_id=source, share_artifacts_folder="environment")
    files = http.get(f"{RUNS}/{run_id}/artifacts/files").json()["files"]
    assert [(f["path"], f["digest"]) for f in files] == [
        ("environment/requirements.txt", put.json()["digest"])
    ]
    got = http.get(f"{RUNS}/{run_id}/artifacts/content/environment/requirements.txt")
    assert got.content == b"x==1\n"


def test_sharing_bad_folders_or_unknown_runs_creates_nothing(live_server: LiveServer) -> None:
    http = live_server.client
    source = _run(live_server)
    for folder, code in (("", 400), ("../up", 400), (".", 400)):
        run_id = uuid.uuid4().hex
        answer = http.post(
            RUNS,
            json={
                "experiment_id": "0",
                "run_name": "r",
                "run_id": run_id,
                "share_artifacts_run_id": source,
                "share_artifacts_folder": folder,
            },
        )
        assert answer.status_code == code, (folder, answer.text)
        assert http.get(f"{RUNS}/{run_id}").status_code == 404
    answer = http.post(
        RUNS,
        json={"experiment_id": "0", "run_name": "r", "share_artifacts_run_id": uuid.uuid4().hex},
    )
    assert answer.status_code == 404
    assert http.post(f"{RUNS}/search", json={}).json()["runs"][0]["run_id"] == source


def test_sharing_needs_the_role_in_the_shared_runs_experiment(auth_server: AuthServer) -> None:
    store = auth_server.store
    mine = store.experiments.create("mine").experiment_id
    theirs = store.experiments.create("theirs").experiment_id
    their_run = store.runs.create(theirs, run_name="t").run_id
    store.artifacts.write_bytes(their_run, "environment/git.diff", b"secret change")
    my_run = store.runs.create(mine, run_name="m").run_id
    store.artifacts.write_bytes(my_run, "environment/git.diff", b"my change")
    token = auth_server.token_for("pat", None)
    store.auth.grant("pat", Role.EDITOR, experiment_id=mine, actor="t")
    with auth_server.client(bearer(token)) as http:
        refused = http.post(
            RUNS,
            json={"experiment_id": mine, "run_name": "r", "share_artifacts_run_id": their_run},
        )
        assert refused.status_code == 403
        allowed = http.post(
            RUNS,
            json={"experiment_id": mine, "run_name": "r", "share_artifacts_run_id": my_run},
        )
        assert allowed.status_code == 201
    assert len(store.runs.search([mine])) == 2


def _deferred(**fields: Any) -> dict[str, Any]:
    """A finish that creates its run (a client that deferred the create)."""
    return {
        "experiment_id": "0",
        "run_name": "deferred",
        "start_time_ms": 1_700_000_000_000,
        "user_id": "ada",
        "status": "FINISHED",
        "end_time_ms": 1_700_000_000_500,
        "params": [{"key": "lr", "value": "0.1"}],
        "metrics": [{"key": "m", "value": 1.5, "step": 3, "timestamp_ms": 1_700_000_000_100}],
        "tags": [{"key": "team", "value": "a"}],
        **fields,
    }


def test_a_finish_with_a_start_creates_the_run_in_one_request(live_server: LiveServer) -> None:
    http = live_server.client
    run_id = uuid.uuid4().hex
    assert http.post(f"{RUNS}/{run_id}/finish", json=_deferred()).status_code == 204
    run = http.get(f"{RUNS}/{run_id}").json()
    assert (run["run_name"], run["user_id"], run["experiment_id"]) == ("deferred", "ada", "0")
    assert (run["status"], run["start_time_ms"], run["end_time_ms"]) == (
        "FINISHED",
        1_700_000_000_000,
        1_700_000_000_500,
    )
    assert (run["params"], run["tags"], run["metrics"]) == (
        {"lr": "0.1"},
        {"team": "a"},
        {"m": 1.5},
    )
    # Sent again (a retry): nothing changes, nothing is stored twice.
    assert http.post(f"{RUNS}/{run_id}/finish", json=_deferred(run_name="x")).status_code == 204
    assert http.get(f"{RUNS}/{run_id}").json()["run_name"] == "deferred"
    history = http.get(f"{RUNS}/{run_id}/metrics/history", params={"key": "m"}).json()
    assert len(history["metrics"]) == 1


def test_bad_finishes_with_a_start_are_4xx_and_create_nothing(live_server: LiveServer) -> None:
    http = live_server.client
    cases = [
        (_deferred(run_name=None), 400, "run_name"),
        (_deferred(experiment_id="abc"), 400, "experiment_id"),
        (_deferred(experiment_id="424242"), 404, "424242"),
        (_deferred(share_artifacts_run_id=uuid.uuid4().hex), 404, "does not exist"),
        (_deferred(status="RUNNING"), 400, "status"),
    ]
    for body, code, named in cases:
        run_id = uuid.uuid4().hex
        answer = http.post(f"{RUNS}/{run_id}/finish", json=body)
        assert answer.status_code == code, (body, answer.text)
        assert named in answer.text
        assert http.get(f"{RUNS}/{run_id}").status_code == 404


def test_a_finish_with_a_start_needs_the_role_in_its_experiment(auth_server: AuthServer) -> None:
    store = auth_server.store
    mine = store.experiments.create("mine").experiment_id
    theirs = store.experiments.create("theirs").experiment_id
    token = auth_server.token_for("pat", None)
    store.auth.grant("pat", Role.EDITOR, experiment_id=mine, actor="t")
    with auth_server.client(bearer(token)) as http:
        refused = uuid.uuid4().hex
        answer = http.post(f"{RUNS}/{refused}/finish", json=_deferred(experiment_id=theirs))
        assert answer.status_code == 403
        allowed = uuid.uuid4().hex
        answer = http.post(f"{RUNS}/{allowed}/finish", json=_deferred(experiment_id=mine))
        assert answer.status_code == 204, answer.text
    assert [r.run_id for r in store.runs.search([theirs])] == []
    run = store.runs.get(allowed)
    # The run belongs to the authenticated user, whatever the body claims.
    assert (run.experiment_id, run.user_id, run.status.value) == (mine, "pat", "FINISHED")
