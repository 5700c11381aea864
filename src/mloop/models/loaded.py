"""`load_package` and the `LoadedModel` it returns: checked input, ONNX Runtime when verified.

A package with a verified ONNX export runs on ONNX Runtime; the native model (skops, pickle) is
then loaded only when something needs it (`native`, or a method the export lacks). On that path
a dict of columns or records goes through numpy and ONNX Runtime alone: neither pandas nor
scikit-learn is imported.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from typing import Any

from mloop.errors import InvalidInputError
from mloop.models.flavors import Predictor, flavor_module
from mloop.models.inputs import Columns, check_columns, to_columns
from mloop.models.package import ModelPackage, read_package


class LoadedModel:
    """A model package ready to predict.

    Args:
        package: the package read from disk.
        native: loads the flavor's own predictor (called at most once, when needed).
        onnx: the ONNX Runtime predictor of a verified export, when used.
    """

    def __init__(
        self,
        package: ModelPackage,
        *,
        native: Any,
        onnx: Predictor | None = None,
    ) -> None:
        self.package = package
        self._load_native = native
        self._native: Predictor | None = None
        self._onnx = onnx
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"LoadedModel(flavor={self.package.flavor!r}, class={self.package.model_class!r}, "
            f"backend={self.backend!r}, path={str(self.package.path)!r})"
        )

    @property
    def signature(self) -> Any:
        """The package's `Signature`, or None."""
        return self.package.signature

    @property
    def backend(self) -> str:
        """`onnx` when predictions run on ONNX Runtime, else `native`."""
        return "onnx" if self._onnx is not None else "native"

    @property
    def native(self) -> Any:
        """The flavor's own model object (an estimator, a session, the unpickled object)."""
        return self._native_predictor().model

    @property
    def serve_method(self) -> str:
        """The method the signature says to serve (`predict` without a signature)."""
        return self.signature.method if self.signature is not None else "predict"

    def predict(self, data: Any) -> Any:
        """Predictions for `data` (a data frame, dict of columns, records or a 2-D array).

        Raises:
            ModelInputError: a column is missing or has the wrong type (it is named).
        """
        return self._call("predict", data)

    def predict_proba(self, data: Any) -> Any:
        """Class probabilities for `data`, one column per class.

        Raises:
            InvalidInputError: the model has no `predict_proba`.
            ModelInputError: a column is missing or has the wrong type.
        """
        return self._call("predict_proba", data)

    def serve(self, data: Any) -> Any:
        """The output of the method the signature says to serve."""
        return self._call(self.serve_method, data)

    def has_method(self, method: str) -> bool:
        """Whether `method` is available (on ONNX Runtime or natively)."""
        if self._onnx is not None and self._onnx.has_method(method):
            return True
        return self._native_predictor().has_method(method)

    def run_checked(self, method: str, columns: Columns) -> Any:
        """Run `method` on columns already checked against the signature (`check_columns`).

        What a server calls after checking each request, so a merged batch is not checked twice.
        """
        return self._predictor(method).run(method, columns, None)

    def _call(self, method: str, data: Any) -> Any:
        predictor = self._predictor(method)
        signature = self.package.signature
        if signature is None:
            return predictor.run(method, None, data)
        return predictor.run(method, check_columns(to_columns(data, signature), signature), None)

    def _predictor(self, method: str) -> Predictor:
        if self._onnx is not None and self._onnx.has_method(method):
            return self._onnx
        native = self._native_predictor()
        if not native.has_method(method):
            raise InvalidInputError(
                f"the {self.package.flavor} model {self.package.model_class} has no {method}",
                field="method",
            )
        return native

    def _native_predictor(self) -> Predictor:
        if self._native is None:
            with self._lock:  # serving threads may all ask at once: load it once
                if self._native is None:
                    self._native = self._load_native()
        return self._native


def load_package(
    path: str | os.PathLike[str],
    *,
    trusted: bool = False,
    trusted_types: Iterable[str] = (),
    prefer_onnx: bool = True,
    onnx_threads: int | None = None,
) -> LoadedModel:
    """Load the model package in a local folder.

    Args:
        path: the package folder (holding `mloop-model.yaml`).
        trusted: allow loading a pickle (the pyfunc flavor), which runs code from the file.
        trusted_types: extra types a skops file may hold, beyond the curated scikit-learn list.
        prefer_onnx: run on the verified ONNX export when there is one.
        onnx_threads: ONNX Runtime's intra-op threads for the export (None: its default).

    Raises:
        ModelPackageNotFoundError: no package at `path`.
        InvalidModelPackageError: the package does not follow the format.
        CorruptModelPackageError: a file no longer matches its digest.
        UntrustedModelError: loading would need trust that was not given. When a verified ONNX
            export serves, the native model is loaded (and checked) only if it is needed.
    """
    package = read_package(path)
    module = flavor_module(package.flavor, path=str(package.path))
    types = tuple(trusted_types)

    def native() -> Predictor:
        predictor: Predictor = module.load(package, trusted=trusted, trusted_types=types)
        return predictor

    onnx = _verified_export(package, onnx_threads) if prefer_onnx else None
    if onnx is not None:
        return LoadedModel(package, native=native, onnx=onnx)
    loaded = LoadedModel(package, native=native)
    loaded._native_predictor()  # load now: errors belong to load time, not the first predict
    return loaded


def _verified_export(package: ModelPackage, threads: int | None = None) -> Predictor | None:
    """The ONNX Runtime predictor of the package's verified export, if it has one.

    Without onnxruntime installed the native model serves instead: the export is a speed-up,
    never a requirement.
    """
    from mloop.errors import MissingExtraError
    from mloop.models.flavors.onnx import OnnxPredictor, make_session

    export = package.onnx
    if export is None or not export.verified or not export.file:
        return None
    try:
        session = make_session(str(package.file(export.file)), threads=threads)
    except MissingExtraError:
        return None
    return OnnxPredictor(session, classes=package.flavor_options.get("classes"))
