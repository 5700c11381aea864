"""Writes an MLflow tracking store with the real MLflow client; run as a subprocess by the
import tests, so MLflow's import-time state stays out of the test process.

usage: python mlflow_writer.py PHASE OUT_JSON   (MLFLOW_TRACKING_URI names the store; cwd is
where MLflow puts its artifacts)
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient


def first_phase() -> dict[str, object]:
    client = MlflowClient()
    mlflow.set_experiment("churn")
    mlflow.set_experiment_tag("team", "growth")
    with mlflow.start_run(run_name="parent") as parent:
        mlflow.log_params({"alpha": 0.5, "model": "rf"})
        for step in range(10):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metric("acc", math.nan, step=0)
        mlflow.set_tag("stage", "dev")
        Path("report.txt").write_text("hello from mlflow")
        mlflow.log_artifact("report.txt")
        Path("model").mkdir(exist_ok=True)
        Path("model/weights.bin").write_bytes(b"\x00\x01" * 100)
        mlflow.log_artifacts("model", artifact_path="model")
        import pandas as pd

        frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0.0, 1.0, 0.0]})
        from mlflow.data.pandas_dataset import from_pandas

        mlflow.log_input(from_pandas(frame, name="customers"), context="training")
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("loss", 0.25)
        client.set_terminated(child.info.run_id, status="FAILED")
    with mlflow.start_run(run_name="gone") as gone:
        mlflow.log_param("p", "1")
    client.delete_run(gone.info.run_id)
    old = client.create_experiment("old")
    old_run = client.create_run(old, run_name="old-run")
    client.log_metric(old_run.info.run_id, "m", 1.0)
    client.set_terminated(old_run.info.run_id)
    client.delete_experiment(old)
    client.create_registered_model("churn-model", tags={"owner": "growth"}, description="d")
    for _ in range(3):
        client.create_model_version(
            "churn-model", f"runs:/{parent.info.run_id}/model", run_id=parent.info.run_id
        )
    client.delete_model_version("churn-model", "2")
    client.set_registered_model_alias("churn-model", "champion", "3")
    client.set_model_version_tag("churn-model", "3", "validated", "yes")
    history = client.get_metric_history(parent.info.run_id, "loss")
    info = client.get_run(parent.info.run_id).info
    return {
        "loss": [[m.step, m.timestamp, m.value] for m in history],
        "parent_times": [info.start_time, info.end_time],
        "parent": parent.info.run_id,
        "child": child.info.run_id,
        "gone": gone.info.run_id,
        "old_run": old_run.info.run_id,
    }


def second_phase(previous: dict[str, str]) -> dict[str, object]:
    client = MlflowClient()
    mlflow.set_experiment("churn")
    with mlflow.start_run(run_name="later") as later:
        mlflow.log_metric("loss", 0.1, step=0)
    # A point more on an imported run, and a version more of the model.
    client.log_metric(previous["parent"], "loss", 0.05, step=10)
    client.create_model_version("churn-model", f"runs:/{later.info.run_id}/model")
    client.set_registered_model_alias("churn-model", "champion", "4")
    return {**previous, "later": later.info.run_id}


def edge_cases() -> dict[str, object]:
    """What MLflow accepts and mloop does not, beside a run that imports fine."""
    client = MlflowClient()
    remote = client.create_experiment("remote", artifact_location="s3://nowhere/exp")
    run = client.create_run(remote, run_name="on-s3")
    client.log_param(run.info.run_id, "p", "1")
    client.set_tag(run.info.run_id, "a:b", "colon key")
    client.log_metric(run.info.run_id, "m:x", 1.0)
    client.log_metric(run.info.run_id, "ok", 2.0)
    import pandas as pd
    from mlflow.data.pandas_dataset import from_pandas

    frame = pd.DataFrame({"x": [1.0]})
    with mlflow.start_run(run_id=run.info.run_id):
        mlflow.log_input(from_pandas(frame, name="d" * 300), context="training")
    client.set_terminated(run.info.run_id)
    client.create_registered_model("model@x")
    client.create_registered_model("edge model")
    client.create_model_version("edge model", "file:///models/x", run_id="ab" * 16)
    client.set_registered_model_alias("edge model", "1st", "1")
    client.set_registered_model_alias("edge model", "good", "1")
    client.set_experiment_tag(remote, "x:y", "colon key")
    bad_name = client.create_run(remote, run_name="two\nlines")
    odd_parent = client.create_run(remote, run_name="odd-parent", tags={"mlflow.parentRunId": "x"})
    long_name = client.create_experiment("e" * 253)
    orphan = client.create_run(long_name, run_name="in-a-long-named-experiment")
    return {
        "run": run.info.run_id,
        "orphan": orphan.info.run_id,
        "bad_name": bad_name.info.run_id,
        "odd_parent": odd_parent.info.run_id,
    }


def main() -> None:
    phase, out = sys.argv[1], Path(sys.argv[2])
    if phase == "edge":
        result = edge_cases()
    elif phase == "1":
        result = first_phase()
    else:
        result = second_phase(json.loads(out.read_text()))
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
