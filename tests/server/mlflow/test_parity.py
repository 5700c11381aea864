"""The proof: a typical MLflow tracking script gives the same results on mloop as on MLflow.

The same script runs twice with the unmodified MLflow client: against a live mloop server, and
against MLflow's own store (SQLite in a temporary folder). What `MlflowClient` reads back from
each is compared: experiments, runs, params, metric histories, tags (except ones holding times
or ids), artifacts (listings and bytes), logged models, searches with filters, order and pages,
and the error codes of typical mistakes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import LiveServer
from tests.server.mlflow.conftest import reset_mlflow

pytestmark = [
    pytest.mark.slow,  # two full MLflow sessions with a scikit-learn model: ~25 s per backend
    # MLflow 3.17's dataset digest calls a pandas API that pandas 3 deprecates.
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
    # MLflow's own SQL store uses a loader option SQLAlchemy 2.1 deprecates.
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning:mlflow"),
]

# Tags whose values name ids or times, which differ between any two executions.
_VOLATILE_TAGS = {"mlflow.parentRunId", "mlflow.log-model.history"}
_SEARCHES: list[dict[str, Any]] = [
    {"filter_string": "metrics.score > 0.05", "order_by": ["metrics.score DESC"]},
    {"filter_string": "params.i = '1'"},
    {"filter_string": "tags.`mlflow.runName` LIKE 'trial-%'", "order_by": ["params.i DESC"]},
    {"filter_string": "attributes.status = 'FAILED'"},
    {"order_by": ["attributes.run_name ASC"]},
]


def typical_script(data: Path) -> None:
    """What a typical MLflow user writes: params, metrics, tags, nested runs, artifacts, model."""
    import mlflow
    import mlflow.sklearn
    import numpy as np
    import pandas as pd
    from mlflow.entities import Metric, Param, RunTag
    from sklearn.linear_model import LogisticRegression

    mlflow.set_experiment("parity")
    mlflow.set_experiment_tag("owner", "team-a")
    client = mlflow.MlflowClient()
    rng = np.random.default_rng(7)
    features = rng.random((50, 4))
    labels = (features[:, 0] + features[:, 1] > 1).astype(int)
    (data / "report.txt").write_text("accuracy is fine\n")
    (data / "plots").mkdir()
    (data / "plots" / "curve.csv").write_text("x,y\n1,2\n")
    (data / "plots" / "raw.bin").write_bytes(bytes(range(256)) * 100)
    with mlflow.start_run(run_name="train", description="parity run") as parent:
        mlflow.log_params({"lr": 0.1, "epochs": 5, "model": "logreg"})
        mlflow.set_tags({"team": "ml", "purpose": "parity"})
        for step in range(5):
            mlflow.log_metric("loss", 1 / (step + 1), step=step, timestamp=1_000 + step)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8}, step=4, timestamp=2_000)
        mlflow.log_metric("odd", math.nan, timestamp=3_000)
        client.log_batch(
            parent.info.run_id,
            metrics=[Metric("batch", i * 0.5, 4_000 + i, i) for i in range(20)],
            params=[Param("batch_param", "x")],
            tags=[RunTag("batch_tag", "y")],
        )
        for i in range(3):
            with mlflow.start_run(run_name=f"trial-{i}", nested=True):
                mlflow.log_param("i", i)
                mlflow.log_metric("score", i / 10, timestamp=5_000)
        mlflow.log_artifact(str(data / "report.txt"))
        mlflow.log_artifacts(str(data / "plots"), artifact_path="plots")
        mlflow.log_text("hello", "notes/hello.txt")
        mlflow.log_dict({"layers": [1, 2, 3]}, "config.json")
        mlflow.log_input(
            mlflow.data.from_pandas(  # type: ignore[attr-defined]
                pd.DataFrame(features, columns=list("abcd")), name="train-data"
            ),
            context="training",
        )
        model = LogisticRegression().fit(features, labels)
        mlflow.sklearn.log_model(
            model, name="model", input_example=features[:2], registered_model_name="parity-model"
        )
    client.set_registered_model_alias("parity-model", "champion", "1")
    client.set_model_version_tag("parity-model", "1", "validated", "yes")
    failed = client.create_run(parent.info.experiment_id, run_name="broken")
    client.set_terminated(failed.info.run_id, status="FAILED", end_time=6_000)
    gone = client.create_run(parent.info.experiment_id, run_name="discarded")
    client.delete_run(gone.info.run_id)


def _value(number: float) -> float | str:
    return "nan" if math.isnan(number) else round(number, 12)


def _artifacts(client: Any, run_id: str, path: str | None = None) -> list[tuple[str, int | None]]:
    found = []
    for info in client.list_artifacts(run_id, path):
        if info.is_dir:
            found.extend(_artifacts(client, run_id, info.path))
        else:
            found.append((info.path, info.file_size))
    return found


def _error_codes(client: Any, run_id: str) -> list[str]:
    from mlflow.exceptions import MlflowException

    codes = []
    mistakes: list[Callable[[], object]] = [
        lambda: client.get_run("0" * 32),
        lambda: client.log_param(run_id, "lr", "0.2"),
        lambda: client.create_experiment("parity"),
        lambda: client.get_experiment("987654"),
        lambda: client.search_runs(["0"], filter_string="metrics.acc >>> 1"),
    ]
    for mistake in mistakes:
        with pytest.raises(MlflowException) as caught:
            mistake()
        codes.append(caught.value.error_code)
    return codes


def observe(tracking_uri: str, tmp: Path) -> dict[str, Any]:
    """Everything the MLflow client reads back that must not depend on the backend."""
    import mlflow
    import mlflow.pyfunc
    from mlflow.entities import ViewType

    client = mlflow.MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("parity")
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id], run_view_type=ViewType.ALL, order_by=["attributes.run_name"]
    )
    names = {r.info.run_id: r.info.run_name for r in runs}
    seen: dict[str, Any] = {
        "experiments": sorted(
            (e.name, e.lifecycle_stage, e.tags)
            for e in client.search_experiments(view_type=ViewType.ALL)
        ),
        "runs": {},
        "searches": [],
    }
    for run in runs:
        data = run.data
        seen["runs"][run.info.run_name] = {
            "status": run.info.status,
            "lifecycle_stage": run.info.lifecycle_stage,
            "parent": names.get(data.tags.get("mlflow.parentRunId", "")),
            "params": data.params,
            "metrics": {k: _value(v) for k, v in data.metrics.items()},
            "histories": {
                key: [
                    (m.step, m.timestamp, _value(m.value))
                    for m in sorted(
                        client.get_metric_history(run.info.run_id, key),
                        key=lambda m: (m.step, m.timestamp),
                    )
                ]
                for key in data.metrics
            },
            "tags": {k: v for k, v in data.tags.items() if k not in _VOLATILE_TAGS},
            "inputs": sorted(
                (i.dataset.name, i.dataset.digest, tuple((t.key, t.value) for t in i.tags))
                for i in (run.inputs.dataset_inputs if run.inputs else [])
            ),
            "outputs": len(run.outputs.model_outputs) if run.outputs else 0,
            "artifacts": _artifacts(client, run.info.run_id),
        }
    train = next(r for r in runs if r.info.run_name == "train")
    seen["artifact_bytes"] = {
        path: Path(client.download_artifacts(train.info.run_id, path, str(tmp))).read_bytes()
        for path, _ in _artifacts(client, train.info.run_id)
    }
    for search in _SEARCHES:
        found: list[str] = []
        token = None
        while True:
            page = client.search_runs(
                [experiment.experiment_id], max_results=2, page_token=token, **search
            )
            found.extend(r.info.run_name for r in page)
            token = page.token
            if not token:
                break
        seen["searches"].append(found)
    models = client.search_logged_models([experiment.experiment_id])
    seen["logged_models"] = [
        (m.name, str(m.status), m.params, names.get(m.source_run_id or "")) for m in models
    ]
    model_files = {f.path for f in client.list_logged_model_artifacts(models[0].model_id)}
    seen["model_files"] = sorted(model_files)
    loaded = mlflow.pyfunc.load_model(f"runs:/{train.info.run_id}/model")
    seen["predictions"] = loaded.predict(
        __import__("numpy").random.default_rng(7).random((5, 4))
    ).tolist()
    # Read each version with get_model_version: MLflow's own store leaves aliases out of search
    # results, and its local entities number versions with ints where REST answers strings.
    versions = [
        client.get_model_version(v.name, str(v.version))
        for v in client.search_model_versions("name = 'parity-model'")
    ]
    seen["registry"] = [
        (str(v.version), names.get(v.run_id or ""), v.aliases, v.tags, v.status, v.current_stage)
        for v in versions
    ]
    champion = mlflow.pyfunc.load_model("models:/parity-model@champion")
    seen["champion_predictions"] = champion.predict(
        __import__("numpy").random.default_rng(7).random((5, 4))
    ).tolist()
    seen["errors"] = _error_codes(client, train.info.run_id)
    return seen


def _run(tracking_uri: str, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    import mlflow

    (tmp / "data").mkdir(parents=True)
    (tmp / "downloads").mkdir()
    monkeypatch.chdir(tmp)  # MLflow's local store puts artifacts under ./mlruns
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    reset_mlflow()
    mlflow.set_tracking_uri(tracking_uri)
    try:
        typical_script(tmp / "data")
        return observe(tracking_uri, tmp / "downloads")
    finally:
        reset_mlflow()


def test_a_typical_script_gives_the_same_results_on_mloop_and_mlflow(
    mlflow_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_mloop = _run(mlflow_server.url, tmp_path / "mloop", monkeypatch)
    on_mlflow = _run(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "mlflow", monkeypatch)
    for part in on_mlflow:
        assert on_mloop[part] == on_mlflow[part], part
    # The comparison would pass vacuously on empty results: check it saw what was logged.
    train = on_mloop["runs"]["train"]
    assert train["params"]["lr"] == "0.1"
    assert len(train["histories"]["batch"]) == 20
    assert ("plots/raw.bin", 25_600) in train["artifacts"]
    assert "MLmodel" in on_mloop["model_files"]
    assert on_mloop["errors"][0] == "RESOURCE_DOES_NOT_EXIST"
    assert on_mloop["searches"][0] == ["trial-2", "trial-1"]
    assert on_mloop["registry"] == [
        ("1", "train", ["champion"], {"validated": "yes"}, "READY", "None")
    ]
