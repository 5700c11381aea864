"""The LightGBM flavor: the booster in LightGBM's text model format, which holds data, not code.

A scikit-learn wrapper (`LGBMClassifier`, `LGBMRegressor`) is saved as its booster plus, for a
classifier, its class labels; loading gives the `Booster` back and answers `predict` and
`predict_proba` the way the wrapper does (labels are the class with the highest probability,
the first among ties). Saving and loading are shared with XGBoost (`boosters`). Needs the
`boosting` extra.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.errors import InvalidInputError
from mloop.models.flavors import Predictor, SavedFlavor, qualified_name
from mloop.models.flavors.boosters import NativeBooster, Prepared
from mloop.models.inputs import to_columns, to_matrix

if TYPE_CHECKING:
    from mloop.models.inputs import Columns
    from mloop.models.package import ModelPackage

MODEL_FILE = "model.txt"


class LightGBMPredictor:
    """A LightGBM booster answering like its scikit-learn wrapper.

    Args:
        booster: a `lightgbm.Booster`.
        classes: the class labels of a classifier, None for a regressor.
    """

    def __init__(self, booster: Any, classes: list[Any] | None) -> None:
        self.booster = booster
        self.classes = classes

    @property
    def model(self) -> Any:
        """The `lightgbm.Booster`."""
        return self.booster

    def has_method(self, method: str) -> bool:
        """`predict` always; `predict_proba` for classifiers."""
        return method == "predict" or (method == "predict_proba" and self.classes is not None)

    def run(self, method: str, columns: Columns | None, raw: Any) -> Any:
        """Predict on the columns (or the raw input's columns), in the booster's feature order."""
        import numpy as np

        if columns is None:
            columns = to_columns(raw)
        scores = np.asarray(self.booster.predict(to_matrix(columns)))
        if self.classes is None:
            return scores
        if scores.ndim == 1:  # binary: the probability of the second class
            scores = np.column_stack([1.0 - scores, scores])
        if method == "predict_proba":
            return scores
        return np.asarray(self.classes)[scores.argmax(axis=1)]


def _prepare(lightgbm: Any, model: Any) -> Prepared:
    if isinstance(model, lightgbm.Booster):
        booster, classes = model, None
    elif isinstance(model, lightgbm.LGBMModel):
        booster = model.booster_
        labels = getattr(model, "classes_", None)
        classes = (
            None if labels is None else [c.item() if hasattr(c, "item") else c for c in labels]
        )
    else:
        raise InvalidInputError(
            f"the lightgbm flavor saves LightGBM boosters and estimators, not "
            f"{qualified_name(type(model))}",
            field="model",
        )
    return Prepared(
        predictor=LightGBMPredictor(booster, classes),
        native=booster,
        options={"classes": classes},
        classes=classes,
    )


def _restore(lightgbm: Any, options: dict[str, Any], path: Path, where: str) -> LightGBMPredictor:
    del where
    return LightGBMPredictor(lightgbm.Booster(model_file=str(path)), options.get("classes"))


FLAVOR = NativeBooster("lightgbm", "LightGBM", MODEL_FILE, _prepare, _restore)


def save(
    model: Any,
    folder: Path,
    *,
    example: Columns | None,
    method: str,
    export_onnx: bool = True,
) -> SavedFlavor:
    """Write the booster as `model.txt` (and a classifier's labels into the options).

    Raises:
        InvalidInputError: the model is neither a LightGBM wrapper nor a `Booster`, or it
            cannot serve `method`.
    """
    return FLAVOR.save(model, folder, example=example, method=method, export_onnx=export_onnx)


def load(
    package: ModelPackage, *, trusted: bool = False, trusted_types: Iterable[str] = ()
) -> Predictor:
    """Load the booster from its text file (LightGBM's format holds no code)."""
    del trusted, trusted_types
    return FLAVOR.load(package)
