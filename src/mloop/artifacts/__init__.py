"""Content-addressed blob storage: every file mloop keeps, stored once, under its BLAKE3 digest.

Runs' artifacts, dataset versions and model packages all store their bytes here, in the blob
store at the metadata store's artifact root, so identical content is stored once across them.
The metadata store keeps manifests (logical path -> digest); this package knows only blobs.

Layout under the root URI (a local folder, `file://`, `s3://bucket/prefix` or any fsspec URI):

```
blobs/ab/cdef...      a blob on its own: the 64-hex digest split 2 + 62; read-only when local
packs/<id>.pack       many small blobs back to back (`packs.py`)
packs/<id>.idx        the pack's index (digest, offset, size); written last: the commit point
tmp/<uuid>.tmp        blobs being written; renamed into place once hashed
```

Writes go to a temporary name, are verified against the digest computed while the bytes
streamed past (one read pass), then renamed into place, so a killed writer never leaves a
partial blob visible; reads verify the digest and raise `CorruptBlobError` on a mismatch.
Why BLAKE3: see `digests.py`.
"""

from __future__ import annotations

from typing import Any

from mloop.artifacts.blobs import BlobInfo as BlobInfo
from mloop.artifacts.blobs import BlobStat as BlobStat
from mloop.artifacts.blobs import BlobStore as BlobStore
from mloop.artifacts.blobs import Progress as Progress
from mloop.artifacts.digests import Digest as Digest
from mloop.artifacts.digests import check_digest as check_digest
from mloop.artifacts.digests import digest_bytes as digest_bytes
from mloop.artifacts.digests import digest_file as digest_file
from mloop.artifacts.local import LocalBlobStore as LocalBlobStore
from mloop.errors import ConfigurationError, MissingExtraError

__all__ = [
    "BlobInfo",
    "BlobStat",
    "BlobStore",
    "Digest",
    "LocalBlobStore",
    "Progress",
    "check_digest",
    "digest_bytes",
    "digest_file",
    "open_blob_store",
]

# The Python module each fsspec protocol needs, and the mloop extra that installs it.
_EXTRAS = {"s3": ("s3", "s3fs"), "s3a": ("s3", "s3fs")}


def open_blob_store(uri: str, *, storage_options: dict[str, Any] | None = None) -> BlobStore:
    """Open the blob store at a URI.

    Args:
        uri: a local path, `file:///path`, `s3://bucket/prefix`, or any fsspec URI.
        storage_options: options for the fsspec file system (e.g. `endpoint_url`, `key`,
            `secret` for S3). Unset S3 options come from the usual AWS environment variables.

    Returns:
        A `LocalBlobStore` for local paths, an `FsspecBlobStore` otherwise.

    Raises:
        MissingExtraError: the protocol needs an extra that is not installed (`mloop[s3]`).
        ConfigurationError: the URI's protocol is unknown.
    """
    if uri.startswith("file://"):
        return LocalBlobStore(uri.removeprefix("file://"))
    if "://" not in uri:
        return LocalBlobStore(uri)
    protocol = uri.split("://", 1)[0].lower()
    options = dict(storage_options or {})
    if protocol in _EXTRAS:
        # Listings cached by s3fs would hide blobs other writers add.
        options.setdefault("use_listings_cache", False)
    return _open_fsspec(uri, protocol, options)


def _open_fsspec(uri: str, protocol: str, options: dict[str, Any]) -> BlobStore:
    import fsspec

    from mloop.artifacts.remote import FsspecBlobStore

    try:
        fs, root = fsspec.core.url_to_fs(uri, **options)
    except ImportError as exc:
        extra, module = _EXTRAS.get(protocol, ("all", str(exc.name or protocol)))
        raise MissingExtraError(extra, module) from exc
    except ValueError as exc:
        raise ConfigurationError(
            f"cannot open the blob store at {uri!r}: {exc}; use a local path, s3://BUCKET/PREFIX "
            "or another fsspec URI"
        ) from exc
    return FsspecBlobStore(fs, root, uri=uri)
