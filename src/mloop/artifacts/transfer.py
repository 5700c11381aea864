"""Many blobs at once: parallel hashing and upload, packing of small files, copies between stores.

Small files (up to `PACK_MAX_BLOB`) are read and hashed by two threads in groups of about one
pack's worth of bytes (so memory stays bounded), looked up in the pack indexes (no request per
file, even on a remote store), and those not packed yet are written as one pack. Large files go
through `put_file` on a wider pool. Materialising and copying read packed blobs one pack at a
time.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from mloop.artifacts.digests import digest_bytes
from mloop.artifacts.packs import PACK_MAX_BLOB, PACK_TARGET_SIZE, PackBuffer
from mloop.errors import BlobNotFoundError, InvalidInputError

if TYPE_CHECKING:
    from mloop.artifacts.blobs import BlobInfo, BlobStore, Progress

# Small files read per task: enough to amortise handing tasks between threads.
_BATCH = 512
# Reading small files is bound by Python under the GIL: more than two threads only contend.
_SMALL_READERS = 2


def default_workers() -> int:
    """Threads for I/O-bound work: 4 per CPU, at most 32."""
    return min(32, 4 * (os.cpu_count() or 1))


def _read_small(paths: list[Path]) -> list[tuple[str, bytes] | None]:
    """Read and hash small files; None for one that turned out larger than a packed blob."""
    out: list[tuple[str, bytes] | None] = []
    for path in paths:
        # os.read on a descriptor: a third of the cost of Path.read_bytes for 4 KB files.
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot store {str(path)!r}: {exc.strerror or exc}", field="path"
            ) from exc
        try:
            data = os.read(fd, PACK_MAX_BLOB + 1)
        finally:
            os.close(fd)
        out.append(None if len(data) > PACK_MAX_BLOB else (digest_bytes(data), data))
    return out


def _sizes(paths: list[Path]) -> list[int]:
    sizes = []
    for path in paths:
        try:
            info = os.stat(path)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot store {str(path)!r}: {exc.strerror or exc}", field="path"
            ) from exc
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInputError(f"cannot store {str(path)!r}: it is not a file", field="path")
        sizes.append(info.st_size)
    return sizes


def _groups(indexes: list[int], sizes: list[int]) -> Iterator[list[int]]:
    group: list[int] = []
    total = 0
    for i in indexes:
        group.append(i)
        total += sizes[i]
        if total >= PACK_TARGET_SIZE:
            yield group
            group, total = [], 0
    if group:
        yield group


def _checked_sizes(paths: list[Path], sizes: Sequence[int] | None) -> list[int]:
    if sizes is None:
        return _sizes(paths)
    if len(sizes) != len(paths):
        raise InvalidInputError(
            f"put_files got {len(sizes)} sizes for {len(paths)} paths; give one size per path",
            field="sizes",
        )
    return list(sizes)


def _hash_group(
    readers: ThreadPoolExecutor, paths: list[Path], group: list[int]
) -> tuple[list[tuple[int, str, bytes]], list[int]]:
    """Read and hash a group of small files: (index, digest, bytes), and the indexes that grew."""
    batches = [group[k : k + _BATCH] for k in range(0, len(group), _BATCH)]
    futures = [readers.submit(_read_small, [paths[i] for i in b]) for b in batches]
    hashed: list[tuple[int, str, bytes]] = []
    grown: list[int] = []
    for batch, future in zip(batches, futures, strict=True):
        for i, read in zip(batch, future.result(), strict=True):
            if read is None:
                grown.append(i)
            else:
                hashed.append((i, *read))
    return hashed, grown


def _pack_new(store: BlobStore, hashed: list[tuple[int, str, bytes]]) -> None:
    """Write the blobs no pack holds yet as one pack; refresh the age of the others."""
    # Small blobs are looked up in the pack indexes only: one stored on its own (by put_bytes)
    # gets packed again, a few wasted bytes against a lookup per file.
    buffer = PackBuffer()
    known: set[str] = set()
    for _, digest, data in hashed:
        if store.is_packed(digest):
            known.add(digest)
        else:
            buffer.add(digest, data)
    for digest in known:
        store._touch(digest)  # stored already: young again for gc's grace period
    store.write_pack(buffer)


def put_many(
    store: BlobStore,
    paths: list[Path],
    *,
    sizes: Sequence[int] | None = None,
    link: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[BlobInfo]:
    """Store files in parallel, packing the small ones (see the module docstring)."""
    from mloop.artifacts.blobs import BlobInfo

    known_sizes = _checked_sizes(paths, sizes)
    store.refresh()  # packs other processes wrote: their blobs need not be stored again
    results: list[BlobInfo | None] = [None] * len(paths)
    small = [i for i, size in enumerate(known_sizes) if size <= PACK_MAX_BLOB]
    large = [i for i, size in enumerate(known_sizes) if size > PACK_MAX_BLOB]
    with (
        ThreadPoolExecutor(workers or default_workers()) as pool,
        ThreadPoolExecutor(min(_SMALL_READERS, workers or _SMALL_READERS)) as readers,
    ):
        pending = {pool.submit(store.put_file, paths[i], link=link): i for i in large}
        for group in _groups(small, known_sizes):
            hashed, grown = _hash_group(readers, paths, group)
            # Grown since its size was taken: stored on its own, like any large file.
            pending.update({pool.submit(store.put_file, paths[i], link=link): i for i in grown})
            _pack_new(store, hashed)
            for i, digest, data in hashed:
                results[i] = BlobInfo(digest, len(data))
            if progress is not None:
                progress(len(hashed))
        for done, i in _as_done(pending):
            results[i] = done.result()
            if progress is not None:
                progress(1)
    return [r for r in results if r is not None]


def _as_done(pending: dict[Future[BlobInfo], int]) -> Iterator[tuple[Future[BlobInfo], int]]:
    from concurrent.futures import as_completed

    for future in as_completed(pending):
        yield future, pending[future]


def copy_missing(
    source: BlobStore,
    target: BlobStore,
    digests: Iterable[str],
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> int:
    """Copy the blobs `target` lacks from `source`; small ones travel in packs."""
    wanted = target.missing(digests)
    if not wanted:
        return 0
    source.refresh()
    sizes = {d: source.size(d) for d in sorted(wanted)}
    small = [d for d, size in sizes.items() if size <= PACK_MAX_BLOB]
    large = [d for d, size in sizes.items() if size > PACK_MAX_BLOB]
    with ThreadPoolExecutor(workers or default_workers()) as pool:
        pending = [pool.submit(_copy_one, source, target, d) for d in large]
        buffer = PackBuffer()
        for digest, data in source.read_many(small):
            buffer.add(digest, data)
            if buffer.is_full():
                count = len(buffer.entries)
                target.write_pack(buffer)
                if progress is not None:
                    progress(count)
        count = len(buffer.entries)
        target.write_pack(buffer)
        if progress is not None and count:
            progress(count)
        for future in pending:
            future.result()
            if progress is not None:
                progress(1)
    return len(wanted)


def _copy_one(source: BlobStore, target: BlobStore, digest: str) -> None:
    info = target.put_stream(source.iter_chunks(digest))
    if info.digest != digest:  # pragma: no cover - iter_chunks verifies before this
        raise BlobNotFoundError(digest, where=f"the blob store at {source.uri}")


def _write_new(path: Path, data: bytes, made: set[Path]) -> None:
    """Write a fresh file at `path`, replacing (not writing through) whatever is there."""
    parent = path.parent
    if parent not in made:
        parent.mkdir(parents=True, exist_ok=True)
        made.add(parent)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # it may be a read-only hard link into the store
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def get_many(
    store: BlobStore,
    items: Iterable[tuple[str, str | os.PathLike[str]]],
    *,
    link: bool = True,
    workers: int | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Materialise `(digest, dest)` pairs (see `BlobStore.get_files`)."""
    targets: dict[str, list[Path]] = {}
    for digest, dest in items:
        targets.setdefault(digest, []).append(Path(dest))
    store.refresh()
    packed = [d for d in targets if store.is_packed(d)]
    counts = {"link": 0, "copy": 0}
    made: set[Path] = set()
    with ThreadPoolExecutor(workers or default_workers()) as pool:
        loose = [
            (pool.submit(store.get_file, d, dest, link=link), d)
            for d in targets
            if d not in packed
            for dest in targets[d]
        ]
        for digest, data in store.read_many(packed):
            for dest in targets[digest]:
                _write_new(dest, data, made)
                counts["copy"] += 1
            if progress is not None:
                progress(len(targets[digest]))
        for future, _ in loose:
            counts[future.result()] += 1
            if progress is not None:
                progress(1)
    return counts
