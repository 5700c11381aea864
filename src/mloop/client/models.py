"""Fluent model API: `log_model` into the active run (optionally registering it), `load_model`.

`log_model` writes a model package (`mloop.models.save_model`) into the run's artifacts under
`<name>/`; `load_model` resolves `runs:/<run_id>/<path>`, `models:/NAME/3`, `models:/NAME@alias`,
`models:/NAME/latest` or a local folder to a package and loads it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.artifacts.paths import clean_relative_path
from mloop.client.active_run import is_active, require_run_id
from mloop.client.context import get_store, settings
from mloop.errors import AlreadyExistsError, InvalidInputError, ModelPackageNotFoundError
from mloop.models.package import PACKAGE_FILE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from mloop.entities import ModelVersion
    from mloop.models import LoadedModel, ModelPackage, Signature
    from mloop.storage import Store

RUNS_SCHEME = "runs:/"
MODELS_SCHEME = "models:/"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model logged into a run.

    Attributes:
        model_uri: `runs:/<run_id>/<artifact_path>`, what `load_model` and registration take.
        run_id: the run the package belongs to.
        artifact_path: the package's folder inside the run's artifacts.
        package: the package as written (its `digest`, `signature`, `onnx` result ...).
        registered_version: the registry version, when `registered_model_name` was given.
    """

    model_uri: str
    run_id: str
    artifact_path: str
    package: ModelPackage
    registered_version: ModelVersion | None = None


def log_model(
    model: Any,
    name: str = "model",
    *,
    signature: Signature | None = None,
    input_example: Any = None,
    registered_model_name: str | None = None,
    method: str | None = None,
    flavor: str | None = None,
    export_onnx: bool = True,
    run_id: str | None = None,
) -> ModelInfo:
    """Save `model` as a model package in the active run's artifacts, under `name/`.

    Args:
        model: a fitted scikit-learn estimator, an ONNX model, or any object with `predict`
            (pyfunc flavor; loading it later needs `trusted=True`).
        name: the artifact folder of the package (default "model").
        signature: input/output columns; inferred from `input_example` when not given.
        input_example: a few rows of input; stored, used for the signature and to verify the
            ONNX export of scikit-learn models.
        registered_model_name: also register the package as the next version of this model.
        method: the method to serve (`predict` or `predict_proba`).
        flavor: `sklearn`, `xgboost`, `lightgbm`, `onnx` or `pyfunc` (detected by default).
        export_onnx: try a verified ONNX export of scikit-learn models.
        run_id: log into this run instead of the active one (a run is started when none is
            active).

    Returns:
        Where the package went, the package, and the registered version if any.

    Raises:
        AlreadyExistsError: the run already has artifacts under `name`.
        InvalidInputError: bad name, method, signature or example (nothing is written).
        UnsupportedModelError: no flavor can save the model.
        ConfigurationError: registration was asked for but the registry is unavailable.
    """
    from mloop.models import save_model

    path = str(clean_relative_path(name))
    if path == ".":
        raise InvalidInputError("a model needs a non-empty artifact name", field="name")
    register = None
    if registered_model_name is not None:
        from mloop.entities.registry import validate_model_name

        validate_model_name(registered_model_name)  # before anything is written
        register = _registrar()
    target = require_run_id(run_id)
    store = get_store()
    if not is_active(target):
        store.runs.get(target)  # RunNotFoundError for a run that does not exist
    if store.artifacts.list(target, path):
        raise AlreadyExistsError(
            f"run {target} already has artifacts under {path!r}; log the model under another "
            "name (log_model(model, 'model_v2'))"
        )
    model_uri = f"{RUNS_SCHEME}{target}/{path}"
    cache = package_cache()
    staging = Path(tempfile.mkdtemp(prefix=".log-", dir=cache))
    try:
        package = save_model(
            model,
            staging / "package",
            flavor=flavor,
            signature=signature,
            input_example=input_example,
            method=method,
            export_onnx=export_onnx,
            source_run=model_uri,
        )
        store.artifacts.log_dir(target, package.path, path)
        key = store.artifacts.get(target, f"{path}/{PACKAGE_FILE}").digest
        package = replace(package, path=_keep(package.path, cache / key))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    version = None
    if register is not None and registered_model_name is not None:
        version = register(
            model_uri,
            registered_model_name,
            package_digest=package.digest,
            signature=package.signature.to_dict() if package.signature is not None else None,
        )
    return ModelInfo(model_uri, target, path, package, version)


def _registrar() -> Callable[..., ModelVersion]:
    try:
        from mloop.client.registry import register_model
    except ImportError as exc:  # pragma: no cover - the registry ships with this package
        from mloop.errors import ConfigurationError

        raise ConfigurationError(
            "registered_model_name needs the model registry, which this mloop does not have; "
            "log the model without it"
        ) from exc
    return register_model


def package_cache() -> Path:
    """The local folder where packages of runs are materialised for loading.

    Under the mloop home (`.mloop/cache/models/`), one folder per package, named by the
    artifact digest of its `mloop-model.yaml`: the same package is fetched once, and since that
    file pins every other file's digest (checked on load), a folder can never hold another
    package's files.
    """
    folder = settings().home / "cache" / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep(staged: Path, final: Path) -> Path:
    """Move a complete package folder into the cache (another process may have put it there)."""
    try:
        os.replace(staged, final)
    except OSError:
        if not (final / PACKAGE_FILE).is_file():
            raise
    return final


def load_model(
    model_uri: str | os.PathLike[str],
    *,
    trusted: bool = False,
    trusted_types: Iterable[str] = (),
    prefer_onnx: bool = True,
) -> LoadedModel:
    """Load a model package by URI and get it ready to predict.

    Args:
        model_uri: `runs:/<run_id>/<path>`, `models:/NAME/3`, `models:/NAME@alias`,
            `models:/NAME/latest`, or a local package folder.
        trusted: allow loading a pickle (pyfunc models), which runs code from the file.
        trusted_types: extra types a skops file may hold beyond the curated scikit-learn list.
        prefer_onnx: run on the package's verified ONNX export when it has one.

    Returns:
        A `LoadedModel`: `predict`, `predict_proba`, `serve`, `signature`, `package`.

    Raises:
        InvalidModelReferenceError: a malformed `models:/` URI.
        InvalidInputError: a malformed `runs:/` URI.
        RunNotFoundError, ModelNotFoundError, ModelVersionNotFoundError, AliasNotFoundError:
            nothing matches.
        ModelPackageNotFoundError: the place holds no model package.
        UntrustedModelError: loading needs trust that was not given.
    """
    from mloop.models import load_package

    folder = resolve_package_folder(model_uri)
    return load_package(
        folder, trusted=trusted, trusted_types=trusted_types, prefer_onnx=prefer_onnx
    )


def resolve_package_folder(model_uri: str | os.PathLike[str]) -> Path:
    """The local folder of the package a URI names (see `load_model`).

    Raises:
        InvalidInputError, InvalidModelReferenceError: malformed URI.
        NotFoundError: no such run, model, version, alias or package.
    """
    uri = os.fspath(model_uri)
    if uri.startswith(MODELS_SCHEME):
        from mloop.registry import resolve

        version = resolve(get_store().registry, uri)
        return resolve_package_folder(version.source)
    if uri.startswith(RUNS_SCHEME):
        run_id, _, path = uri[len(RUNS_SCHEME) :].partition("/")
        if not run_id or not path.strip("/"):
            raise InvalidInputError(
                f"model URI {uri!r} must look like runs:/<run_id>/<artifact path>, e.g. "
                "runs:/0123abcd.../model",
                field="model_uri",
            )
        return _run_package(get_store(), run_id, str(clean_relative_path(path.strip("/"))), uri)
    if uri.startswith("file://"):
        uri = uri.removeprefix("file://")
    return Path(uri)


def _run_package(store: Store, run_id: str, path: str, uri: str) -> Path:
    """Materialise a run's package into the cache (hard links where the blobs are local)."""
    store.runs.get(run_id)  # RunNotFoundError
    entries = store.artifacts.list_files(run_id, path)
    manifest = next((e for e in entries if e.path == f"{path}/{PACKAGE_FILE}"), None)
    if manifest is None:
        raise ModelPackageNotFoundError(uri)
    cache = package_cache()
    folder = cache / manifest.digest
    if (folder / PACKAGE_FILE).is_file():
        return folder
    staging = Path(tempfile.mkdtemp(prefix=".load-", dir=cache))
    try:
        fetched = store.artifacts.download(run_id, path, staging, link=True)
        return _keep(fetched, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
