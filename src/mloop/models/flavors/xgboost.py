"""The XGBoost flavor: models in XGBoost's own UBJSON format, which holds data, never code.

The scikit-learn wrappers (`XGBClassifier`, `XGBRegressor`, `XGBRFClassifier`,
`XGBRFRegressor`) and plain `Booster`s are saved with `save_model` and loaded into a fresh
instance of the same class, chosen from a fixed list (a name read from the package never
imports anything else). Saving and loading are shared with LightGBM (`boosters`). Needs the
`boosting` extra.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.errors import InvalidInputError, InvalidModelPackageError
from mloop.models.flavors import Predictor, SavedFlavor, qualified_name
from mloop.models.flavors.boosters import NativeBooster, Prepared
from mloop.models.flavors.onnx_export import native_input
from mloop.models.inputs import to_columns, to_matrix

if TYPE_CHECKING:
    from mloop.models.inputs import Columns
    from mloop.models.package import ModelPackage

MODEL_FILE = "model.ubj"
WRAPPERS = ("XGBClassifier", "XGBRegressor", "XGBRFClassifier", "XGBRFRegressor", "Booster")


class XGBoostPredictor:
    """An XGBoost model fed a data frame (when fitted on one) or a matrix."""

    def __init__(self, model: Any, xgboost: Any) -> None:
        self._model = model
        self._xgboost = xgboost

    @property
    def model(self) -> Any:
        """The XGBoost model object."""
        return self._model

    def has_method(self, method: str) -> bool:
        """Whether the model has `method` (a `Booster` has `predict` only)."""
        return callable(getattr(self._model, method, None))

    def run(self, method: str, columns: Columns | None, raw: Any) -> Any:
        """Call the model's method on the columns (or on the raw input)."""
        if type(self._model).__name__ == "Booster":
            if columns is None:
                columns = to_columns(raw)
            names = list(columns) if self._model.feature_names is not None else None
            features = self._xgboost.DMatrix(to_matrix(columns), feature_names=names)
        else:
            features = raw if columns is None else native_input(self._model, columns)
        return getattr(self._model, method)(features)


def _prepare(xgboost: Any, model: Any) -> Prepared:
    wrapper = type(model).__name__
    if wrapper not in WRAPPERS or getattr(xgboost, wrapper, None) is not type(model):
        raise InvalidInputError(
            f"the xgboost flavor saves {', '.join(WRAPPERS)}, not {qualified_name(type(model))}",
            field="model",
        )
    classes = getattr(model, "classes_", None)
    return Prepared(
        predictor=XGBoostPredictor(model, xgboost),
        native=model,
        options={"wrapper": wrapper},
        classes=None if classes is None else list(classes),
    )


def _restore(xgboost: Any, options: dict[str, Any], path: Path, where: str) -> XGBoostPredictor:
    wrapper = options.get("wrapper")
    if wrapper not in WRAPPERS:
        raise InvalidModelPackageError(
            where, f"xgboost class {wrapper!r} is not one of {', '.join(WRAPPERS)}"
        )
    model = getattr(xgboost, wrapper)()
    model.load_model(str(path))
    return XGBoostPredictor(model, xgboost)


FLAVOR = NativeBooster("xgboost", "XGBoost", MODEL_FILE, _prepare, _restore)


def save(
    model: Any,
    folder: Path,
    *,
    example: Columns | None,
    method: str,
    export_onnx: bool = True,
) -> SavedFlavor:
    """Write `model.ubj` with the model's own `save_model`.

    Raises:
        InvalidInputError: the model is not one of the supported classes, or lacks `method`.
    """
    return FLAVOR.save(model, folder, example=example, method=method, export_onnx=export_onnx)


def load(
    package: ModelPackage, *, trusted: bool = False, trusted_types: Iterable[str] = ()
) -> Predictor:
    """Load the model into a fresh instance of its class (XGBoost's format holds no code).

    Raises:
        InvalidModelPackageError: the package names a class outside the supported list.
    """
    del trusted, trusted_types
    return FLAVOR.load(package)
