"""Creating dataset versions: `add` for files and folders, `snapshot` for data frames.

Blobs are stored first (each written under a temporary name and renamed into place once
verified), then the version is recorded in one transaction; a process killed in between leaves
unreferenced blobs, which `mloop gc` removes, and never a partial version.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mloop.data.changes import ScannedFile, scan, split_known
from mloop.data.manifests import manifest_digest
from mloop.data.progress import NoProgress, Progress
from mloop.data.stat_cache import StatCache
from mloop.entities.datasets import (
    ColumnType,
    DatasetKind,
    DatasetVersion,
    ManifestEntry,
    NewVersion,
    validate_dataset_name,
)
from mloop.storage import Store

if TYPE_CHECKING:
    import pyarrow as pa

    from mloop.artifacts import BlobInfo, BlobStore

TABLE_FILE = "data.parquet"


@dataclass(frozen=True, slots=True)
class AddResult:
    """The outcome of `add` or `snapshot`.

    Attributes:
        version: the new version, or the latest one when the content was unchanged.
        created: False when the content equals the latest version's.
        hashed: files that had to be read (the rest were known by inode, size and mtime).
        stored: files whose blobs were not in the store yet.
    """

    version: DatasetVersion
    created: bool
    hashed: int = 0
    stored: int = 0


def blob_store_of(store: Store) -> BlobStore:
    """The blob store of a metadata store: the one at its artifact root, or a server's."""
    return store.artifacts.blobs


def add(
    store: Store,
    path: str | os.PathLike[str],
    name: str,
    *,
    blobs: BlobStore | None = None,
    cache: StatCache | None = None,
    message: str = "",
    description: str | None = None,
    tags: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> AddResult:
    """Version a file or folder as the next version of a dataset (unless unchanged).

    Args:
        store: the metadata store.
        path: a file or folder.
        name: the dataset.
        blobs: where the bytes go (default: the blob store at the store's artifact root).
        cache: the stat cache (default: one in memory, so every file is hashed once).
        message: what changed.
        description: sets the dataset's description.
        tags: set on the dataset.
        progress: receives the storing phase.

    Returns:
        The version and whether it is new.

    Raises:
        InvalidInputError: bad name, tag, or a path that is no file or folder with files.
        StorageError: the blob or metadata store failed.
    """
    validate_dataset_name(name)
    blob_store = blobs or blob_store_of(store)
    stat_cache = cache or StatCache(None)
    started_ns = time.time_ns()
    kind, files = scan(path)
    known, unknown = split_known(files, stat_cache, path)
    # Known digests whose blob is gone (another store, or collected) are stored again.
    absent = blob_store.missing(set(known.values()))
    to_store = unknown + [f for f in files if f.path in known and known[f.path] in absent]
    report = progress or NoProgress()
    report.start("storing", len(to_store))
    infos = blob_store.put_files([f.absolute for f in to_store], progress=report.advance)
    stored = {f.path: info for f, info in zip(to_store, infos, strict=True)}
    # A file rewritten between the scan and its storing gets a digest and size that match the
    # bytes stored; its cached stat is the old one, so the next scan hashes it again.
    stat_cache.record(
        ((f.absolute, f.stat, stored[f.path].digest) for f in to_store), hashed_at_ns=started_ns
    )
    entries = tuple(_entry(f, known, stored) for f in files)
    new = NewVersion(
        digest=manifest_digest(kind, entries),
        kind=kind,
        files=entries,
        message=message,
        source=str(Path(path).absolute()),
    )
    version, created = store.datasets.commit_version(name, new, description=description, tags=tags)
    return AddResult(version, created, hashed=len(unknown), stored=len(to_store))


def _entry(f: ScannedFile, known: dict[str, str], stored: dict[str, BlobInfo]) -> ManifestEntry:
    info = stored.get(f.path)
    if info is not None:
        return ManifestEntry(f.path, info.digest, info.size)
    return ManifestEntry(f.path, known[f.path], f.stat.size)


def snapshot(
    store: Store,
    data: object,
    name: str,
    *,
    blobs: BlobStore | None = None,
    message: str = "",
    description: str | None = None,
    tags: dict[str, str] | None = None,
) -> AddResult:
    """Version a data frame (pandas, Polars, or an Arrow table) as Parquet.

    The version records the table's schema and row count. Writing the same frame again returns
    the existing version ("unchanged").

    Raises:
        InvalidInputError: bad name or tags, or an object that is not a table.
        StorageError: the blob or metadata store failed.
    """
    import pyarrow.parquet as pq

    validate_dataset_name(name)
    table = frame_to_arrow(data)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    blob_store = blobs or blob_store_of(store)
    info = blob_store.put_bytes(buffer.getvalue())
    entries = (ManifestEntry(TABLE_FILE, info.digest, info.size),)
    new = NewVersion(
        digest=manifest_digest(DatasetKind.TABLE, entries),
        kind=DatasetKind.TABLE,
        files=entries,
        message=message,
        source=f"dataframe:{type(data).__module__.split('.')[0]}",
        row_count=table.num_rows,
        columns=tuple(ColumnType(f.name, str(f.type)) for f in table.schema),
    )
    version, created = store.datasets.commit_version(name, new, description=description, tags=tags)
    return AddResult(version, created, hashed=1, stored=1)


def frame_to_arrow(data: object) -> pa.Table:
    """An Arrow table from a pandas or Polars frame or an Arrow table.

    pandas frames keep their index and dtypes in the Parquet metadata, so `load` gives back
    an equal frame.

    Raises:
        InvalidInputError: the object is not a data frame.
    """
    import pyarrow as pa

    from mloop.data.tables import to_arrow

    if type(data).__module__.split(".")[0] == "pandas":
        try:
            return pa.Table.from_pandas(data)
        except (pa.ArrowException, TypeError, ValueError):
            pass  # mixed-type object columns: the column-by-column conversion copes
    if isinstance(data, str | os.PathLike):
        from mloop.errors import InvalidInputError

        raise InvalidInputError(
            f"snapshot takes a data frame, not the path {data!r}; version files with `add`",
            field="data",
        )
    return to_arrow(data)
