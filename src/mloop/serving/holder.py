"""A model version held hot for serving: loaded once (ONNX Runtime when verified), warmed, batched.

`load_version` reads a package folder, loads it with `mloop.models.load_package` (which prefers
the package's verified ONNX export, importing neither scikit-learn nor pandas on that path),
runs it on its input example, or on one synthetic row made from the signature, to pay one-time
costs and fit the batcher's latency model, then wraps it in a `Batcher`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mloop.serving.batcher import Batcher, BatchHook, BatchOptions

if TYPE_CHECKING:
    from mloop.models.inputs import Columns
    from mloop.models.loaded import LoadedModel
    from mloop.models.signature import Signature

# Flavors whose predict is a pure function of each row, so requests can share a call.
BATCHABLE_FLAVORS = frozenset({"sklearn", "xgboost", "lightgbm", "onnx"})
_EXAMPLE_VALUES = {
    "boolean": False,
    "integer": 0,
    "long": 0,
    "float": 0.0,
    "double": 0.0,
    "string": "",
}


@dataclass(slots=True)
class ServedVersion:
    """One model version ready to answer.

    Attributes:
        model: the registered model's name (or the package folder's name).
        version: the version number as text ("" for a package outside the registry).
        source: what was loaded (`runs:/...`, a folder).
        loaded: the loaded model.
        batcher: merges its concurrent requests.
    """

    model: str
    version: str
    source: str
    loaded: LoadedModel
    batcher: Batcher

    @property
    def label(self) -> str:
        """`name/version`, or the name alone outside the registry."""
        return f"{self.model}/{self.version}" if self.version else self.model

    @property
    def signature(self) -> Signature | None:
        """The input and output columns, when the package has a signature."""
        signature: Signature | None = self.loaded.signature
        return signature

    @property
    def method(self) -> str:
        """The method served (`predict` or `predict_proba`)."""
        return self.loaded.serve_method

    async def predict(self, columns: Columns, rows: int, *, tag: Any = None) -> Any:
        """Predictions for checked columns, batched with concurrent requests.

        `tag` reaches the batcher's result hook with these rows (the prediction log's request
        id and role).
        """
        return await self.batcher.predict(columns, rows, tag=tag)


def load_version(
    folder: str | os.PathLike[str],
    *,
    model: str,
    version: str = "",
    source: str = "",
    options: BatchOptions | None = None,
    trusted: bool = False,
    trusted_types: Iterable[str] = (),
    on_batch: BatchHook | None = None,
) -> ServedVersion:
    """Load, warm and wrap the package in `folder`.

    Args:
        folder: the local package folder.
        model: the name to report (the registered model's).
        version: the registry version ("" outside the registry).
        source: what the folder was resolved from, for reports.
        options: batching knobs; batching is turned off for flavors that are not batchable.
        trusted: allow pickled (pyfunc) models.
        trusted_types: extra skops types to trust.
        on_batch: metrics hook called after each batch.

    Raises:
        ModelPackageNotFoundError, InvalidModelPackageError, UntrustedModelError: as
            `load_package` raises them.
    """
    from dataclasses import replace

    from mloop.models.loaded import load_package

    # One ONNX Runtime thread: parallelism comes from worker processes (one per core).
    loaded = load_package(folder, trusted=trusted, trusted_types=trusted_types, onnx_threads=1)
    options = options or BatchOptions()
    if loaded.package.flavor not in BATCHABLE_FLAVORS:
        options = replace(options, enabled=False)
    method = loaded.serve_method
    signature = loaded.signature

    def run(columns: Columns) -> Any:
        return loaded.run_checked(method, columns)

    label = f"{model}/{version}" if version else model
    batcher = Batcher(run, name=label, options=options, on_batch=on_batch)
    served = ServedVersion(model, version, source or str(folder), loaded, batcher)
    example = warm_up_columns(loaded, signature)
    if example is not None:
        _warm(batcher, example, options)
    return served


def _warm(batcher: Batcher, example: Columns, options: BatchOptions) -> None:
    rows = len(next(iter(example.values())))
    batcher.warm(example, rows)
    bigger = max(2, min(options.max_batch_rows, 64))
    if options.enabled and rows < bigger:
        # A second size gives the latency model its slope (cost per row).
        tiled = {name: np.resize(values, bigger) for name, values in example.items()}
        batcher.warm(tiled, bigger)


def warm_up_columns(loaded: LoadedModel, signature: Signature | None) -> Columns | None:
    """Checked columns to warm the model with: its input example, else one synthetic row."""
    from mloop.models.inputs import check_columns

    if signature is None:
        return None
    example = loaded.package.input_example()
    if example is not None:
        try:
            return check_columns({n: example[n] for n in signature.input_names}, signature)
        except (KeyError, ValueError):
            pass  # an example that no longer fits the signature: fall back to a synthetic row
    row = {
        spec.name: np.asarray([_EXAMPLE_VALUES[spec.type]], dtype=spec.numpy_dtype)
        for spec in signature.inputs
    }
    return check_columns(row, signature)
