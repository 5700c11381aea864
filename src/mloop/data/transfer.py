"""Moving a dataset's bytes: push and pull between blob stores, and `get` into a folder."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mloop.data.progress import NoProgress, Progress
from mloop.data.refs import SCHEME, resolve
from mloop.data.snapshots import blob_store_of
from mloop.entities.datasets import (
    DatasetKind,
    DatasetVersion,
    ManifestEntry,
    validate_dataset_name,
)
from mloop.errors import InvalidInputError, InvalidStateError
from mloop.storage import Store

if TYPE_CHECKING:
    from mloop.artifacts import BlobStore

_WORKERS = min(32, 4 * (os.cpu_count() or 1))
# Files up to this size are packed in the blob store (`mloop.artifacts.packs.PACK_MAX_BLOB`).
SMALL_FILE = 256 << 10


@dataclass(frozen=True, slots=True)
class TransferResult:
    """The outcome of a push or pull.

    Attributes:
        versions: the versions whose blobs were considered.
        blobs: distinct blobs those versions reference.
        copied: blobs that were missing at the destination and were copied.
    """

    versions: tuple[DatasetVersion, ...]
    blobs: int
    copied: int


def select_versions(store: Store, reference: str) -> list[DatasetVersion]:
    """A dataset name alone selects every version; any other reference selects one.

    Raises:
        InvalidDatasetReferenceError: not a reference.
        DatasetNotFoundError: no such dataset.
        DatasetVersionNotFoundError: no such version.
    """
    body = reference.removeprefix(SCHEME)
    try:
        validate_dataset_name(body)
    except InvalidInputError:
        return [resolve(store, reference)]
    return store.datasets.list_versions(body)


def _open(remote: str | BlobStore) -> BlobStore:
    if isinstance(remote, str):
        from mloop.artifacts import open_blob_store

        return open_blob_store(remote)
    return remote


def _digests(store: Store, versions: Sequence[DatasetVersion]) -> set[str]:
    return {
        entry.digest for v in versions for entry in store.datasets.list_files(v.name, v.version)
    }


def push(
    store: Store,
    reference: str,
    remote: str | BlobStore,
    *,
    blobs: BlobStore | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> TransferResult:
    """Copy the blobs of a dataset (all versions) or of one version to a remote blob store.

    Only blobs the remote lacks travel, in parallel; small ones in packs.

    Args:
        store: the metadata store.
        reference: `NAME` (every version) or a version reference.
        remote: a blob store URI (folder, `s3://bucket/prefix` ...) or an opened store.
        blobs: the local blob store (default: the one at the store's artifact root).
        workers: parallel transfers.
        progress: receives the "pushing" phase.

    Raises:
        BlobNotFoundError: a blob is missing locally too.
    """
    return _transfer(
        store,
        reference,
        source=blobs or blob_store_of(store),
        target=_open(remote),
        phase="pushing",
        workers=workers,
        progress=progress,
    )


def pull(
    store: Store,
    reference: str,
    remote: str | BlobStore,
    *,
    blobs: BlobStore | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> TransferResult:
    """Copy the blobs of a dataset (all versions) or one version from a remote blob store.

    The versions must be known to the metadata store (shared, or imported); this fetches the
    bytes. Arguments as in `push`.

    Raises:
        BlobNotFoundError: a blob is in neither store.
    """
    return _transfer(
        store,
        reference,
        source=_open(remote),
        target=blobs or blob_store_of(store),
        phase="pulling",
        workers=workers,
        progress=progress,
    )


def _transfer(
    store: Store,
    reference: str,
    *,
    source: BlobStore,
    target: BlobStore,
    phase: str,
    workers: int | None,
    progress: Progress | None,
) -> TransferResult:
    versions = select_versions(store, reference)
    digests = _digests(store, versions)
    wanted = target.missing(digests)
    report = progress or NoProgress()
    report.start(phase, len(wanted))
    copied = (
        source.copy_to(target, wanted, workers=workers, progress=report.advance) if wanted else 0
    )
    return TransferResult(tuple(versions), len(digests), copied)


@dataclass(frozen=True, slots=True)
class Materialised:
    """The outcome of `get`.

    Attributes:
        version: the version.
        path: the file or folder written.
        linked: files hard-linked to the store (read-only).
        copied: files copied (or reflinked).
    """

    version: DatasetVersion
    path: Path
    linked: int
    copied: int


def get(
    store: Store,
    reference: str,
    dest: str | os.PathLike[str],
    *,
    blobs: BlobStore | None = None,
    link: bool = True,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Materialised:
    """Write a version's files to `dest`: hard links (read-only) where possible, else copies.

    A file version becomes the file `dest` (or a file inside `dest` when it is a folder); a
    folder or table version becomes the folder `dest`.

    Raises:
        InvalidStateError: `dest` holds files and `overwrite` is False.
        BlobNotFoundError: a blob is not in the local store (`pull` it first).
    """
    version = resolve(store, reference)
    entries = store.datasets.list_files(version.name, version.version)
    target = Path(dest)
    if version.kind is DatasetKind.FILE:
        root = target.parent if not target.is_dir() else target
        paths = [target if not target.is_dir() else target / entries[0].path]
    else:
        root = target
        paths = [target / e.path for e in entries]
    if not overwrite and root.exists():
        _check_free(version, root, paths)
    blob_store = blobs or blob_store_of(store)
    report = progress or NoProgress()
    report.start("materialising", len(entries))
    made: set[Path] = set()

    def one(pair: tuple[ManifestEntry, Path]) -> str:
        entry, path = pair
        if entry.size <= SMALL_FILE:
            how = _write_small(blob_store, entry.digest, path, made)
        else:
            how = blob_store.get_file(entry.digest, path, link=link)
        report.advance(1)
        return how

    with ThreadPoolExecutor(_WORKERS) as pool:
        hows = list(pool.map(one, zip(entries, paths, strict=True)))
    linked = hows.count("link")
    written = paths[0] if version.kind is DatasetKind.FILE else root
    return Materialised(version, written, linked, len(hows) - linked)


def _write_small(blobs: BlobStore, digest: str, path: Path, made: set[Path]) -> str:
    """Write a small file from its verified bytes.

    The store packs small blobs, so there is nothing to link, and one read and one write beat
    the general path for many small files.
    """
    data = blobs.read_bytes(digest)
    folder = path.parent
    if folder not in made:
        folder.mkdir(parents=True, exist_ok=True)
        made.add(folder)
    # A temporary name renamed into place: a killed `get` never leaves a truncated file.
    temporary = f"{folder}/.{path.name}.mloop-tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    os.replace(temporary, path)
    return "copy"


def _check_free(version: DatasetVersion, root: Path, paths: Sequence[Path]) -> None:
    taken = [p for p in paths if p.exists()]
    if taken or (version.kind is not DatasetKind.FILE and root.is_file()):
        shown = taken[0] if taken else root
        raise InvalidStateError(
            f"{shown} already exists; `get` of {version.uri} would replace it: choose an "
            "empty destination, or pass --overwrite"
        )
