"""The scikit-learn flavor: skops files loaded with a curated allow-list, plus an ONNX export.

skops stores an estimator as data and refuses, on load, every type it was not told to trust.
skops itself trusts scikit-learn's public estimators and numpy/scipy basics; `TRUSTED_TYPES`
adds the few scikit-learn internals that fitted estimators hold (tree structures, distance
metrics, optimizers ...). Anything else a file asks for, a function such as `os.system` in a
`FunctionTransformer` say, is refused with an error naming it, unless the caller names it in
`trusted_types`. What the file lists is never trusted wholesale.

Tree structures index their own arrays without bounds checks when predicting, so a crafted
file could make scikit-learn read out of bounds: they are trusted because every loaded tree is
checked first (`sklearn_checks`). The neighbours' KD and ball trees are not checked and not on
the list: such models load only with `trusted_types` naming them (or use `algorithm="brute"`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.errors import InvalidInputError, MissingExtraError, UnsupportedModelError
from mloop.models.flavors import SavedFlavor, qualified_name
from mloop.models.flavors.onnx_export import ONNX_FILE, class_labels, export, native_input
from mloop.models.package import OnnxExport
from mloop.models.signature import infer_signature

if TYPE_CHECKING:
    from mloop.models.inputs import Columns
    from mloop.models.package import ModelPackage

MODEL_FILE = "model.skops"

TRUSTED_TYPES = frozenset(
    {
        "functools.partial",  # what it wraps is checked on its own
        "numpy.dtype",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.metrics._dist_metrics.ChebyshevDistance64",
        "sklearn.metrics._dist_metrics.EuclideanDistance64",
        "sklearn.metrics._dist_metrics.ManhattanDistance64",
        "sklearn.metrics._dist_metrics.MinkowskiDistance64",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
        "sklearn.tree._tree.Tree",
        "sklearn.utils._bunch.Bunch",
        "sklearn.utils.validation.check_array",
    }
)


def _skops() -> Any:
    try:
        import skops.io
    except ImportError as exc:
        raise MissingExtraError("sklearn", "skops") from exc
    return skops.io


class SklearnPredictor:
    """A scikit-learn estimator fed the way it was fitted (a data frame or a matrix)."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    @property
    def model(self) -> Any:
        """The estimator."""
        return self.estimator

    def has_method(self, method: str) -> bool:
        """Whether the estimator has `method`."""
        return callable(getattr(self.estimator, method, None))

    def run(self, method: str, columns: Columns | None, raw: Any) -> Any:
        """Call the estimator's method on the columns (or on the raw input)."""
        features = raw if columns is None else native_input(self.estimator, columns)
        return getattr(self.estimator, method)(features)


def save(
    model: Any,
    folder: Path,
    *,
    example: Columns | None,
    method: str,
    export_onnx: bool = True,
) -> SavedFlavor:
    """Write `model.skops` and, with an example, a verified `model.onnx`.

    Raises:
        UnsupportedModelError: the estimator is not fitted or skops cannot save it.
        InvalidInputError: the estimator has no `method`.
    """
    _check_fitted(model)
    if not callable(getattr(model, method, None)):
        raise InvalidInputError(
            f"{type(model).__name__} has no {method} method to serve", field="method"
        )
    sio = _skops()
    path = folder / MODEL_FILE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # skops warns about its own format internals
            sio.dump(model, path)
    except Exception as exc:  # skops raises anything it cannot persist
        raise UnsupportedModelError(
            qualified_name(type(model)), f"skops cannot save it ({exc}); use the pyfunc flavor"
        ) from exc
    output = None
    onnx: OnnxExport | None = None
    if example is not None:
        output = getattr(model, method)(native_input(model, example))
        if export_onnx:
            data, onnx = export(model, example, infer_signature(example))
            if data is not None:
                (folder / ONNX_FILE).write_bytes(data)
    elif export_onnx:
        onnx = OnnxExport(reason="no input example to verify an export against")
    modules = estimator_modules(model) | {"skops", "numpy", "scipy"}
    if onnx is not None and onnx.verified:
        modules.add("onnxruntime")
    untrusted = sorted(set(sio.get_untrusted_types(file=path)) - TRUSTED_TYPES)
    options: dict[str, Any] = {"file": MODEL_FILE, "needs_trusted_types": untrusted}
    if onnx is not None and onnx.verified:
        options["classes"] = class_labels(model)
    return SavedFlavor(
        model_class=qualified_name(type(model)),
        modules=modules,
        options=options,
        onnx=onnx,
        output=output,
        output_names=_class_names(model) if method == "predict_proba" else None,
    )


def _check_fitted(model: Any) -> None:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except (NotFittedError, TypeError) as exc:
        raise UnsupportedModelError(
            qualified_name(type(model)), "it is not fitted; fit it before logging it"
        ) from exc


def _class_names(model: Any) -> list[str] | None:
    classes = getattr(model, "classes_", None)
    return None if classes is None else [str(c) for c in classes]


def estimator_modules(model: Any) -> set[str]:
    """The modules of the estimator's class and of every nested estimator or function."""
    modules = {type(model).__module__}
    params = model.get_params(deep=True) if hasattr(model, "get_params") else {}
    for value in _flatten(params.values()):
        if callable(value) or hasattr(value, "get_params"):
            module = getattr(value, "__module__", None) or type(value).__module__
            modules.add(module)
    return modules


def _flatten(values: Iterable[Any]) -> Iterable[Any]:
    for value in values:
        if isinstance(value, list | tuple):
            yield from _flatten(value)
        else:
            yield value


def load(
    package: ModelPackage, *, trusted: bool = False, trusted_types: Iterable[str] = ()
) -> SklearnPredictor:
    """Load the estimator, trusting only `TRUSTED_TYPES` and the caller's `trusted_types`.

    `trusted=True` does not widen what skops trusts: it is the opt-in for pickles.

    Raises:
        UntrustedModelError: the file needs types outside the allow-list (they are named).
        InvalidModelPackageError: a tree structure's indices point outside it.
    """
    from mloop.errors import UntrustedModelError

    del trusted
    sio = _skops()
    path = package.file(str(package.flavor_options.get("file", MODEL_FILE)))
    needed = sio.get_untrusted_types(file=path)
    allowed = TRUSTED_TYPES | set(trusted_types)
    refused = sorted(t for t in needed if t not in allowed)
    if refused:
        raise UntrustedModelError(
            str(path),
            refused,
            "if you trust whoever logged the model, name these types in "
            f"load_model(..., trusted_types={refused!r})",
        )
    from mloop.models.flavors.sklearn_checks import check_trees

    estimator = sio.load(path, trusted=list(needed))
    check_trees(estimator, str(path))
    return SklearnPredictor(estimator)
