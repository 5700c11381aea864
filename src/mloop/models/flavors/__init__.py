"""Model flavors: how each kind of model is saved into a package and run again.

Each flavor module (`sklearn`, `xgboost`, `lightgbm`, `onnx`, `pyfunc`) has
`save(model, folder, *, example, method, export_onnx) -> SavedFlavor` and
`load(package, *, trusted, trusted_types) -> Predictor`. A `Predictor` runs a method on
checked input columns (or on the raw input when the package has no signature). Flavor modules
are imported only when a package of that flavor is saved or loaded.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from mloop.errors import InvalidInputError, InvalidModelPackageError, UnsupportedModelError

if TYPE_CHECKING:
    from mloop.models.inputs import Columns
    from mloop.models.package import OnnxExport

FLAVORS = ("sklearn", "xgboost", "lightgbm", "onnx", "pyfunc")


@dataclass
class SavedFlavor:
    """What a flavor reports after writing its files.

    Attributes:
        model_class: the saved object's class, fully qualified.
        modules: the modules the model's code comes from (for pinned requirements).
        options: flavor-specific loading details for `mloop-model.yaml`.
        onnx: the ONNX export attempt, for flavors that try one.
        output: the served method's output on the input example (for the signature).
        output_names: names of a 2-D output's columns (a classifier's classes).
    """

    model_class: str
    modules: set[str] = field(default_factory=set)
    options: dict[str, Any] = field(default_factory=dict)
    onnx: OnnxExport | None = None
    output: Any = None
    output_names: list[str] | None = None


class Predictor(Protocol):
    """A loaded model that can run a method on input."""

    @property
    def model(self) -> Any:
        """The underlying object (an estimator, an ONNX Runtime session ...)."""

    def has_method(self, method: str) -> bool:
        """Whether `method` (`predict`, `predict_proba`) is available."""

    def run(self, method: str, columns: Columns | None, raw: Any) -> Any:
        """Run `method` on checked columns, or on `raw` input when there is no signature."""


def qualified_name(kind: type) -> str:
    """`module.QualName` of a class."""
    return f"{kind.__module__}.{kind.__qualname__}"


def detect_flavor(model: Any) -> str:
    """The flavor that saves `model`.

    XGBoost and LightGBM models (their scikit-learn wrappers too), scikit-learn estimators,
    ONNX models, else any object with `predict` (pyfunc).

    Raises:
        UnsupportedModelError: the object is none of these and has no `predict`.
    """
    modules = {kind.__module__.partition(".")[0] for kind in type(model).__mro__}
    for native in ("xgboost", "lightgbm"):  # before sklearn: their wrappers are estimators too
        if native in modules:
            return native
    if "sklearn" in modules and hasattr(model, "get_params"):
        return "sklearn"
    if "onnx" in modules and hasattr(model, "SerializeToString"):
        return "onnx"
    if callable(getattr(model, "predict", None)):
        return "pyfunc"
    raise UnsupportedModelError(
        qualified_name(type(model)),
        "it is not a scikit-learn estimator or an ONNX model and has no predict method",
    )


def flavor_module(name: str, *, path: str = "") -> ModuleType:
    """The module implementing a flavor.

    Raises:
        InvalidInputError: no such flavor (when saving).
        InvalidModelPackageError: no such flavor (when loading the package at `path`).
    """
    if name not in FLAVORS:
        problem = f"flavor {name!r} is not one of {', '.join(FLAVORS)}"
        if not path:
            raise InvalidInputError(problem, field="flavor")
        raise InvalidModelPackageError(path, f"{problem} (a newer mloop may know it)")
    return importlib.import_module(f"mloop.models.flavors.{name}")
