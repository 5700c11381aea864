"""`save_model`: write a model package folder (flavor files, input example, `mloop-model.yaml`)."""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mloop.__about__ import __version__
from mloop.errors import AlreadyExistsError, InvalidInputError
from mloop.models.flavors import SavedFlavor, detect_flavor, flavor_module
from mloop.models.inputs import to_columns
from mloop.models.package import (
    EXAMPLE_FILE,
    FORMAT_VERSION,
    ModelPackage,
    describe_files,
    read_package,
    write_example,
    write_package_file,
)
from mloop.models.requirements import pinned_requirements
from mloop.models.signature import METHODS, Signature, infer_signature


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    flavor: str | None = None,
    signature: Signature | None = None,
    input_example: Any = None,
    method: str | None = None,
    export_onnx: bool = True,
    source_run: str = "",
) -> ModelPackage:
    """Write `model` as a model package into the new folder `path`.

    Args:
        model: a fitted scikit-learn estimator, an ONNX model (`onnx.ModelProto` or bytes), or
            any object with `predict` (saved with cloudpickle; loading it needs trust).
        path: the package folder; must not exist yet.
        flavor: `sklearn`, `xgboost`, `lightgbm`, `onnx` or `pyfunc`; detected by default.
        signature: the input/output columns; inferred from `input_example` when not given.
        input_example: a few rows of input (data frame, dict of columns, records or a 2-D
            array); stored in the package, used to infer the signature and to verify the
            ONNX export.
        method: the method to serve, `predict` (default) or `predict_proba`; overrides the
            signature's.
        export_onnx: try an ONNX export of scikit-learn models (verified on the example).
        source_run: `runs:/<run_id>/<path>` when the package belongs to a run.

    Returns:
        The written package.

    Raises:
        AlreadyExistsError: `path` exists.
        InvalidInputError: bad method, signature or example.
        UnsupportedModelError: no flavor can save the model.
        ModelInputError: the example has a column a signature cannot describe.
    """
    target = Path(path)
    if target.exists():
        raise AlreadyExistsError(
            f"cannot save a model package to {target}: it exists; pick a new folder"
        )
    serve = _method(method, signature)
    chosen = flavor or detect_flavor(model)
    module = flavor_module(chosen)
    example = to_columns(input_example, signature) if input_example is not None else None
    if signature is not None and example is not None:
        from mloop.models.inputs import check_columns

        example = check_columns(example, signature)
    # Write into a temporary sibling folder and rename it: a failed save leaves nothing behind.
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        saved: SavedFlavor = module.save(
            model, staging, example=example, method=serve, export_onnx=export_onnx
        )
        if example is not None:
            write_example(example, staging / EXAMPLE_FILE)
        final_signature = _final_signature(signature, example, saved, serve)
        metadata = _metadata(chosen, saved, final_signature, staging, source_run=source_run)
        write_package_file(staging, metadata)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return read_package(target)


def _method(method: str | None, signature: Signature | None) -> str:
    chosen = method or (signature.method if signature is not None else "predict")
    if chosen not in METHODS:
        raise InvalidInputError(
            f"method {chosen!r} cannot be served; use one of {', '.join(METHODS)}", field="method"
        )
    return chosen


def _final_signature(
    given: Signature | None, example: Any, saved: SavedFlavor, method: str
) -> Signature | None:
    if given is not None:
        return Signature(given.inputs, given.outputs, method)
    if example is None:
        return None
    return infer_signature(example, saved.output, method=method, output_names=saved.output_names)


def _metadata(
    flavor: str,
    saved: SavedFlavor,
    signature: Signature | None,
    folder: Path,
    *,
    source_run: str,
) -> dict[str, Any]:
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "format_version": FORMAT_VERSION,
        "flavor": flavor,
        "model_class": saved.model_class,
        "created_at": stamp,
        "mloop_version": __version__,
        "python_version": platform.python_version(),
        "source_run": source_run,
        "signature": signature.to_dict() if signature is not None else None,
        "input_example": EXAMPLE_FILE if (folder / EXAMPLE_FILE).is_file() else None,
        "requirements": pinned_requirements(saved.modules),
        "files": describe_files(folder),
        "flavor_options": saved.options,
        "onnx": saved.onnx.to_dict() if saved.onnx is not None else None,
    }
