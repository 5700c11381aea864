"""`mloop import-mlflow` against a real MLflow store written by the MLflow client (mlflow-skinny),
into a real mloop store on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from mloop.cli.main import app
from mloop.client import MloopClient
from mloop.client.context import close_store
from mloop.entities import LifecycleStage, Metric, RunInput, RunStatus
from mloop.entities.auth import Role
from mloop.server.app import create_app
from mloop.server.auth import install_auth
from mloop.server.config import ServerConfig
from mloop.storage.sql.store import SqlStore
from tests.conftest import postgres_url
from tests.server.conftest import serve_in_thread, wait_ready

WRITER = Path(__file__).with_name("mlflow_writer.py")


@dataclass(frozen=True)
class MlflowStore:
    """An MLflow store on SQLite and what the MLflow client reported while writing it."""

    folder: Path
    ids: dict[str, Any]

    @property
    def uri(self) -> str:
        return f"sqlite:///{self.folder / 'mlflow.db'}"

    def write(self, phase: str) -> None:
        """Run the MLflow client in a subprocess to write a phase of the scenario."""
        env = {**os.environ, "MLFLOW_TRACKING_URI": self.uri, "PYTHONWARNINGS": "ignore"}
        done = subprocess.run(
            [sys.executable, str(WRITER), phase, str(self.folder / "ids.json")],
            cwd=self.folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        self.ids.clear()
        self.ids.update(json.loads((self.folder / "ids.json").read_text()))

    def copy(self, destination: Path) -> MlflowStore:
        """A copy of the database that can be changed without touching this one."""
        destination.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.folder / "mlflow.db", destination / "mlflow.db")
        shutil.copy(self.folder / "ids.json", destination / "ids.json")
        return MlflowStore(destination, dict(self.ids))


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> MlflowStore:
    """The first phase of the scenario, written once per module (MLflow is slow to start)."""
    written = MlflowStore(tmp_path_factory.mktemp("mlflow"), {})
    written.write("1")
    return written


def _import(cli: CliRunner, uri: str) -> dict[str, Any]:
    result = cli.invoke(app, ["import-mlflow", "--from", uri, "--json"])
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.output)
    return summary


def _open(cli_env: dict[str, str]) -> SqlStore:
    return SqlStore(cli_env["MLOOP_TRACKING_URI"], artifact_root=cli_env["MLOOP_ARTIFACT_URI"])


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_import_copies_runs_metrics_artifacts_and_models_then_a_rerun_writes_nothing(
    cli: CliRunner, cli_env: dict[str, str], mlflow_store: MlflowStore, tmp_path: Path
) -> None:
    before = _digest(mlflow_store.folder / "mlflow.db")
    summary = _import(cli, mlflow_store.uri)
    assert _digest(mlflow_store.folder / "mlflow.db") == before  # the source is read-only
    assert summary["warnings"] == []
    assert (summary["experiments_created"], summary["runs_created"]) == (2, 4)
    ids = mlflow_store.ids
    store = _open(cli_env)
    try:
        churn = store.experiments.get_by_name("churn")
        assert churn.tags == {"team": "growth"}
        assert store.experiments.get_by_name("old").lifecycle_stage is LifecycleStage.DELETED

        parent = store.runs.get(ids["parent"])
        assert (parent.experiment_id, parent.run_name, parent.status) == (
            churn.experiment_id,
            "parent",
            RunStatus.FINISHED,
        )
        assert [parent.start_time_ms, parent.end_time_ms] == ids["parent_times"]
        assert parent.params == {"alpha": "0.5", "model": "rf"}
        assert parent.tags["stage"] == "dev"
        assert parent.tags["mlflow.runName"] == "parent"
        loss = store.runs.get_metric_history(ids["parent"], "loss")
        assert [[m.step, m.timestamp_ms, m.value] for m in loss] == ids["loss"]
        [acc] = store.runs.get_metric_history(ids["parent"], "acc")
        assert math.isnan(acc.value)
        [dataset] = parent.inputs
        assert isinstance(dataset, RunInput)
        assert (dataset.name, dataset.context) == ("customers", "training")
        assert dataset.digest

        child = store.runs.get(ids["child"])
        assert (child.parent_run_id, child.status) == (ids["parent"], RunStatus.FAILED)
        assert store.runs.get(ids["gone"]).lifecycle_stage is LifecycleStage.DELETED
        assert store.runs.get(ids["gone"]).params == {"p": "1"}
        assert store.runs.get(ids["old_run"]).metrics == {"m": 1.0}

        MloopClient(store=store).download_artifacts(ids["parent"], None, tmp_path / "dl")
        files = {
            p.relative_to(tmp_path / "dl").as_posix(): p.read_bytes()
            for p in (tmp_path / "dl").rglob("*")
            if p.is_file()
        }
        assert {Path(k).name: v for k, v in files.items()} == {
            "report.txt": b"hello from mlflow",
            "weights.bin": b"\x00\x01" * 100,
        }
        assert any(k.endswith("model/weights.bin") for k in files)

        model = store.registry.get_model("churn-model")
        assert (model.description, model.tags) == ("d", {"owner": "growth"})
        # MLflow's versions 1 and 3 (2 was deleted) are mloop's 1 and 2.
        assert model.latest_version == 2
        assert model.aliases == {"champion": 2}
        second = store.registry.get_version("churn-model", 2)
        assert second.tags == {"validated": "yes", "mlflow.version": "3"}
        assert second.run_id == ids["parent"]
        assert second.source == f"runs:/{ids['parent']}/model"
        events = len(store.audit.list())
    finally:
        store.close()

    again = _import(cli, mlflow_store.uri)
    assert again["runs_unchanged"] == 4
    written = {k: v for k, v in again.items() if k not in ("runs_unchanged", "experiments_matched")}
    assert all(v in (0, []) for v in written.values()), again
    store = _open(cli_env)
    try:
        assert len(store.audit.list()) == events
        assert len(store.runs.get_metric_history(ids["parent"], "loss")) == 10
    finally:
        store.close()


def test_a_rerun_after_more_mlflow_work_imports_only_what_is_new(
    cli: CliRunner, cli_env: dict[str, str], mlflow_store: MlflowStore, tmp_path: Path
) -> None:
    source = mlflow_store.copy(tmp_path / "mlflow")
    _import(cli, source.uri)
    source.write("2")
    summary = _import(cli, source.uri)
    assert summary["runs_created"] == 1
    assert summary["runs_updated"] == 1
    assert summary["runs_unchanged"] == 3
    assert summary["metric_points"] == 2  # the new run's point and the parent's new one
    assert (summary["versions_created"], summary["aliases_set"]) == (1, 1)
    assert summary["params"] == summary["artifact_files"] == 0
    store = _open(cli_env)
    try:
        ids = source.ids
        later = store.runs.get(ids["later"])
        assert later.run_name == "later"
        loss = store.runs.get_metric_history(ids["parent"], "loss")
        assert [m.step for m in loss] == list(range(11))
        assert store.registry.get_model("churn-model").aliases == {"champion": 3}
        assert store.registry.get_version("churn-model", 3).tags["mlflow.version"] == "4"
    finally:
        store.close()


def test_a_run_deleted_in_mloop_since_the_import_stays_deleted(
    cli: CliRunner, cli_env: dict[str, str], mlflow_store: MlflowStore
) -> None:
    _import(cli, mlflow_store.uri)
    store = _open(cli_env)
    try:
        store.runs.delete(mlflow_store.ids["child"], actor="someone")
        again = _import(cli, mlflow_store.uri)
        assert again["runs_unchanged"] == 4
        assert store.runs.get(mlflow_store.ids["child"]).lifecycle_stage is LifecycleStage.DELETED
    finally:
        store.close()


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("sqlite:///{tmp}/missing.db", "no MLflow database"),
        ("sqlite:///{tmp}/mloop-own.db", "not an MLflow tracking database"),
        ("mysql://u@h/db", "unsupported MLflow database"),
        ("::not a uri::", "cannot parse the MLflow URI"),
    ],
)
def test_a_source_that_is_not_an_mlflow_store_is_refused(
    cli: CliRunner, cli_env: dict[str, str], tmp_path: Path, uri: str, message: str
) -> None:
    SqlStore(f"sqlite:///{tmp_path / 'mloop-own.db'}", artifact_root=str(tmp_path)).close()
    result = cli.invoke(app, ["import-mlflow", "--from", uri.format(tmp=tmp_path)])
    assert result.exit_code == 7, result.output
    assert message in result.output
    store = _open(cli_env)
    try:
        assert [e.name for e in store.experiments.list()] == ["Default"]
    finally:
        store.close()


def test_the_table_summary_names_the_source(
    cli: CliRunner, cli_env: dict[str, str], mlflow_store: MlflowStore
) -> None:
    result = cli.invoke(app, ["import-mlflow", "--from", mlflow_store.uri])
    assert result.exit_code == 0, result.output
    assert "imported from" in result.output
    assert "metric points" in result.output


@pytest.mark.postgres
def test_an_mlflow_store_on_postgresql_is_imported(
    cli: CliRunner, cli_env: dict[str, str], backend: str, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("the source is what is on PostgreSQL here; one mloop backend covers it")
    base = postgres_url()
    if base is None:
        pytest.skip("MLOOP_TEST_POSTGRES_URL is not set")
    schema = f"mlflow_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    uri = f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    try:
        source = _PostgresMlflowStore(
            tmp_path, {}, uri.replace("postgresql://", "postgresql+psycopg://", 1)
        )
        source.write("1")
        summary = _import(cli, uri)
        assert summary["warnings"] == []
        assert (summary["runs_created"], summary["metric_points"]) == (4, 13)
        assert summary["versions_created"] == 2
        assert _import(cli, uri)["runs_unchanged"] == 4
        store = _open(cli_env)
        try:
            loss = store.runs.get_metric_history(source.ids["parent"], "loss")
            assert [[m.step, m.timestamp_ms, m.value] for m in loss] == source.ids["loss"]
        finally:
            store.close()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass(frozen=True)
class _PostgresMlflowStore(MlflowStore):
    """An MLflow store in a PostgreSQL schema (MLflow needs the psycopg 3 driver named)."""

    database_uri: str = ""

    @property
    def uri(self) -> str:
        return self.database_uri


def test_what_mloop_cannot_take_is_reported_and_the_rest_is_imported(
    cli: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    source = MlflowStore(tmp_path / "edge", {})
    source.folder.mkdir()
    source.write("edge")
    summary = _import(cli, source.uri)
    run_id = source.ids["run"]
    warnings = "\n".join(summary["warnings"])
    assert f"run {run_id}: tag 'a:b' skipped" in warnings
    assert f"run {run_id}: metric 'm:x' skipped" in warnings
    assert "s3://nowhere/exp" in warnings
    assert "registered model 'model@x' skipped" in warnings
    assert "alias '1st' of model 'edge model' skipped" in warnings
    assert "its run abababababababababababababababab is not in the store" in warnings
    assert "tag 'x:y' of experiment 'remote' skipped" in warnings
    assert f"experiment {'e' * 253!r} skipped" in warnings
    assert f"run {source.ids['orphan']} skipped: its experiment was not imported" in warnings
    assert f"run {source.ids['bad_name']} skipped: run name" in warnings
    assert f"run {run_id}: dataset input {'d' * 40!r}... skipped" in warnings
    store = _open(cli_env)
    try:
        run = store.runs.get(run_id)
        assert (run.params, run.metrics) == ({"p": "1"}, {"ok": 2.0})
        assert "a:b" not in run.tags
        model = store.registry.get_model("edge model")
        assert model.aliases == {"good": 1}
        version = store.registry.get_version("edge model", 1)
        assert (version.run_id, version.source) == (None, "file:///models/x")
        assert store.registry.find_model("model@x") is None
        assert store.runs.get(source.ids["odd_parent"]).parent_run_id is None
    finally:
        store.close()
    again = _import(cli, source.uri)
    assert (again["runs_unchanged"], again["versions_created"], again["aliases_set"]) == (2, 0, 0)


def test_deletions_in_mloop_stay_and_conflicting_params_are_reported(
    cli: CliRunner, cli_env: dict[str, str], mlflow_store: MlflowStore, tmp_path: Path
) -> None:
    source = mlflow_store.copy(tmp_path / "mlflow")
    _import(cli, source.uri)
    ids = source.ids
    store = _open(cli_env)
    try:
        churn = store.experiments.get_by_name("churn").experiment_id
        store.runs.delete(ids["parent"], actor="someone")
        store.experiments.delete(churn)
        source.write("2")  # a new run in churn, a new point on the parent
        # MLflow never changes a param; a store edited by hand can. mloop keeps its value.
        with closing(sqlite3.connect(source.folder / "mlflow.db")) as db, db:
            db.execute(
                "UPDATE params SET value = '0.9' WHERE key = 'alpha' AND run_uuid = ?",
                (ids["parent"],),
            )
        summary = _import(cli, source.uri)
        assert summary["runs_created"] == 1
        assert summary["metric_points"] == 2
        assert any("a batch was not imported" in w for w in summary["warnings"])
        parent = store.runs.get(ids["parent"])
        assert parent.lifecycle_stage is LifecycleStage.DELETED
        assert parent.params["alpha"] == "0.5"
        assert len(store.runs.get_metric_history(ids["parent"], "loss")) == 11
        assert store.experiments.get(churn).lifecycle_stage is LifecycleStage.DELETED
        later = store.runs.get(source.ids["later"])
        assert (later.experiment_id, later.metrics) == (churn, {"loss": 0.1})
    finally:
        store.close()


@pytest.fixture(scope="module")
def mlflow_server(
    mlflow_store: MlflowStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real `mlflow server` (MLflow 3.17.2) on a loopback port, serving a copy of the store."""
    served = mlflow_store.copy(tmp_path_factory.mktemp("served"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("mlflow")),
            "server",
            "--backend-store-uri",
            served.uri,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=served.folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, path="/health", timeout_s=180, interval_s=0.5, process=process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
def test_import_from_an_mlflow_tracking_server_matches_the_database_import(
    cli: CliRunner, cli_env: dict[str, str], mlflow_store: MlflowStore, mlflow_server: str
) -> None:
    summary = _import(cli, mlflow_server)
    assert summary["warnings"] == []
    counts = {k: summary[k] for k in ("runs_created", "params", "metric_points", "inputs")}
    assert counts == {"runs_created": 4, "params": 3, "metric_points": 13, "inputs": 1}
    assert (summary["artifact_files"], summary["versions_created"]) == (2, 2)
    ids = mlflow_store.ids
    store = _open(cli_env)
    try:
        loss = store.runs.get_metric_history(ids["parent"], "loss")
        assert [[m.step, m.timestamp_ms, m.value] for m in loss] == ids["loss"]
        [acc] = store.runs.get_metric_history(ids["parent"], "acc")
        assert math.isnan(acc.value)
        assert store.runs.get(ids["gone"]).lifecycle_stage is LifecycleStage.DELETED
        assert store.experiments.get_by_name("old").lifecycle_stage is LifecycleStage.DELETED
        report = MloopClient(store=store).list_artifacts(ids["parent"])
        assert {a.path for a in report} == {"report.txt", "model"}
        assert store.registry.get_model("churn-model").aliases == {"champion": 2}
    finally:
        store.close()
    again = _import(cli, mlflow_server)
    assert (again["runs_unchanged"], again["metric_points"], again["artifact_files"]) == (4, 0, 0)


def test_an_unreachable_server_is_a_storage_error(cli: CliRunner, cli_env: dict[str, str]) -> None:
    result = cli.invoke(app, ["import-mlflow", "--from", "http://127.0.0.1:1"])
    assert result.exit_code == 6
    assert "cannot reach the MLflow server" in result.output


def test_credentials_for_the_server_come_from_mlflows_variables(
    cli: CliRunner,
    cli_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # An mloop server with auth on speaks MLflow's API too: a source that wants credentials.
    source = SqlStore(f"sqlite:///{tmp_path / 'source.db'}", artifact_root=str(tmp_path / "a"))
    app_ = create_app(
        ServerConfig(backend_uri=source.url, artifact_uri=source.artifact_root), store=source
    )
    install_auth(app_, cache_ttl_s=0)
    url, stop = serve_in_thread(app_)
    try:
        experiment = source.experiments.create("on-mloop").experiment_id
        run = source.runs.create(experiment, run_name="r")
        source.runs.log_batch(run.run_id, metrics=[Metric("x", 1.5, 1, 0)])
        source.auth.create_user("reader", role=Role.READER, password="reader-password", actor="t")
        token = source.auth.create_token("reader", actor="t").secret

        refused = cli.invoke(app, ["import-mlflow", "--from", url])
        assert refused.exit_code == 6
        assert "401" in refused.output
        assert "MLFLOW_TRACKING_TOKEN" in refused.output

        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
        with_token = _import(cli, url)
        assert with_token["runs_created"] == 1
        monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "reader")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "reader-password")
        assert _import(cli, url)["runs_unchanged"] == 1
    finally:
        stop()
        source.close()
    store = _open(cli_env)
    try:
        assert store.runs.get(run.run_id).metrics == {"x": 1.5}
    finally:
        store.close()


def test_import_into_a_remote_mloop_server_with_a_token(
    cli: CliRunner,
    mlflow_store: MlflowStore,
    store: SqlStore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    config = ServerConfig(backend_uri=store.url, artifact_uri=store.artifact_root)
    app_ = create_app(config, store=store)
    install_auth(app_, cache_ttl_s=0)
    url, stop = serve_in_thread(app_)
    store.auth.create_user("ops", role=Role.EDITOR, actor="t")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLOOP_HOME", str(tmp_path / ".mloop"))
    monkeypatch.setenv("MLOOP_TRACKING_URI", url)
    monkeypatch.setenv("MLOOP_TRACKING_TOKEN", store.auth.create_token("ops", actor="t").secret)
    try:
        summary = _import(cli, mlflow_store.uri)
        again = _import(cli, mlflow_store.uri)
    finally:
        close_store()
        stop()
    assert (summary["runs_created"], summary["metric_points"], summary["artifact_files"]) == (
        4,
        13,
        2,
    )
    assert again["runs_unchanged"] == 4
    ids = mlflow_store.ids
    loss = store.runs.get_metric_history(ids["parent"], "loss")
    assert [[m.step, m.timestamp_ms, m.value] for m in loss] == ids["loss"]
    # The server records the authenticated user, whatever the importer calls itself.
    deletions = store.audit.list(entity=("run", ids["gone"]))
    assert [e.actor for e in deletions] == ["ops"]
    # Models arrive once the registry is served over REST; until then the summary says why not.
    assert summary["models_created"] == 1 or any(
        "registered models not imported" in w for w in summary["warnings"]
    )
