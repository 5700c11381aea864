"""mloop entities as MLflow's JSON messages, and artifact locations as MLflow clients see them.

Artifacts under the server's artifact root are shown as `mlflow-artifacts:/<path>` so an MLflow
client uploads and downloads them through this server's proxy (`artifacts.py`) instead of
writing to a folder it cannot reach; a location outside the root (set by the client when it
created the experiment) is shown as it is, and the client uses it directly.
"""

from __future__ import annotations

import math
from typing import Any

from mloop.entities import Experiment, Run, RunInput
from mloop.entities.logged_models import LoggedModel, LoggedModelLink

PROXY_SCHEME = "mlflow-artifacts:"
DATASET_CONTEXT_TAG = "mlflow.data.context"


def json_float(value: float) -> float | str:
    """A float as proto JSON carries it: "NaN", "Infinity" and "-Infinity" for non-finite ones."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def proxied_uri(location: str, artifact_root: str) -> str:
    """The URI an MLflow client is given for a location: proxied when under the root."""
    root = artifact_root.rstrip("/")
    if location.startswith(root + "/"):
        return f"{PROXY_SCHEME}/{location[len(root) + 1 :]}"
    return location


def key_values(items: dict[str, str]) -> list[dict[str, str]]:
    """A mapping as MLflow's repeated `{key, value}` messages."""
    return [{"key": k, "value": v} for k, v in items.items()]


def experiment_json(experiment: Experiment, artifact_root: str) -> dict[str, Any]:
    """An `Experiment` message."""
    return {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": proxied_uri(experiment.artifact_location, artifact_root),
        "lifecycle_stage": experiment.lifecycle_stage.value,
        "last_update_time": experiment.updated_at_ms,
        "creation_time": experiment.created_at_ms,
        "tags": key_values(experiment.tags),
    }


def run_info_json(run: Run, artifact_root: str) -> dict[str, Any]:
    """A `RunInfo` message."""
    info: dict[str, Any] = {
        "run_id": run.run_id,
        "run_uuid": run.run_id,
        "run_name": run.run_name,
        "experiment_id": run.experiment_id,
        "user_id": run.user_id,
        "status": run.status.value,
        "start_time": run.start_time_ms,
        "artifact_uri": proxied_uri(run.artifact_uri, artifact_root),
        "lifecycle_stage": run.lifecycle_stage.value,
    }
    if run.end_time_ms is not None:
        info["end_time"] = run.end_time_ms
    return info


def run_json(
    run: Run, artifact_root: str, links: tuple[LoggedModelLink, ...] = ()
) -> dict[str, Any]:
    """A `Run` message: info, data (latest metric values), inputs and outputs."""
    steps = run.metric_steps
    metrics = [
        {
            "key": k,
            "value": json_float(v),
            "timestamp": steps.get(k, (0, 0))[1],
            "step": steps.get(k, (0, 0))[0],
        }
        for k, v in run.metrics.items()
    ]
    return {
        "info": run_info_json(run, artifact_root),
        "data": {
            "metrics": metrics,
            "params": key_values(run.params),
            "tags": key_values(run.tags),
        },
        "inputs": {
            "dataset_inputs": [_dataset_input(i) for i in run.inputs],
            "model_inputs": [{"model_id": x.model_id} for x in links if not x.is_output],
        },
        "outputs": {
            "model_outputs": [
                {"model_id": x.model_id, "step": x.step} for x in links if x.is_output
            ]
        },
    }


def _dataset_input(item: RunInput) -> dict[str, Any]:
    tags = [{"key": DATASET_CONTEXT_TAG, "value": item.context}] if item.context else []
    # mloop keeps a dataset's name, digest, source and context; MLflow's source type, schema
    # and profile are not stored (docs/mlflow-compatibility.md).
    return {
        "tags": tags,
        "dataset": {
            "name": item.name,
            "digest": item.digest,
            "source_type": "",
            "source": item.source,
        },
    }


def logged_model_json(model: LoggedModel, artifact_root: str) -> dict[str, Any]:
    """A `LoggedModel` message: info and data."""
    info: dict[str, Any] = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.created_at_ms,
        "last_updated_timestamp_ms": model.updated_at_ms,
        "artifact_uri": proxied_uri(model.artifact_location, artifact_root),
        "status": model.status.value,
        "tags": key_values(model.tags),
    }
    for name in ("source_run_id", "model_type", "status_message"):
        value = getattr(model, name)
        if value:
            info[name] = value
    metrics = [
        {
            key: value
            for key, value in (
                ("key", m.key),
                ("value", json_float(m.value)),
                ("timestamp", m.timestamp_ms),
                ("step", m.step),
                ("run_id", m.run_id or None),
                ("dataset_name", m.dataset_name or None),
                ("dataset_digest", m.dataset_digest or None),
                ("model_id", model.model_id),
            )
            if value is not None
        }
        for m in model.metrics
    ]
    return {
        "info": info,
        "data": {"params": key_values(model.params), "metrics": metrics},
    }
