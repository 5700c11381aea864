"""Native gradient-boosting flavors (XGBoost, LightGBM): one saver and loader for both.

Both keep a model in the library's own file format (data, never code), so loading it never
unpickles anything and needs no trust, and neither is exported to ONNX (mloop exports
scikit-learn models). What differs by library, which objects it saves and how its file is read
back into a predictor, is a `NativeBooster`; the flavor modules `xgboost` and `lightgbm` each
define one. Both need the `boosting` extra.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.errors import InvalidInputError, MissingExtraError
from mloop.models.flavors import Predictor, SavedFlavor, qualified_name
from mloop.models.package import OnnxExport

if TYPE_CHECKING:
    from mloop.models.inputs import Columns
    from mloop.models.package import ModelPackage


@dataclass
class Prepared:
    """A model ready to be saved.

    Attributes:
        predictor: serves the model while saving (to run the input example).
        native: the object whose `save_model(path)` writes the library's file.
        options: flavor options beyond the file name, for `mloop-model.yaml`.
        classes: a classifier's class labels (names of `predict_proba`'s columns).
    """

    predictor: Predictor
    native: Any
    options: dict[str, Any] = field(default_factory=dict)
    classes: list[Any] | None = None


@dataclass(frozen=True)
class NativeBooster:
    """One boosting library as a flavor.

    Attributes:
        library: its import name (`xgboost`), also a module the package requires.
        label: its name in messages (`XGBoost`).
        model_file: the file the model is saved as.
        prepare: (library module, model) -> what to save; raises InvalidInputError for objects
            the flavor does not save.
        restore: (library module, flavor options, model file, package folder) -> predictor;
            raises InvalidModelPackageError for options it cannot honour.
    """

    library: str
    label: str
    model_file: str
    prepare: Callable[[Any, Any], Prepared]
    restore: Callable[[Any, dict[str, Any], Path, str], Predictor]

    def module(self) -> Any:
        """The library, imported.

        Raises:
            MissingExtraError: it is not installed.
        """
        import importlib

        try:
            return importlib.import_module(self.library)
        except ImportError as exc:
            raise MissingExtraError("boosting", self.library) from exc

    def save(
        self, model: Any, folder: Path, *, example: Columns | None, method: str, export_onnx: bool
    ) -> SavedFlavor:
        """Write the model file with the library's own `save_model`.

        Raises:
            InvalidInputError: the flavor does not save this object, or it lacks `method`.
        """
        prepared = self.prepare(self.module(), model)
        if not prepared.predictor.has_method(method):
            raise InvalidInputError(
                f"{type(model).__name__} has no {method} method to serve", field="method"
            )
        prepared.native.save_model(str(folder / self.model_file))
        output = prepared.predictor.run(method, example, None) if example is not None else None
        classes = prepared.classes
        return SavedFlavor(
            model_class=qualified_name(type(model)),
            modules={self.library, "numpy", "scipy"},
            options={"file": self.model_file, **prepared.options},
            onnx=OnnxExport(reason=f"mloop exports scikit-learn models to ONNX, not {self.label}'s")
            if export_onnx
            else None,
            output=output,
            output_names=[str(c) for c in classes]
            if method == "predict_proba" and classes is not None
            else None,
        )

    def load(self, package: ModelPackage) -> Predictor:
        """Read the model file back (the library's format holds no code: no trust needed).

        Raises:
            InvalidModelPackageError: the package's options do not fit this library.
        """
        options = package.flavor_options
        path = package.file(str(options.get("file", self.model_file)))
        return self.restore(self.module(), options, path, str(package.path))
