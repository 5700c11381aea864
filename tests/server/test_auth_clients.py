"""End to end: mloop's own client (MLOOP_TRACKING_TOKEN) and an unmodified MLflow client
(MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_USERNAME/PASSWORD) against `mloop server --auth`.

The clients run in child processes, as a user's script would, so their process-wide state
(mloop's default store, MLflow's fluent state) stays out of the test process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from mloop.entities.auth import Role
from tests.server.live_auth import AuthServer, auth_server

__all__ = ["auth_server"]  # a fixture, used by name

MLOOP_SCRIPT = """
import json, mloop
mloop.set_experiment("e2e")
with mloop.start_run(run_name="remote") as run:
    mloop.log_param("lr", 0.1)
    for step in range(50):
        mloop.log_metric("loss", 1 / (step + 1), step=step)
print(json.dumps({"run_id": run.info.run_id}))
"""

MLFLOW_SCRIPT = """
import json, mlflow
mlflow.set_experiment("from-mlflow")
with mlflow.start_run(run_name="mlflow-run") as run:
    mlflow.log_param("alpha", 0.5)
    mlflow.log_metric("rmse", 0.25, step=1)
    mlflow.set_tag("kind", "compat")
print(json.dumps({"run_id": run.info.run_id}))
"""


def _run(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MLOOP_", "MLFLOW_"))}
    return subprocess.run(
        [sys.executable, "-c", script],
        env={**base, **env, "PYTHONWARNINGS": "ignore"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_fluent_api_works_with_a_token_and_fails_clearly_without(
    auth_server: AuthServer, tmp_path: Path
) -> None:
    token = auth_server.token_for("trainer", Role.EDITOR)
    remote = {"MLOOP_TRACKING_URI": auth_server.url, "MLOOP_HOME": str(tmp_path / ".mloop")}
    done = _run(MLOOP_SCRIPT, {**remote, "MLOOP_TRACKING_TOKEN": token}, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    run_id = json.loads(done.stdout.strip().splitlines()[-1])["run_id"]
    run = auth_server.store.runs.get(run_id)
    assert run.params == {"lr": "0.1"}
    assert len(auth_server.store.runs.get_metric_history(run_id, "loss")) == 50

    refused = _run(MLOOP_SCRIPT, remote, tmp_path)
    assert refused.returncode != 0
    assert "AuthenticationError" in refused.stderr
    assert "MLOOP_TRACKING_TOKEN" in refused.stderr

    reader = auth_server.token_for("viewer", Role.READER)
    denied = _run(MLOOP_SCRIPT, {**remote, "MLOOP_TRACKING_TOKEN": reader}, tmp_path)
    assert denied.returncode != 0
    assert "PermissionDeniedError" in denied.stderr
    assert "mloop users grant viewer" in denied.stderr
    assert len(auth_server.store.runs.search()) == 1


def test_an_mlflow_client_authenticates_with_a_token_or_basic_auth(
    auth_server: AuthServer, tmp_path: Path
) -> None:
    token = auth_server.token_for("mlflow-bot", Role.EDITOR)
    auth_server.store.auth.create_user(
        "scientist", role=Role.EDITOR, password="a-long-password", actor="t"
    )
    base = {"MLFLOW_TRACKING_URI": auth_server.url, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    with_token = _run(MLFLOW_SCRIPT, {**base, "MLFLOW_TRACKING_TOKEN": token}, tmp_path)
    assert with_token.returncode == 0, with_token.stderr[-3000:]
    basic = {
        **base,
        "MLFLOW_TRACKING_USERNAME": "scientist",
        "MLFLOW_TRACKING_PASSWORD": "a-long-password",
    }
    with_password = _run(MLFLOW_SCRIPT, basic, tmp_path)
    assert with_password.returncode == 0, with_password.stderr[-3000:]
    for done in (with_token, with_password):
        run_id = json.loads(done.stdout.strip().splitlines()[-1])["run_id"]
        run = auth_server.store.runs.get(run_id)
        assert (run.run_name, run.params, run.metrics) == (
            "mlflow-run",
            {"alpha": "0.5"},
            {"rmse": 0.25},
        )
        assert run.tags["kind"] == "compat"

    refused = _run(MLFLOW_SCRIPT, base, tmp_path)
    assert refused.returncode != 0
    assert "401" in refused.stderr or "UNAUTHENTICATED" in refused.stderr
    experiment = auth_server.store.experiments.get_by_name("from-mlflow")
    assert len(auth_server.store.runs.search([experiment.experiment_id])) == 2


SCOPED_SCRIPT = """
import json, sys, mlflow
mlflow.set_experiment(sys.argv[1])
with open("notes.txt", "w") as f:
    f.write("scoped")
with mlflow.start_run(run_name="scoped") as run:
    mlflow.log_metric("m", 1.0)
    mlflow.log_artifact("notes.txt")
    model = mlflow.initialize_logged_model(name="m1")
print(json.dumps({"run_id": run.info.run_id, "model_id": model.model_id}))
"""


def test_an_mlflow_client_with_an_experiment_role_works_only_there(
    auth_server: AuthServer, tmp_path: Path
) -> None:
    store = auth_server.store
    mine = store.experiments.create("mine").experiment_id
    store.experiments.create("theirs")
    token = auth_server.token_for("scoped", None)
    store.auth.grant("scoped", Role.EDITOR, experiment_id=mine, actor="t")
    env = {
        "MLFLOW_TRACKING_URI": auth_server.url,
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_TRACKING_TOKEN": token,
    }
    allowed = _run(SCOPED_SCRIPT.replace("sys.argv[1]", "'mine'"), env, tmp_path)
    assert allowed.returncode == 0, allowed.stderr[-3000:]
    ids = json.loads(allowed.stdout.strip().splitlines()[-1])
    run = store.runs.get(ids["run_id"])
    assert (run.experiment_id, run.metrics) == (mine, {"m": 1.0})
    assert store.logged_models.get(ids["model_id"]).experiment_id == mine
    refused = _run(SCOPED_SCRIPT.replace("sys.argv[1]", "'theirs'"), env, tmp_path)
    assert refused.returncode != 0
    assert "403" in refused.stderr or "PERMISSION_DENIED" in refused.stderr
    theirs = store.experiments.get_by_name("theirs").experiment_id
    assert len(store.runs.search([theirs])) == 0


def test_the_operator_flow_with_the_real_commands(tmp_path: Path) -> None:
    """`mloop users create`, `mloop tokens create`, then `mloop server --auth` with 2 workers."""
    db = f"sqlite:///{tmp_path / 'server.db'}"
    env = {"MLOOP_HOME": str(tmp_path / ".mloop"), "MLOOP_ARTIFACT_URI": str(tmp_path / "art")}
    mloop = str(Path(sys.executable).with_name("mloop"))

    def command(*args: str) -> str:
        done = subprocess.run(
            [mloop, *args, "--backend-uri", db],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    command("users", "create", "ada", "--role", "admin")
    token = command("tokens", "create", "--user", "ada").strip().splitlines()[-1]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [mloop, "server", "--backend-uri", db, "--port", str(port), "--workers", "2", "--auth"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
            time.sleep(0.2)
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.get("/api/v1/experiments").status_code == 401
            whoami = client.get("/api/v1/auth/whoami", headers={"Authorization": f"Bearer {token}"})
            assert whoami.json()["name"] == "ada"
            created = client.post(
                "/api/v1/experiments",
                json={"name": "shared"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert created.status_code == 201
    finally:
        server.terminate()
        server.wait(timeout=30)
