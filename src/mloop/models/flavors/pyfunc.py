"""The python-function flavor: any object with `predict`, saved with cloudpickle.

Loading a pickle runs whatever code it holds, so `load` refuses unless the caller passes
`trusted=True`. With a signature, the object's `predict` receives a pandas data frame of the
checked columns (as MLflow's pyfunc models do); without one, the input as given.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.errors import InvalidInputError, UnsupportedModelError, UntrustedModelError
from mloop.models.flavors import SavedFlavor, qualified_name
from mloop.models.requirements import pickle_modules

if TYPE_CHECKING:
    from mloop.models.inputs import Columns
    from mloop.models.package import ModelPackage

MODEL_FILE = "model.pkl"


class PyfuncPredictor:
    """Calls the object's methods with a data frame of the checked columns."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    @property
    def model(self) -> Any:
        """The unpickled object."""
        return self.obj

    def has_method(self, method: str) -> bool:
        """Whether the object has `method`."""
        return callable(getattr(self.obj, method, None))

    def run(self, method: str, columns: Columns | None, raw: Any) -> Any:
        """Call the object's method on a data frame of the columns (or on the raw input)."""
        return getattr(self.obj, method)(raw if columns is None else _frame(columns))


def _frame(columns: Columns) -> Any:
    import pandas as pd

    return pd.DataFrame(columns, copy=False)


def save(
    model: Any,
    folder: Path,
    *,
    example: Columns | None,
    method: str,
    export_onnx: bool = True,
) -> SavedFlavor:
    """Pickle the object with cloudpickle into `model.pkl`.

    Raises:
        InvalidInputError: the object has no `method`.
        UnsupportedModelError: cloudpickle cannot pickle it.
    """
    import cloudpickle  # type: ignore[import-untyped]

    del export_onnx  # arbitrary Python has no ONNX export
    if not callable(getattr(model, method, None)):
        raise InvalidInputError(
            f"{type(model).__name__} has no {method} method to serve", field="method"
        )
    try:
        data = cloudpickle.dumps(model)
    except Exception as exc:  # pickling fails with many exception types
        raise UnsupportedModelError(
            qualified_name(type(model)), f"cloudpickle cannot pickle it ({exc})"
        ) from exc
    (folder / MODEL_FILE).write_bytes(data)
    output = getattr(model, method)(_frame(example)) if example is not None else None
    classes = getattr(model, "classes_", None)
    return SavedFlavor(
        model_class=qualified_name(type(model)),
        modules=pickle_modules(data) | {"cloudpickle", "pandas"},
        options={"file": MODEL_FILE},
        output=output,
        output_names=[str(c) for c in classes]
        if method == "predict_proba" and classes is not None
        else None,
    )


def load(
    package: ModelPackage, *, trusted: bool = False, trusted_types: Iterable[str] = ()
) -> PyfuncPredictor:
    """Unpickle the object, only when `trusted` is True.

    Raises:
        UntrustedModelError: `trusted` is False.
    """
    del trusted_types
    path = package.path / MODEL_FILE
    if not trusted:
        raise UntrustedModelError(
            str(path),
            ["pickle"],
            "it is a python-function model saved with cloudpickle, and loading a pickle runs "
            "any code it holds; pass trusted=True to load_model if you trust whoever logged it",
        )
    import cloudpickle

    data = package.file(MODEL_FILE).read_bytes()
    return PyfuncPredictor(cloudpickle.loads(data))  # the caller opted in (trusted=True)
