"""The blob store on any fsspec file system: S3 (s3fs), GCS, Azure, SFTP, memory ...

Object stores make a PUT visible only once complete, so blobs are written straight to their
final key there; on other file systems they go to `tmp/` and are moved into place. A local
file is hashed first (memory-mapped, multi-threaded BLAKE3: faster than any upload), so a blob
the store holds already is not uploaded at all, and hashed again after the upload so that a
file changed meanwhile is caught. Streams are spooled to a local temporary file while hashed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from mloop.artifacts.blobs import BlobInfo, BlobStat, BlobStore, loose_name
from mloop.artifacts.digests import CHUNK_SIZE, copy_hashing, digest_file, is_digest, new_hasher
from mloop.artifacts.transfer import default_workers
from mloop.errors import InvalidInputError, StorageError

# Protocols whose writes become visible atomically, when complete.
_ATOMIC_PUT = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "memory"}
# From this many digests under one prefix, `missing` lists the prefix instead of asking per digest.
_LIST_THRESHOLD = 8


def _mtime(info: dict[str, Any]) -> float:
    value = info.get("LastModified") or info.get("mtime") or info.get("created") or 0.0
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


class FsspecBlobStore(BlobStore):
    """Blobs under a path of an fsspec file system.

    Args:
        fs: the file system (e.g. an `s3fs.S3FileSystem`).
        root: the root path on it (`bucket/prefix` for S3), without protocol.
        uri: the URI the store was opened with, for messages.
    """

    def __init__(self, fs: Any, root: str, *, uri: str) -> None:
        super().__init__(uri)
        self.fs = fs
        self.root = root.rstrip("/")
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        self._atomic_put = protocol in _ATOMIC_PUT

    def _path(self, name: str) -> str:
        return f"{self.root}/{name}"

    def _fail(self, what: str, exc: Exception) -> StorageError:
        return StorageError(f"{what} in the blob store at {self.uri} failed: {exc}")

    # -- writing ------------------------------------------------------------------------------

    def put_file(
        self, path: str | os.PathLike[str], *, move: bool = False, link: bool = False
    ) -> BlobInfo:
        """Store a local file (see `BlobStore.put_file`); `link` copies, as remote stores must."""
        source = Path(path)
        if not source.is_file():
            raise InvalidInputError(f"cannot store {str(source)!r}: it is not a file", field="path")
        digest, size = digest_file(source)
        if self._loose_size(digest) is None and digest not in self._packs:
            self._upload(source, loose_name(digest))
            after, _ = digest_file(source)
            if after != digest:
                self._remove_object(loose_name(digest))
                raise InvalidInputError(
                    f"{source} changed while it was being stored; store it again once it is "
                    "no longer being written",
                    field="path",
                )
        if move:
            source.unlink()
        return BlobInfo(digest, size)

    def _upload(self, source: Path, name: str) -> None:
        try:
            if self._atomic_put:
                self.fs.put_file(str(source), self._path(name))
            else:
                temporary = self._path(f"tmp/{uuid.uuid4().hex}.tmp")
                self.fs.put_file(str(source), temporary)
                self.fs.mv(temporary, self._path(name))
        except (OSError, ValueError) as exc:
            raise self._fail(f"uploading {source}", exc) from exc

    def put_stream(self, chunks: Iterable[bytes]) -> BlobInfo:
        """Store a stream of chunks (see `BlobStore.put_stream`)."""
        hasher = new_hasher(size_hint=1 << 20)
        size = 0
        fd, name = tempfile.mkstemp(prefix="mloop-upload-")
        spool = Path(name)
        try:
            with os.fdopen(fd, "wb") as writer:
                for chunk in chunks:
                    hasher.update(chunk)
                    writer.write(chunk)
                    size += len(chunk)
            digest = hasher.hexdigest()
            if self._loose_size(digest) is None and digest not in self._packs:
                self._upload(spool, loose_name(digest))
        finally:
            spool.unlink(missing_ok=True)
        return BlobInfo(digest, size)

    def _write_object(self, name: str, data: bytes) -> None:
        try:
            if self._atomic_put:
                self.fs.pipe_file(self._path(name), data)
            else:
                temporary = self._path(f"tmp/{uuid.uuid4().hex}.tmp")
                self.fs.pipe_file(temporary, data)
                self.fs.mv(temporary, self._path(name))
        except (OSError, ValueError) as exc:
            raise self._fail(f"writing {name}", exc) from exc

    # -- materialising ------------------------------------------------------------------------

    def get_file(self, digest: str, dest: str | os.PathLike[str], *, link: bool = True) -> str:
        """Download a blob as `dest`, verified (see `BlobStore.get_file`); always a copy."""
        target = Path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".mloop-tmp-", dir=target.parent)
        temporary = Path(name)
        try:
            with os.fdopen(fd, "wb") as writer, self.open(digest) as reader:
                # `open` verifies when the end is read, which copy_hashing does.
                copy_hashing(reader, writer.write, size_hint=CHUNK_SIZE)  # type: ignore[arg-type]
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return "copy"

    # -- primitives ---------------------------------------------------------------------------

    def _loose_size(self, digest: str) -> int | None:
        try:
            info = self.fs.info(self._path(loose_name(digest)))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._fail(f"looking up blob {digest}", exc) from exc
        return int(info["size"])

    def _open_loose(self, digest: str) -> BinaryIO:
        stream: BinaryIO = self.fs.open(self._path(loose_name(digest)), "rb", block_size=CHUNK_SIZE)
        return stream

    def _loose_missing(self, digests: set[str]) -> set[str]:
        # Per two-character prefix: list the prefix when several digests fall in it (one request
        # per 1,000 keys), else ask for each; prefixes in parallel.
        by_prefix: dict[str, list[str]] = {}
        for digest in digests:
            by_prefix.setdefault(digest[:2], []).append(digest)
        if not by_prefix:
            return set()
        with ThreadPoolExecutor(min(len(by_prefix), default_workers())) as pool:
            parts = pool.map(self._missing_under, by_prefix.items())
            return set().union(*parts)

    def _missing_under(self, item: tuple[str, list[str]]) -> set[str]:
        prefix, digests = item
        if len(digests) < _LIST_THRESHOLD:
            return {d for d in digests if self._loose_size(d) is None}
        base = self._path(f"blobs/{prefix}")
        try:
            names = self.fs.ls(base, detail=False)
        except FileNotFoundError:
            return set(digests)
        finally:
            self.fs.invalidate_cache(base)
        present = {prefix + name.rstrip("/").rsplit("/", 1)[-1] for name in names}
        return {d for d in digests if d not in present}

    def _iter_loose(self) -> Iterator[BlobStat]:
        base = self._path("blobs")
        self.fs.invalidate_cache(base)
        try:
            listing = self.fs.find(base, detail=True)
        except FileNotFoundError:
            return
        finally:
            # A cached listing would make later lookups miss blobs other writers add.
            self.fs.invalidate_cache(base)
        for path, info in listing.items():
            parts = path.rstrip("/").rsplit("/", 2)
            digest = "".join(parts[-2:])
            if info.get("type") != "directory" and is_digest(digest):
                yield BlobStat(digest, int(info["size"]), _mtime(info))

    def _remove_loose(self, digest: str) -> bool:
        # Object stores delete absent keys without complaint: ask first, to count truthfully.
        if self._loose_size(digest) is None:
            return False
        self._remove_object(loose_name(digest))
        return True

    def _remove_loose_many(self, digests: set[str]) -> set[str]:
        # One listing to learn what is there, then bulk deletes (S3: 1,000 keys a request).
        present = digests - self._loose_missing(digests)
        if present:
            try:
                self.fs.rm([self._path(loose_name(d)) for d in sorted(present)])
            except FileNotFoundError:
                pass  # removed meanwhile by another collector
            except OSError as exc:
                raise self._fail(f"deleting {len(present)} blob(s)", exc) from exc
        return present

    def _touch(self, digest: str) -> None:
        # Object stores cannot refresh a modification time without rewriting the object; the
        # gc grace period on a remote store counts from when a blob was first written.
        return

    def _read_range(self, name: str, offset: int, size: int) -> bytes:
        end = None if size < 0 else offset + size
        data: bytes = self.fs.cat_file(self._path(name), start=offset, end=end)
        return data

    def _list_pack_objects(self) -> dict[str, float]:
        base = self._path("packs")
        self.fs.invalidate_cache(base)
        try:
            listing = self.fs.ls(base, detail=True)
        except FileNotFoundError:
            return {}
        objects = {}
        for info in listing:
            name = info["name"].rstrip("/").rsplit("/", 1)[-1]
            if name.endswith((".pack", ".idx")):
                objects[name] = _mtime(info)
        return objects

    def _remove_object(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self._path(name))

    def _remove_stale_temporaries(self, older_than: float) -> int:
        base = self._path("tmp")
        self.fs.invalidate_cache(base)
        try:
            listing = self.fs.ls(base, detail=True)
        except FileNotFoundError:
            return 0
        removed = 0
        for info in listing:
            if _mtime(info) < older_than:
                self._remove_object(f"tmp/{info['name'].rsplit('/', 1)[-1]}")
                removed += 1
        return removed
