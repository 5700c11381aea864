"""The model package format: a folder with `mloop-model.yaml` and the flavor's files.

```yaml
format_version: 1
flavor: sklearn                  # how to load: mloop.models.flavors.<flavor>
model_class: sklearn.ensemble._forest.RandomForestClassifier
created_at: '2026-11-27T05:40:00.123Z'
mloop_version: 0.1.0
python_version: 3.11.9
source_run: runs:/<run_id>/model # when logged from a run
signature: {method: predict, inputs: [{name: a, type: double}], outputs: [...]}
input_example: input_example.json
requirements: [numpy==2.4.6, scikit-learn==1.9.1, skops==0.16.0]
files: {model.skops: {sha256: ..., size: 123}, ...}
flavor_options: {...}            # what the flavor needs to load (e.g. trusted types)
onnx: {file: model.onnx, verified: true, opset: {...}, max_abs_diff: ..., ...}
```

Every file's SHA-256 is recorded; the package digest is the SHA-256 of `mloop-model.yaml`
itself, so it covers every file.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.errors import (
    CorruptModelPackageError,
    InvalidModelPackageError,
    ModelPackageNotFoundError,
)
from mloop.models.signature import Signature

if TYPE_CHECKING:
    from mloop.models.inputs import Columns

PACKAGE_FILE = "mloop-model.yaml"
EXAMPLE_FILE = "input_example.json"
FORMAT_VERSION = 1
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class OnnxExport:
    """What happened when the model was exported to ONNX and checked against the native model.

    Attributes:
        file: the ONNX file in the package ("" when there is none).
        verified: the export agreed with the native model on the input example; only a
            verified export is used for prediction.
        reason: why there is no verified export ("" when there is one).
        opset: the opsets the export targets, by domain.
        compared: the native method the export was compared with.
        rows: how many example rows were compared.
        max_abs_diff: the largest absolute difference seen.
        tolerance: the largest difference accepted.
        labels_match: predicted labels were identical (classifiers).
    """

    file: str = ""
    verified: bool = False
    reason: str = ""
    opset: dict[str, int] = field(default_factory=dict)
    compared: str = ""
    rows: int = 0
    max_abs_diff: float | None = None
    tolerance: float | None = None
    labels_match: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for `mloop-model.yaml`."""
        return {
            "file": self.file,
            "verified": self.verified,
            "reason": self.reason,
            "opset": dict(self.opset),
            "compared": self.compared,
            "rows": self.rows,
            "max_abs_diff": self.max_abs_diff,
            "tolerance": self.tolerance,
            "labels_match": self.labels_match,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OnnxExport:
        """Read the form `to_dict` writes."""
        return cls(
            file=str(data.get("file") or ""),
            verified=bool(data.get("verified")),
            reason=str(data.get("reason") or ""),
            opset={str(k): int(v) for k, v in (data.get("opset") or {}).items()},
            compared=str(data.get("compared") or ""),
            rows=int(data.get("rows") or 0),
            max_abs_diff=data.get("max_abs_diff"),
            tolerance=data.get("tolerance"),
            labels_match=data.get("labels_match"),
        )


@dataclass(frozen=True, slots=True)
class ModelPackage:
    """A model package on disk, as described by its `mloop-model.yaml`.

    Attributes:
        path: the package folder.
        flavor: `sklearn`, `xgboost`, `lightgbm`, `onnx` or `pyfunc`.
        model_class: the saved object's class, fully qualified.
        created_at: ISO-8601 UTC time of saving.
        mloop_version: the mloop that wrote it.
        python_version: the Python that wrote it.
        source_run: `runs:/<run_id>/<path>` when logged from a run, else "".
        signature: the input and output columns and the method to serve, when known.
        has_input_example: `input_example.json` is in the package.
        requirements: pinned `distribution==version` lines the model needs.
        files: per file, its `sha256` and `size`.
        flavor_options: flavor-specific loading details.
        onnx: the ONNX export and its verification, when the flavor tried one.
        digest: SHA-256 of `mloop-model.yaml` (which holds every file's digest).
    """

    path: Path
    flavor: str
    model_class: str
    created_at: str
    mloop_version: str
    python_version: str
    source_run: str
    signature: Signature | None
    has_input_example: bool
    requirements: list[str]
    files: dict[str, dict[str, Any]]
    flavor_options: dict[str, Any]
    onnx: OnnxExport | None
    digest: str

    def file(self, name: str, *, verify: bool = True) -> Path:
        """The path of a package file, after checking it against its recorded digest.

        Raises:
            InvalidModelPackageError: the package lists no such file.
            CorruptModelPackageError: the file is missing or its content changed.
        """
        recorded = self.files.get(name)
        if recorded is None:
            raise InvalidModelPackageError(str(self.path), f"it lists no file {name!r}")
        target = self.path / name
        if verify and (not target.is_file() or file_sha256(target) != recorded.get("sha256")):
            raise CorruptModelPackageError(str(self.path), name)
        return target

    def input_example(self) -> Columns | None:
        """The input example's columns, or None when the package has none."""
        if not self.has_input_example:
            return None
        return read_example(self.file(EXAMPLE_FILE))


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def describe_files(folder: Path) -> dict[str, dict[str, Any]]:
    """`{relative path: {sha256, size}}` of every file under `folder` but `mloop-model.yaml`."""
    described: dict[str, dict[str, Any]] = {}
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = file.relative_to(folder).as_posix()
        if name != PACKAGE_FILE:
            described[name] = {"sha256": file_sha256(file), "size": file.stat().st_size}
    return described


def write_example(columns: Columns, path: Path) -> None:
    """Write example columns as JSON in the `split` layout: `{"columns": [...], "data": rows}`."""
    names = list(columns)
    rows = list(zip(*(columns[n].tolist() for n in names), strict=True))
    path.write_text(json.dumps({"columns": names, "data": rows}), encoding="utf-8")


def read_example(path: Path) -> Columns:
    """Read an example written by `write_example` back into columns."""
    import numpy as np

    from mloop.models.inputs import to_columns

    data = json.loads(path.read_text(encoding="utf-8"))
    names = [str(n) for n in data["columns"]]
    rows = data["data"]
    return to_columns({n: np.asarray([r[i] for r in rows]) for i, n in enumerate(names)})


def write_package_file(folder: Path, metadata: dict[str, Any]) -> None:
    """Write `mloop-model.yaml` (atomically: a temporary file, then a rename)."""
    import yaml

    target = folder / PACKAGE_FILE
    temporary = folder / f".{PACKAGE_FILE}.tmp"
    temporary.write_text(yaml.safe_dump(metadata, sort_keys=False), encoding="utf-8")
    os.replace(temporary, target)


def read_package(path: str | os.PathLike[str]) -> ModelPackage:
    """Read a package's `mloop-model.yaml` (nothing is loaded or imported from the model).

    Raises:
        ModelPackageNotFoundError: there is no `mloop-model.yaml` at `path`.
        InvalidModelPackageError: the file does not follow the format.
    """
    import yaml

    folder = Path(path)
    source = folder / PACKAGE_FILE
    if not source.is_file():
        raise ModelPackageNotFoundError(str(folder))
    raw = source.read_bytes()
    try:
        data = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise InvalidModelPackageError(str(folder), f"{PACKAGE_FILE} is not YAML ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("flavor"), str):
        raise InvalidModelPackageError(str(folder), f"{PACKAGE_FILE} names no flavor")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise InvalidModelPackageError(
            str(folder),
            f"format_version is {version!r}, this mloop reads {FORMAT_VERSION}; upgrade mloop",
        )
    return _package_from(folder, data, hashlib.sha256(raw).hexdigest())


def _package_from(folder: Path, data: dict[str, Any], digest: str) -> ModelPackage:
    try:
        signature = Signature.from_dict(data["signature"]) if data.get("signature") else None
        onnx = OnnxExport.from_dict(data["onnx"]) if data.get("onnx") else None
        files = {str(k): dict(v) for k, v in (data.get("files") or {}).items()}
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidModelPackageError(str(folder), str(exc)) from exc
    return ModelPackage(
        path=folder,
        flavor=data["flavor"],
        model_class=str(data.get("model_class", "")),
        created_at=str(data.get("created_at", "")),
        mloop_version=str(data.get("mloop_version", "")),
        python_version=str(data.get("python_version", "")),
        source_run=str(data.get("source_run") or ""),
        signature=signature,
        has_input_example=data.get("input_example") == EXAMPLE_FILE,
        requirements=[str(r) for r in data.get("requirements") or []],
        files=files,
        flavor_options=dict(data.get("flavor_options") or {}),
        onnx=onnx,
        digest=digest,
    )
