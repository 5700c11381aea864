"""The gate tests' world: generated churn-like data, real scikit-learn models, real stores.

Every model is a real package logged to a run and registered; every holdout is a real dataset
version; nothing stands in for the registry, the blob store or the model loader.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mloop.data.snapshots import snapshot
from mloop.entities import ModelVersion, RunInput
from mloop.models.saving import save_model
from mloop.storage.sql.store import SqlStore

FEATURES = ["x1", "x2", "x3"]


def make_frame(rows: int, *, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Features, a group column (the sensitive attribute) and a label that depends on x1-x3."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x1": rng.normal(shift, 1.0, rows),
            "x2": rng.normal(0.0, 1.0, rows),
            "x3": rng.normal(0.0, 1.0, rows),
            "group": rng.choice(["A", "B"], rows),
        }
    )
    frame["is_b"] = (frame["group"] == "B").astype(np.float64)
    logit = 2.0 * (frame["x1"] - shift) - 1.5 * frame["x2"] + 0.5 * frame["x3"]
    frame["label"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    frame["amount"] = 3.0 * frame["x1"] + frame["x2"] + rng.normal(0.0, 0.5, rows)
    return frame


@dataclass
class World:
    """A store with training and holdout data versions and helpers to register models."""

    store: SqlStore
    train: pd.DataFrame
    holdout: pd.DataFrame
    train_uri: str
    holdout_uri: str

    def register(
        self,
        model: Any,
        features: list[str],
        *,
        name: str = "churn",
        training: bool = True,
    ) -> ModelVersion:
        """Save, log and register a fitted model, its run consuming the training data."""
        run = self.store.runs.create("0", run_name="train")
        if training:
            version = snapshot(self.store, self.train, "churn-train").version
            self.store.runs.log_inputs(
                run.run_id,
                [RunInput(version.name, version.digest, version.uri, context="training")],
            )
        with tempfile.TemporaryDirectory() as folder:
            package = save_model(
                model,
                Path(folder) / "model",
                input_example=self.train[features].head(5),
                export_onnx=False,
            )
            self.store.artifacts.log_dir(run.run_id, Path(folder) / "model", "model")
        return self.store.registry.create_version(
            name,
            f"runs:/{run.run_id}/model",
            actor="ana",
            run_id=run.run_id,
            package_digest=package.digest,
            signature=package.signature.to_dict() if package.signature else None,
        )

    def dataset(self, frame: pd.DataFrame, name: str) -> str:
        """Version a frame as a dataset; returns its `datasets:/` URI."""
        return snapshot(self.store, frame, name).version.uri


def fit(frame: pd.DataFrame, features: list[str], *, labels: Any = None) -> Any:
    """A logistic regression on `features` (and `labels`, default the frame's)."""
    from sklearn.linear_model import LogisticRegression

    target = frame["label"] if labels is None else labels
    return LogisticRegression(max_iter=500).fit(frame[features], target)


def make_world(store: SqlStore) -> World:
    """A store holding the training split and a holdout split as dataset versions."""
    train = make_frame(800, seed=1)
    holdout = make_frame(500, seed=2)
    train_uri = snapshot(store, train, "churn-train").version.uri
    holdout_uri = snapshot(store, holdout, "churn-holdout").version.uri
    return World(store, train, holdout, train_uri, holdout_uri)


def policy_document(holdout: str, **gates: Any) -> dict[str, Any]:
    """A policy mapping as a YAML file would give it."""
    return {
        "version": 1,
        "holdout": holdout,
        "label": "label",
        "sensitive_attributes": ["group"],
        "gates": gates,
    }
