"""The blob store interface and what every backend shares: packs, lookups, reads, deletion."""

from __future__ import annotations

import io
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from mloop.artifacts.digests import CHUNK_SIZE, Digest, check_digest, digest_bytes
from mloop.artifacts.packs import PackBuffer, PackEntry, PackIndex, decode_index
from mloop.artifacts.reader import verifying_open
from mloop.errors import BlobNotFoundError, CorruptBlobError


class Progress(Protocol):
    """A progress callback: called with how many more files (or blobs) are done."""

    def __call__(self, count: int, /) -> None: ...


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """A stored blob.

    Attributes:
        digest: its BLAKE3 digest (64 lowercase hex characters).
        size: its size in bytes.
    """

    digest: Digest
    size: int


@dataclass(frozen=True, slots=True)
class BlobStat:
    """A stored blob with its age, for garbage collection.

    Attributes:
        digest: its digest.
        size: its size in bytes.
        modified_at: when it (or the pack holding it) was last written, seconds since the epoch.
        pack_id: the pack holding it, None for a blob stored on its own.
    """

    digest: Digest
    size: int
    modified_at: float
    pack_id: str | None = None


def loose_name(digest: str) -> str:
    """The object name of a blob stored on its own, relative to the store root."""
    return f"blobs/{digest[:2]}/{digest[2:]}"


class BlobStore(ABC):
    """Content-addressed blobs under one root URI.

    Subclasses implement the storage primitives for a local folder or an fsspec file system;
    everything else (packs, verification, deletion, copying between stores) lives here.
    Thread-safe: one store may be used from many threads.

    Attributes:
        uri: the store's root URI.
    """

    uri: str

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._packs = PackIndex()
        self._pack_mtimes: dict[str, float] = {}
        self._refresh_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"

    # -- primitives each backend implements -------------------------------------------------

    @abstractmethod
    def put_file(
        self, path: str | os.PathLike[str], *, move: bool = False, link: bool = False
    ) -> BlobInfo:
        """Store a local file, verified against the digest of the bytes stored.

        Args:
            path: the file.
            move: move the file into the store instead of copying it (the file is gone after).
            link: on a local store, hard-link the file into the store instead of copying it;
                the file then *is* the blob and becomes read-only. Where links are impossible
                (another file system, a remote store) the file is copied.

        Raises:
            InvalidInputError: the path is not a readable file.
            StorageError: the store cannot be written.
        """

    @abstractmethod
    def put_stream(self, chunks: Iterable[bytes]) -> BlobInfo:
        """Store the concatenation of `chunks` (an upload, a generator) with bounded memory.

        Raises:
            StorageError: the store cannot be written.
        """

    @abstractmethod
    def get_file(self, digest: str, dest: str | os.PathLike[str], *, link: bool = True) -> str:
        """Materialise a blob as the file `dest` (replaced when it exists).

        Args:
            digest: the blob.
            dest: the file to create; its folder is created.
            link: hard-link the blob where the file system allows (the file is then read-only,
                so editing it never changes the store); otherwise, or where linking fails, a
                reflink or a verified copy.

        Returns:
            "link" when `dest` is a hard link to the stored blob, "copy" otherwise.

        Raises:
            BlobNotFoundError: no such blob.
            CorruptBlobError: the stored bytes do not match the digest (only checked when copied).
        """

    @abstractmethod
    def _loose_size(self, digest: str) -> int | None: ...
    @abstractmethod
    def _open_loose(self, digest: str) -> BinaryIO: ...
    @abstractmethod
    def _iter_loose(self) -> Iterator[BlobStat]: ...
    @abstractmethod
    def _loose_missing(self, digests: set[str]) -> set[str]: ...
    @abstractmethod
    def _remove_loose(self, digest: str) -> bool: ...
    @abstractmethod
    def _touch(self, digest: str) -> None:
        """Refresh a stored blob's age (or its pack's), where the medium allows."""

    @abstractmethod
    def _write_object(self, name: str, data: bytes) -> None: ...
    @abstractmethod
    def _read_range(self, name: str, offset: int, size: int) -> bytes: ...
    @abstractmethod
    def _list_pack_objects(self) -> dict[str, float]: ...
    @abstractmethod
    def _remove_object(self, name: str) -> None: ...

    # -- writing ------------------------------------------------------------------------------

    def put_bytes(self, data: bytes) -> BlobInfo:
        """Store bytes held in memory.

        Raises:
            StorageError: the store cannot be written.
        """
        digest = digest_bytes(data)
        if digest in self._packs or self._loose_size(digest) is not None:
            self._touch(digest)  # refreshes its age, so gc's grace period covers it
        else:
            self._write_object(loose_name(digest), bytes(data))
        return BlobInfo(digest, len(data))

    def put_files(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        sizes: Sequence[int] | None = None,
        link: bool = False,
        workers: int | None = None,
        progress: Progress | None = None,
    ) -> list[BlobInfo]:
        """Store many files in parallel; small ones go into packs. Returns infos in order.

        Args:
            paths: the files.
            sizes: their sizes, when the caller has just taken them (saves a stat per file;
                a file that grew since is still stored whole).
            link: hard-link large files into a local store (see `put_file`); small files are
                packed either way.
            workers: threads to use (default: 4 per CPU, at most 32).
            progress: called with the number of files just finished, as they finish.

        Raises:
            InvalidInputError: a path is not a readable file.
            StorageError: the store cannot be written.
        """
        from mloop.artifacts.transfer import put_many

        files = [p if isinstance(p, Path) else Path(p) for p in paths]
        return put_many(self, files, sizes=sizes, link=link, workers=workers, progress=progress)

    def copy_to(
        self,
        other: BlobStore,
        digests: Iterable[str],
        *,
        workers: int | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Copy the blobs `other` lacks into it (push or pull), verifying each one.

        Returns:
            How many blobs were copied.

        Raises:
            BlobNotFoundError: a blob is in neither store.
            CorruptBlobError: a blob's bytes do not match its digest.
        """
        from mloop.artifacts.transfer import copy_missing

        return copy_missing(self, other, digests, workers=workers, progress=progress)

    def write_pack(self, buffer: PackBuffer) -> None:
        """Write the blobs collected in `buffer` as one pack (pack first, index last)."""
        taken = buffer.take()
        if taken is None:
            return
        pack_id, data, index, entries = taken
        self._write_object(f"packs/{pack_id}.pack", data)
        self._write_object(f"packs/{pack_id}.idx", index)
        self._packs.add(pack_id, {d: PackEntry(pack_id, off, size) for d, off, size in entries})
        self._pack_mtimes[pack_id] = time.time()

    # -- looking up ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Load the indexes of packs other processes wrote since the last look."""
        with self._refresh_lock:
            objects = self._list_pack_objects()
            present = {
                name.removesuffix(".idx")
                for name in objects
                if name.endswith(".idx") and name.removesuffix(".idx") + ".pack" in objects
            }
            self._packs.forget(self._packs.loaded() - present)
            for pack_id in present - self._packs.loaded():
                data = self._read_range(f"packs/{pack_id}.idx", 0, -1)
                self._packs.add(pack_id, decode_index(pack_id, data))
            self._pack_mtimes = {p: objects[f"{p}.pack"] for p in present}

    def has(self, digest: str) -> bool:
        """True when the store holds the blob."""
        check_digest(digest)
        if digest in self._packs or self._loose_size(digest) is not None:
            return True
        self.refresh()
        return digest in self._packs

    def is_packed(self, digest: str) -> bool:
        """True when the blob is in a pack (as the indexes loaded so far say)."""
        return digest in self._packs

    def missing(self, digests: Iterable[str]) -> set[str]:
        """The digests among `digests` that the store does not hold."""
        wanted = {check_digest(d) for d in digests}
        if not wanted:
            return set()
        self.refresh()
        return self._loose_missing({d for d in wanted if d not in self._packs})

    def size(self, digest: str) -> int:
        """A blob's size in bytes.

        Raises:
            BlobNotFoundError: no such blob.
        """
        return self._locate(digest)[1]

    def _locate(self, digest: str) -> tuple[PackEntry | None, int]:
        check_digest(digest)
        entry = self._packs.get(digest)
        if entry is not None:
            return entry, entry.size
        size = self._loose_size(digest)
        if size is not None:
            return None, size
        self.refresh()
        entry = self._packs.get(digest)
        if entry is None:
            raise BlobNotFoundError(digest, where=f"the blob store at {self.uri}")
        return entry, entry.size

    # -- reading ------------------------------------------------------------------------------

    def open(self, digest: str) -> BinaryIO:
        """A binary stream of a blob, verified against its digest when read to the end.

        Raises:
            BlobNotFoundError: no such blob.
            CorruptBlobError: (on the read that reaches the end) the bytes do not match.
        """
        entry, size = self._locate(digest)
        where = f"the blob store at {self.uri}"
        if entry is not None:
            data = self._read_packed(digest, entry)
            return verifying_open(io.BytesIO(data), digest, size=size, where=where)
        try:
            source = self._open_loose(digest)
        except FileNotFoundError as exc:  # removed since it was located
            raise BlobNotFoundError(digest, where=where) from exc
        return verifying_open(source, digest, size=size, where=where)

    def read_bytes(self, digest: str) -> bytes:
        """A blob's bytes, verified.

        Raises:
            BlobNotFoundError: no such blob.
            CorruptBlobError: the bytes do not match the digest.
        """
        entry, _ = self._locate(digest)
        if entry is not None:  # a packed blob: one ranged read, verified in one call
            data = self._read_packed(digest, entry)
            actual = digest_bytes(data)
            if actual != digest:
                raise CorruptBlobError(digest, actual=actual, where=f"the blob store at {self.uri}")
            return data
        with self.open(digest) as stream:
            return stream.read()

    def read_many(self, digests: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """The verified bytes of many (small) blobs, in no particular order.

        Packed blobs are read one pack at a time (one request per pack on a remote store), so
        memory holds at most one pack plus one blob.

        Raises:
            BlobNotFoundError: a blob is not stored.
            CorruptBlobError: a blob's bytes do not match its digest.
        """
        where = f"the blob store at {self.uri}"
        packed: dict[str, list[tuple[str, PackEntry]]] = {}
        loose: list[str] = []
        for digest in dict.fromkeys(digests):
            entry, _ = self._locate(digest)
            if entry is None:
                loose.append(digest)
            else:
                packed.setdefault(entry.pack_id, []).append((digest, entry))
        for pack_id, items in packed.items():
            start = min(e.offset for _, e in items)
            end = max(e.offset + e.size for _, e in items)
            data = memoryview(self._read_range(f"packs/{pack_id}.pack", start, end - start))
            for digest, entry in items:
                blob = bytes(data[entry.offset - start : entry.offset - start + entry.size])
                actual = digest_bytes(blob)
                if actual != digest:
                    raise CorruptBlobError(digest, actual=actual, where=where)
                yield digest, blob
        for digest in loose:
            yield digest, self.read_bytes(digest)

    def get_files(
        self,
        items: Iterable[tuple[str, str | os.PathLike[str]]],
        *,
        link: bool = True,
        workers: int | None = None,
        progress: Progress | None = None,
    ) -> dict[str, int]:
        """Materialise many blobs as files: `(digest, dest)` pairs (see `get_file`).

        Packed blobs are written from one read of their pack; blobs stored on their own are
        linked or copied in parallel. A file already at `dest` is replaced (never written
        through, since it may be a link into the store).

        Returns:
            How many files were hard-linked ("link") and copied ("copy").

        Raises:
            BlobNotFoundError: a blob is not stored.
            CorruptBlobError: a copied blob's bytes do not match its digest.
        """
        from mloop.artifacts.transfer import get_many

        return get_many(self, items, link=link, workers=workers, progress=progress)

    def iter_chunks(self, digest: str) -> Iterator[bytes]:
        """A blob's bytes in chunks of bounded size, verified at the end."""
        with self.open(digest) as stream:
            while chunk := stream.read(CHUNK_SIZE):
                yield chunk

    def _read_packed(self, digest: str, entry: PackEntry) -> bytes:
        try:
            return self._read_range(f"packs/{entry.pack_id}.pack", entry.offset, entry.size)
        except FileNotFoundError:
            # Repacked by a concurrent gc since the index was loaded: look again once.
            self.refresh()
            moved = self._packs.get(digest)
            if moved is None:
                raise BlobNotFoundError(digest, where=f"the blob store at {self.uri}") from None
            return self._read_range(f"packs/{moved.pack_id}.pack", moved.offset, moved.size)

    def read_packed_verified(self, digest: str) -> bytes | None:
        """The bytes of a packed blob, verified; None when the blob is not packed."""
        entry = self._packs.get(digest)
        if entry is None:
            return None
        data = self._read_packed(digest, entry)
        actual = digest_bytes(data)
        if actual != digest:
            raise CorruptBlobError(digest, actual=actual, where=f"the blob store at {self.uri}")
        return data

    # -- listing and deleting -----------------------------------------------------------------

    def list_digests(self) -> Iterator[str]:
        """Every stored digest (each once)."""
        seen: set[str] = set()
        for stat in self.list_blobs():
            if stat.digest not in seen:
                seen.add(stat.digest)
                yield stat.digest

    def list_blobs(self) -> Iterator[BlobStat]:
        """Every stored blob with its size and age (a blob both loose and packed comes twice)."""
        self.refresh()
        yield from self._iter_loose()
        mtimes = dict(self._pack_mtimes)
        for digest, entry in self._packs.items():
            yield BlobStat(digest, entry.size, mtimes.get(entry.pack_id, 0.0), entry.pack_id)

    def delete(self, digests: Iterable[str]) -> int:
        """Remove blobs; packs that hold some of them are rewritten without them.

        Returns:
            How many of the digests were removed (absent ones are skipped).
        """
        doomed = {check_digest(d) for d in digests}
        if not doomed:
            return 0
        removed = self._remove_loose_many(doomed)
        self.refresh()
        for pack_id, entries in self._packs.by_pack().items():
            hit = doomed & entries.keys()
            if hit:
                self._rewrite_pack(pack_id, entries, hit)
                removed |= hit
        return len(removed)

    def _remove_loose_many(self, digests: set[str]) -> set[str]:
        """Remove blobs stored on their own; returns those that were there."""
        return {d for d in digests if self._remove_loose(d)}

    def _rewrite_pack(self, pack_id: str, entries: dict[str, PackEntry], drop: set[str]) -> None:
        keep = PackBuffer()
        for digest, entry in sorted(entries.items(), key=lambda item: item[1].offset):
            if digest not in drop:
                keep.add(
                    digest, self._read_range(f"packs/{pack_id}.pack", entry.offset, entry.size)
                )
        self.write_pack(keep)
        # The index goes first, so no reader finds an index whose pack is gone.
        self._remove_object(f"packs/{pack_id}.idx")
        self._remove_object(f"packs/{pack_id}.pack")
        self._packs.forget({pack_id})

    def remove_stale(self, *, older_than: float) -> int:
        """Remove leftovers of writers that died: packs without an index, temporary files.

        Args:
            older_than: only what was last written before this time (seconds since the epoch).

        Returns:
            How many objects were removed.
        """
        objects = self._list_pack_objects()
        removed = 0
        for name, mtime in objects.items():
            orphan = name.endswith(".pack") and name.removesuffix(".pack") + ".idx" not in objects
            if orphan and mtime < older_than:
                self._remove_object(f"packs/{name}")
                removed += 1
        return removed + self._remove_stale_temporaries(older_than)

    def _remove_stale_temporaries(self, older_than: float) -> int:
        return 0
