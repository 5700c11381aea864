"""What the gates look at: the model version loaded, the holdout read, the predictions made.

Models are materialised from the store into a temporary folder (or given by a `loader`, which
the client passes to use its package cache) and released when the validation ends.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mloop.errors import ArtifactNotFoundError, InvalidInputError, ModelPackageNotFoundError

if TYPE_CHECKING:
    import pandas as pd

    from mloop.entities import ModelVersion
    from mloop.gates.policy import Policy
    from mloop.models import LoadedModel
    from mloop.storage import Store

ModelLoader = Callable[["ModelVersion"], "LoadedModel"]
"""Loads the package of a model version, ready to predict."""

_RUNS = "runs:/"


@dataclass(frozen=True)
class Predictions:
    """A model's output on the holdout.

    Attributes:
        predicted: predicted labels (classification) or values (regression).
        probability: predicted probability of the positive label, when the model has one.
    """

    predicted: np.ndarray[Any, Any]
    probability: np.ndarray[Any, Any] | None


def store_loader(store: Store, stack: ExitStack, *, trusted: bool = False) -> ModelLoader:
    """A loader that downloads `runs:/` packages from `store` into folders `stack` removes.

    Args:
        store: the metadata store (artifacts are read through it).
        stack: closes (deletes) the temporary folders when the validation ends.
        trusted: allow loading pickled models.
    """
    from mloop.models import load_package

    def load(version: ModelVersion) -> LoadedModel:
        source = version.source
        if not source.startswith(_RUNS):
            return load_package(source.removeprefix("file://"), trusted=trusted)
        run_id, _, path = source[len(_RUNS) :].partition("/")
        folder = Path(tempfile.mkdtemp(prefix="mloop-gates-"))
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        try:
            fetched = store.artifacts.download(run_id, path.strip("/"), folder)
        except ArtifactNotFoundError as exc:
            raise ModelPackageNotFoundError(source) from exc
        return load_package(fetched, trusted=trusted)

    return load


def package_size(model: LoadedModel) -> int:
    """Bytes of every file in the model's package folder."""
    return sum(p.stat().st_size for p in Path(model.package.path).rglob("*") if p.is_file())


def feature_names(model: LoadedModel, frame: pd.DataFrame, policy: Policy) -> list[str]:
    """The columns the model takes: its signature's inputs, else every non-label column."""
    signature = model.signature
    if signature is not None:
        return list(signature.input_names)
    return [c for c in frame.columns if c != policy.label]


def predict(model: LoadedModel, frame: pd.DataFrame, policy: Policy) -> Predictions:
    """Predict the holdout (the columns the model takes).

    Raises:
        ModelInputError: the holdout does not fit the model's signature (the column is named).
    """
    features = frame[feature_names(model, frame, policy)]
    predicted = np.asarray(model.predict(features)).ravel()
    probability = None
    if policy.task == "classification" and model.has_method("predict_proba"):
        probability = _positive_column(model, np.asarray(model.predict_proba(features)), policy)
    return Predictions(predicted, probability)


def _positive_column(
    model: LoadedModel, table: np.ndarray[Any, Any], policy: Policy
) -> np.ndarray[Any, Any] | None:
    """The probability of the positive label, picked by the model's class order."""
    if table.ndim == 1:
        return table.astype(np.float64)
    classes = model.package.flavor_options.get("classes")
    if classes is None:
        classes = getattr(model.native, "classes_", None)
    if classes is not None:
        names = [str(c) for c in classes]
        wanted = str(policy.positive_label)
        if wanted in names and len(names) == table.shape[1]:
            return table[:, names.index(wanted)].astype(np.float64)
    if table.shape[1] == 2:
        return table[:, 1].astype(np.float64)
    return None


def labels(frame: pd.DataFrame, policy: Policy) -> np.ndarray[Any, Any]:
    """The holdout's label column.

    Raises:
        InvalidInputError: the holdout has no such column, or (classification) no row has the
            positive label.
    """
    if policy.label not in frame.columns:
        raise InvalidInputError(
            f"the holdout has no label column {policy.label!r} (it has {list(frame.columns)})",
            field="label",
        )
    values = frame[policy.label].to_numpy()
    if policy.task == "classification" and not np.any(values == policy.positive_label):
        seen = sorted({str(v) for v in values[:10_000]})[:10]
        raise InvalidInputError(
            f"positive_label {policy.positive_label!r} is not among the holdout's labels "
            f"({', '.join(seen)}); set positive_label in the policy",
            field="positive_label",
        )
    return values
