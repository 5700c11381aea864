"""The XGBoost flavor: models in XGBoost's own UBJSON format, which holds data, never code.

The scikit-learn wrappers (`XGBClassifier`, `XGBRegressor`, `XGBRFClassifier`,
`XGBRFRegressor`) and plain `Booster`s are saved with `save_model` and loaded into a fresh
instance of the same class, chosen from a fixed list (a name read from the package never
imports anything else). Needs the `boosting` extra.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.errors import InvalidInputError, InvalidModelPackageError, MissingExtraError
from mloop.models.flavors import SavedFlavor, qualified_name
from mloop.models.flavors.onnx_export import native_input
from mloop.models.inputs import to_columns, to_matrix
from mloop.models.package import OnnxExport

if TYPE_CHECKING:
    from mloop.models.inputs import Columns
    from mloop.models.package import ModelPackage

MODEL_FILE = "model.ubj"
WRAPPERS = ("XGBClassifier", "XGBRegressor", "XGBRFClassifier", "XGBRFRegressor", "Booster")


def _xgboost() -> Any:
    try:
        import xgboost
    except ImportError as exc:
        raise MissingExtraError("boosting", "xgboost") from exc
    return xgboost


class XGBoostPredictor:
    """An XGBoost model fed a data frame (when fitted on one) or a matrix."""

    def __init__(self, model: Any) -> None:
        self._model = model

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
            features = _xgboost().DMatrix(to_matrix(columns), feature_names=names)
        else:
            features = raw if columns is None else native_input(self._model, columns)
        return getattr(self._model, method)(features)


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
    xgboost = _xgboost()
    wrapper = type(model).__name__
    if wrapper not in WRAPPERS or getattr(xgboost, wrapper, None) is not type(model):
        raise InvalidInputError(
            f"the xgboost flavor saves {', '.join(WRAPPERS)}, not {qualified_name(type(model))}",
            field="model",
        )
    predictor = XGBoostPredictor(model)
    if not predictor.has_method(method):
        raise InvalidInputError(f"{wrapper} has no {method} method to serve", field="method")
    model.save_model(str(folder / MODEL_FILE))
    output = predictor.run(method, example, None) if example is not None else None
    classes = getattr(model, "classes_", None)
    return SavedFlavor(
        model_class=qualified_name(type(model)),
        modules={"xgboost", "numpy", "scipy"},
        options={"file": MODEL_FILE, "wrapper": wrapper},
        onnx=OnnxExport(reason="mloop exports scikit-learn models to ONNX, not XGBoost's")
        if export_onnx
        else None,
        output=output,
        output_names=[str(c) for c in classes]
        if method == "predict_proba" and classes is not None
        else None,
    )


def load(
    package: ModelPackage, *, trusted: bool = False, trusted_types: Iterable[str] = ()
) -> XGBoostPredictor:
    """Load the model into a fresh instance of its class (XGBoost's format holds no code).

    Raises:
        InvalidModelPackageError: the package names a class outside the supported list.
    """
    del trusted, trusted_types
    xgboost = _xgboost()
    wrapper = package.flavor_options.get("wrapper")
    if wrapper not in WRAPPERS:
        raise InvalidModelPackageError(
            str(package.path), f"xgboost class {wrapper!r} is not one of {', '.join(WRAPPERS)}"
        )
    model = getattr(xgboost, wrapper)()
    model.load_model(str(package.file(str(package.flavor_options.get("file", MODEL_FILE)))))
    return XGBoostPredictor(model)
