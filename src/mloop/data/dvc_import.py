"""Importing a DVC repository's tracked data as dataset versions, without DVC installed.

What is read, as DVC 2 and 3 write it:

- `*.dvc` files: YAML with `outs: [{path, md5, size, nfiles?, hash?}]`, paths relative to the
  `.dvc` file's folder;
- `dvc.lock`: YAML with `stages: {NAME: {outs: [...]}}`, paths relative to its folder;
- the local cache: `.dvc/cache/files/md5/ab/cdef...` (DVC 3, entries with `hash: md5`) or
  `.dvc/cache/ab/cdef...` (DVC 2 hashes); a folder is an `md5` ending in `.dir` whose cache file
  is JSON, a list of `{"md5": ..., "relpath": ...}`.

Each output becomes the next version of a dataset named after its path (`data/raw` ->
`data-raw`), unless its content equals the latest version. The bytes are copied into the blob
store (DVC's md5 names are not kept: blobs are BLAKE3-addressed); an output whose cache entries
are missing (never pulled) is skipped and reported, not half-imported.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from mloop.data.manifests import manifest_digest
from mloop.data.progress import NoProgress, Progress
from mloop.data.snapshots import AddResult, blob_store_of
from mloop.entities.datasets import (
    DatasetKind,
    ManifestEntry,
    NewVersion,
    validate_manifest_path,
)
from mloop.errors import DvcImportError, InvalidInputError
from mloop.storage import Store

if TYPE_CHECKING:
    from mloop.artifacts import BlobStore

_MD5 = re.compile(r"^[0-9a-f]{32}$")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.\-]+")
_SKIPPED_DIRS = frozenset({".dvc", ".git", ".mloop", "node_modules"})


@dataclass(frozen=True, slots=True)
class DvcOutput:
    """One output DVC tracks.

    Attributes:
        path: its path relative to the repository root (POSIX).
        md5: DVC's hash (ending in `.dir` for a folder).
        legacy: True for a DVC 2 hash (no `hash: md5` field), kept in the old cache layout.
        origin: the `.dvc` or `dvc.lock` file that declares it.
    """

    path: str
    md5: str
    legacy: bool
    origin: str

    @property
    def is_dir(self) -> bool:
        """True when the output is a folder."""
        return self.md5.endswith(".dir")


@dataclass(frozen=True, slots=True)
class DvcImportResult:
    """What an import did.

    Attributes:
        imported: (dataset name, output, result) per imported output.
        skipped: (output path, reason) per output that could not be imported.
    """

    imported: tuple[tuple[str, DvcOutput, AddResult], ...]
    skipped: tuple[tuple[str, str], ...]


def find_outputs(repo: str | os.PathLike[str]) -> list[DvcOutput]:
    """Every output declared by the repository's `.dvc` files and `dvc.lock` files.

    Raises:
        DvcImportError: the folder is not a DVC repository, or a file is not valid DVC YAML.
    """
    root = Path(repo).absolute()
    if not (root / ".dvc").is_dir():
        raise DvcImportError(str(root), "no .dvc folder there; give the root of a DVC repository")
    outputs: list[DvcOutput] = []
    for path in _dvc_files(root):
        base = path.parent.relative_to(root)
        for out in _outs_of(path):
            outputs.append(_output(root, base, out, path))
    return sorted(outputs, key=lambda o: o.path)


def _dvc_files(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith(".dvc") or name == "dvc.lock":
                yield Path(folder) / name


def _outs_of(path: Path) -> list[dict[str, Any]]:
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        raise DvcImportError(str(path), f"not readable YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise DvcImportError(str(path), "expected a YAML mapping")
    if path.name == "dvc.lock":
        stages = document.get("stages") or {}
        if not isinstance(stages, dict):
            raise DvcImportError(str(path), "'stages' is not a mapping")
        outs = [o for stage in stages.values() for o in (stage or {}).get("outs") or []]
    else:
        outs = document.get("outs") or []
    if not isinstance(outs, list) or not all(isinstance(o, dict) for o in outs):
        raise DvcImportError(str(path), "'outs' is not a list of mappings")
    return outs


def _output(root: Path, base: Path, out: dict[str, Any], origin: Path) -> DvcOutput:
    where = str(origin.relative_to(root))
    md5 = str(out.get("md5") or "")
    rel = out.get("path")
    if not isinstance(rel, str) or not _MD5.match(md5.removesuffix(".dir")):
        raise DvcImportError(where, f"output {rel!r} lacks a path or an md5 hash: {out!r}")
    joined = os.path.normpath(base / rel).replace(os.sep, "/")
    if joined.startswith("../") or joined == ".." or os.path.isabs(joined):
        raise DvcImportError(where, f"output path {rel!r} leaves the repository")
    return DvcOutput(joined, md5, out.get("hash") != "md5", where)


def cache_file(repo: Path, md5: str, *, legacy: bool) -> Path | None:
    """The cache file of an md5 (DVC 3 layout first unless legacy), or None when absent."""
    cache = repo / ".dvc" / "cache"
    new = cache / "files" / "md5" / md5[:2] / md5[2:]
    old = cache / md5[:2] / md5[2:]
    for candidate in (old, new) if legacy else (new, old):
        if candidate.is_file():
            return candidate
    return None


def _dir_entries(repo: Path, output: DvcOutput) -> list[tuple[str, Path]]:
    """(relative path, cache file) of each file of a folder output."""
    listing = cache_file(repo, output.md5, legacy=output.legacy)
    if listing is None:
        raise FileNotFoundError(f"the folder listing {output.md5} is not in the cache")
    try:
        items = json.loads(listing.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise DvcImportError(str(listing), f"not a DVC .dir listing: {exc}") from exc
    files = []
    for item in items if isinstance(items, list) else [None]:
        if not isinstance(item, dict) or not _MD5.match(str(item.get("md5"))):
            raise DvcImportError(str(listing), f"bad entry {item!r} in a .dir listing")
        rel = PurePosixPath(str(item.get("relpath", ""))).as_posix()
        try:
            validate_manifest_path(rel)
        except InvalidInputError as exc:
            raise DvcImportError(str(listing), f"unsafe relpath {rel!r}") from exc
        found = cache_file(repo, item["md5"], legacy=output.legacy)
        if found is None:
            raise FileNotFoundError(f"{rel} ({item['md5']}) is not in the cache")
        files.append((rel, found))
    return files


def dataset_name(path: str) -> str:
    """The dataset name an output path gets: `data/raw.csv` -> `data-raw.csv`."""
    name = _NAME_CHARS.sub("-", path.replace("/", "-")).lstrip(".-")
    return name[:250] or "dvc-data"


def import_dvc(
    store: Store,
    repo: str | os.PathLike[str],
    *,
    blobs: BlobStore | None = None,
    prefix: str = "",
    progress: Progress | None = None,
) -> DvcImportResult:
    """Register every DVC output of a repository as a dataset version.

    Args:
        store: the metadata store.
        repo: the DVC repository's root (the folder holding `.dvc/`).
        blobs: the blob store (default: the one at the store's artifact root).
        prefix: put before each dataset name (e.g. "proj-").
        progress: receives an "importing" phase over the outputs.

    Raises:
        DvcImportError: not a DVC repository, or a DVC file or listing is malformed.
    """
    root = Path(repo).absolute()
    outputs = find_outputs(root)
    blob_store = blobs or blob_store_of(store)
    report = progress or NoProgress()
    report.start("importing", len(outputs))
    imported: list[tuple[str, DvcOutput, AddResult]] = []
    skipped: list[tuple[str, str]] = []
    for output in outputs:
        try:
            files = _files_of(root, output)
        except FileNotFoundError as exc:
            skipped.append((output.path, f"{exc}; run `dvc pull` in the repository first"))
            report.advance(1)
            continue
        name = dataset_name(prefix + output.path)
        imported.append((name, output, _register(store, blob_store, name, output, files)))
        report.advance(1)
    return DvcImportResult(tuple(imported), tuple(skipped))


def _files_of(root: Path, output: DvcOutput) -> list[tuple[str, Path]]:
    if output.is_dir:
        return _dir_entries(root, output)
    found = cache_file(root, output.md5, legacy=output.legacy)
    if found is None:
        raise FileNotFoundError(f"{output.path} ({output.md5}) is not in the cache")
    return [(PurePosixPath(output.path).name, found)]


def _register(
    store: Store,
    blobs: BlobStore,
    name: str,
    output: DvcOutput,
    files: list[tuple[str, Path]],
) -> AddResult:
    infos = blobs.put_files([path for _, path in files])
    entries = tuple(
        ManifestEntry(rel, info.digest, info.size)
        for (rel, _), info in zip(files, infos, strict=True)
    )
    kind = DatasetKind.FOLDER if output.is_dir else DatasetKind.FILE
    new = NewVersion(
        digest=manifest_digest(kind, entries),
        kind=kind,
        files=entries,
        message=f"imported from DVC ({output.origin}, md5 {output.md5})",
        source=f"dvc:{output.path}@{output.md5}",
    )
    version, created = store.datasets.commit_version(name, new)
    return AddResult(version, created, hashed=len(files), stored=len(files))
