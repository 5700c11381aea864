"""The blob store in a local folder: temporary file, verify, rename; read-only blobs; hard links."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from mloop.artifacts.blobs import BlobInfo, BlobStat, BlobStore, loose_name
from mloop.artifacts.digests import copy_hashing, digest_file, is_digest, new_hasher
from mloop.errors import CorruptBlobError, InvalidInputError, StorageError

_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
_WRITABLE = _READ_ONLY | stat.S_IWUSR


class LocalBlobStore(BlobStore):
    """Blobs in a folder on this machine.

    Temporary files live in `<root>/tmp/` (same file system, so the final rename is atomic).
    Stored blobs are read-only (mode 0444), so a hard link to one in a workspace cannot be
    edited in place by accident.

    Args:
        root: the folder (created when missing).
        durable: fsync every blob before it is renamed into place. Off by default, like SQLite's
            `synchronous=NORMAL`: a killed process never leaves a partial blob visible either
            way; after a power loss a blob written just before may read back as corrupt, which
            reading detects.
    """

    def __init__(self, root: str | os.PathLike[str], *, durable: bool = False) -> None:
        self.root = Path(root).absolute()
        super().__init__(str(self.root))
        self.durable = durable
        self._made: set[Path] = set()
        self._packs_open = _OpenPacks()

    # -- paths --------------------------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        """Where a blob stored on its own lives (it may not exist)."""
        return self.root / loose_name(digest)

    def _dir(self, path: Path) -> Path:
        if path not in self._made:
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create {path} in the blob store: {exc}") from exc
            self._made.add(path)
        return path

    def _temporary(self) -> Path:
        return self._dir(self.root / "tmp") / f"{uuid.uuid4().hex}.tmp"

    def _install(self, temporary: Path, digest: str) -> None:
        """Make a verified temporary file the blob `digest` (read-only, atomically)."""
        target = self.blob_path(digest)
        os.chmod(temporary, _READ_ONLY)
        self._dir(target.parent)
        os.replace(temporary, target)

    # -- writing ------------------------------------------------------------------------------

    def put_file(
        self, path: str | os.PathLike[str], *, move: bool = False, link: bool = False
    ) -> BlobInfo:
        """Store a local file (see `BlobStore.put_file`).

        Args:
            path: the file.
            move: move it into the store (a rename on the same file system).
            link: hard-link it into the store instead of copying; the file becomes read-only,
                since it is now the stored blob. Falls back to a copy across file systems.

        Raises:
            InvalidInputError: the path is not a readable file.
            StorageError: the store cannot be written.
        """
        source = Path(path)
        if not source.is_file():
            raise InvalidInputError(f"cannot store {str(source)!r}: it is not a file", field="path")
        if move or link:
            placed = self._place(source, move=move)
            if placed is not None:
                return placed
        info = self._copy_in(source)
        if move:  # another file system: copied, so the source goes now
            source.unlink()
        return info

    def _copy_in(self, source: Path) -> BlobInfo:
        temporary = self._temporary()
        try:
            with source.open("rb") as reader, temporary.open("wb") as writer:
                size = os.fstat(reader.fileno()).st_size
                copied = _kernel_copy(reader.fileno(), writer.fileno(), size)
                if not copied:
                    digest, size = copy_hashing(reader, writer.write, size_hint=size)
                if self.durable:
                    writer.flush()
                    os.fsync(writer.fileno())
            if copied:
                # Hashing the copy (from the page cache, on all cores) verifies what will be
                # stored; the kernel copy read the source from disk once.
                digest, size = digest_file(temporary)
            if self.blob_path(digest).exists():
                temporary.unlink()
                self._touch(digest)
            else:
                self._install(temporary, digest)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise StorageError(
                f"storing {source} in the blob store at {self.uri} failed: {exc}"
            ) from exc
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return BlobInfo(digest, size)

    def _place(self, source: Path, *, move: bool) -> BlobInfo | None:
        """Move or link a file in; None when it must be copied instead (another file system)."""
        temporary = self._temporary()
        try:
            if move:
                os.rename(source, temporary)
            else:
                os.link(source, temporary)
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                return None
            raise StorageError(
                f"storing {source} in the blob store at {self.uri} failed: {exc}"
            ) from exc
        try:
            # Hashed after it is in place under the temporary name, so what is verified is
            # what gets installed.
            digest, size = digest_file(temporary)
            if self.blob_path(digest).exists():
                temporary.unlink()
                self._touch(digest)
                if not move:
                    os.chmod(source, _READ_ONLY)
            else:
                self._install(temporary, digest)  # also makes a linked source read-only
        except BaseException:
            if move and temporary.exists():
                os.rename(temporary, source)
            temporary.unlink(missing_ok=True)
            raise
        return BlobInfo(digest, size)

    def put_stream(self, chunks: Iterable[bytes]) -> BlobInfo:
        """Store a stream of chunks (see `BlobStore.put_stream`)."""
        temporary = self._temporary()
        hasher = new_hasher(size_hint=1 << 20)
        size = 0
        try:
            with temporary.open("wb") as writer:
                for chunk in chunks:
                    hasher.update(chunk)
                    writer.write(chunk)
                    size += len(chunk)
                if self.durable:
                    writer.flush()
                    os.fsync(writer.fileno())
            digest = hasher.hexdigest()
            if self.blob_path(digest).exists() or digest in self._packs:
                temporary.unlink()
                self._touch(digest)
            else:
                self._install(temporary, digest)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise StorageError(
                f"storing a stream in the blob store at {self.uri} failed: {exc}"
            ) from exc
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return BlobInfo(digest, size)

    def _write_object(self, name: str, data: bytes) -> None:
        temporary = self._temporary()
        try:
            with temporary.open("wb") as writer:
                writer.write(data)
                if self.durable:
                    writer.flush()
                    os.fsync(writer.fileno())
            target = self.root / name
            os.chmod(temporary, _READ_ONLY)
            self._dir(target.parent)
            os.replace(temporary, target)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise StorageError(
                f"writing {name} in the blob store at {self.uri} failed: {exc}"
            ) from exc

    # -- materialising ------------------------------------------------------------------------

    def get_file(self, digest: str, dest: str | os.PathLike[str], *, link: bool = True) -> str:
        """Materialise a blob as `dest` (see `BlobStore.get_file`)."""
        target = Path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        entry, _ = self._locate(digest)
        packed = self.read_packed_verified(digest) if entry is not None else None
        fd, name = tempfile.mkstemp(prefix=".mloop-tmp-", dir=target.parent)
        temporary = Path(name)
        try:
            if packed is not None:
                with os.fdopen(fd, "wb") as writer:
                    writer.write(packed)
                how = "copy"
            else:
                os.close(fd)
                how = self._link_or_copy(digest, temporary, link=link)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return how

    def _link_or_copy(self, digest: str, temporary: Path, *, link: bool) -> str:
        blob = self.blob_path(digest)
        if link:
            try:
                temporary.unlink()
                os.link(blob, temporary)
                return "link"
            except OSError:
                pass  # another file system, or no hard links there: copy instead
        with blob.open("rb") as reader, temporary.open("wb") as writer:
            actual, _ = copy_hashing(
                reader, writer.write, size_hint=os.fstat(reader.fileno()).st_size
            )
        if actual != digest:
            raise CorruptBlobError(digest, actual=actual, where=f"the blob store at {self.uri}")
        os.chmod(temporary, _WRITABLE)
        return "copy"

    # -- primitives ---------------------------------------------------------------------------

    def _loose_size(self, digest: str) -> int | None:
        try:
            return self.blob_path(digest).stat().st_size
        except FileNotFoundError:
            return None

    def _open_loose(self, digest: str) -> BinaryIO:
        return self.blob_path(digest).open("rb", buffering=0)

    def _loose_missing(self, digests: set[str]) -> set[str]:
        base = f"{self.root}/blobs"  # plain strings: building a Path per digest costs more
        return {d for d in digests if not os.path.exists(f"{base}/{d[:2]}/{d[2:]}")}

    def _iter_loose(self) -> Iterator[BlobStat]:
        blobs = self.root / "blobs"
        if not blobs.is_dir():
            return
        for prefix in os.scandir(blobs):
            if not prefix.is_dir() or len(prefix.name) != 2:
                continue
            for entry in os.scandir(prefix.path):
                digest = prefix.name + entry.name
                if is_digest(digest):
                    info = entry.stat()
                    yield BlobStat(digest, info.st_size, info.st_mtime)

    def _remove_loose(self, digest: str) -> bool:
        try:
            self.blob_path(digest).unlink()
        except FileNotFoundError:
            return False
        return True

    def _touch(self, digest: str) -> None:
        # A blob stored again counts as new for gc's grace period: the writer is about to
        # reference it. For a packed blob that is its pack's age.
        entry = self._packs.get(digest)
        target = self.root / f"packs/{entry.pack_id}.pack" if entry else self.blob_path(digest)
        with contextlib.suppress(OSError):
            os.utime(target)

    def _read_range(self, name: str, offset: int, size: int) -> bytes:
        if size >= 0 and name.endswith(".pack"):
            # Many small blobs come from one pack: keep it open and read with pread.
            return self._packs_open.pread(self.root / name, offset, size)
        with (self.root / name).open("rb") as reader:
            reader.seek(offset)
            return reader.read() if size < 0 else reader.read(size)

    def _list_pack_objects(self) -> dict[str, float]:
        try:
            entries = list(os.scandir(self.root / "packs"))
        except FileNotFoundError:
            return {}
        return {e.name: e.stat().st_mtime for e in entries if e.name.endswith((".pack", ".idx"))}

    def _remove_object(self, name: str) -> None:
        self._packs_open.forget(self.root / name)
        (self.root / name).unlink(missing_ok=True)

    def _remove_stale_temporaries(self, older_than: float) -> int:
        removed = 0
        try:
            entries = list(os.scandir(self.root / "tmp"))
        except FileNotFoundError:
            return 0
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                if entry.stat().st_mtime < older_than:
                    os.unlink(entry.path)
                    removed += 1
        return removed


class _OpenPacks:
    """A few pack files kept open for positional reads (thread-safe, least recently used)."""

    _LIMIT = 32

    def __init__(self) -> None:
        self._fds: OrderedDict[Path, int] = OrderedDict()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def pread(self, path: Path, offset: int, size: int) -> bytes:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: start afresh with its own
                for inherited in self._fds.values():
                    os.close(inherited)
                self._fds.clear()
                self._pid = os.getpid()
            fd = self._fds.get(path)
            if fd is None:
                fd = os.open(path, os.O_RDONLY)
                self._fds[path] = fd
                if len(self._fds) > self._LIMIT:
                    os.close(self._fds.popitem(last=False)[1])
            else:
                self._fds.move_to_end(path)
            # Read under the lock: a concurrent forget must not close it mid-read.
            return os.pread(fd, size, offset)

    def forget(self, path: Path) -> None:
        with self._lock:
            fd = self._fds.pop(path, None)
            if fd is not None:
                os.close(fd)

    def __del__(self) -> None:
        for fd in self._fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)


# Above this size a file is copied by the kernel (`copy_file_range`: no trip through Python,
# a reflink where the file system has them) and the copy hashed after; below it a Python loop
# hashes while copying.
_KERNEL_COPY_MIN = 1 << 20
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EPERM}


def _kernel_copy(source_fd: int, target_fd: int, size: int) -> bool:
    """Copy a whole file in the kernel; False (nothing copied) where that is not possible."""
    if size < _KERNEL_COPY_MIN or not hasattr(os, "copy_file_range"):
        return False
    done = 0
    while done < size:
        try:
            count = os.copy_file_range(source_fd, target_fd, size - done)
        except OSError as exc:
            if done == 0 and exc.errno in _NO_KERNEL_COPY:
                return False
            raise
        if count == 0:  # the source shrank while being copied
            break
        done += count
    return True
