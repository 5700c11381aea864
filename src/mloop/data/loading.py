"""Reading a tabular dataset version back as a data frame."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from mloop.data.refs import resolve
from mloop.data.snapshots import blob_store_of
from mloop.entities.datasets import DatasetKind
from mloop.errors import InvalidInputError
from mloop.storage import Store

if TYPE_CHECKING:
    import pyarrow as pa

    from mloop.artifacts import BlobStore

FrameKind = Literal["pandas", "polars", "arrow"]
_READERS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".feather": "ipc"}


def load(
    store: Store,
    reference: str,
    *,
    blobs: BlobStore | None = None,
    as_: FrameKind = "pandas",
) -> Any:
    """The data frame of a table version (or of a single Parquet, CSV or Feather file version).

    Args:
        store: the metadata store.
        reference: `datasets:/NAME/3`, `NAME@alias`, a digest ...
        blobs: the blob store (default: the one at the store's artifact root).
        as_: "pandas" (default), "polars" or "arrow".

    Raises:
        InvalidInputError: the version is a folder, or `as_` is unknown.
        BlobNotFoundError: the bytes are not in the local store (`mloop data pull` them).
        CorruptBlobError: the stored bytes do not match their digest.
    """
    if as_ not in ("pandas", "polars", "arrow"):
        raise InvalidInputError(
            f"as_ must be 'pandas', 'polars' or 'arrow', got {as_!r}", field="as_"
        )
    version = resolve(store, reference)
    entries = store.datasets.list_files(version.name, version.version)
    reader = _reader_of(version.kind, entries[0].path if len(entries) == 1 else "")
    if reader is None:
        raise InvalidInputError(
            f"{version.uri} is a {version.kind.value} of {version.file_count} files, not a "
            f"table; materialise it with `mloop data get {version.name}/{version.version} DEST`",
            field="reference",
        )
    data = (blobs or blob_store_of(store)).read_bytes(entries[0].digest)
    table = _read(reader, data)
    if as_ == "arrow":
        return table
    if as_ == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table.to_pandas()


def _reader_of(kind: DatasetKind, path: str) -> str | None:
    if kind is DatasetKind.TABLE:
        return "parquet"
    if kind is DatasetKind.FILE:
        suffix = path[path.rfind(".") :].lower() if "." in path else ""
        return _READERS.get(suffix)
    return None


def _read(reader: str, data: bytes) -> pa.Table:
    import pyarrow as pa

    source = pa.BufferReader(data)
    if reader == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(source)
    if reader == "csv":
        import pyarrow.csv as pcsv

        return pcsv.read_csv(source)
    from pyarrow import feather

    return feather.read_table(source)
