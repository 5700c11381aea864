"""Content digests: BLAKE3, hex-encoded, computed while data streams past.

Why BLAKE3: it is a cryptographic hash (no practical collisions, so a digest can stand for its
content across machines and users, unlike xxh3) and the fastest one there is: ~3.8 GB/s on one
core here against 1.4 GB/s for SHA-256 and 0.64 GB/s for MD5 (DVC's choice), and it can spread
one large input over several threads. Hashing therefore never limits a copy, which runs at disk
speed (~1.3 GB/s).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import Protocol

from blake3 import blake3

from mloop.errors import InvalidInputError

Digest = str
"""A blob's name: the 64 lowercase hex characters of the BLAKE3 digest of its bytes."""

DIGEST_LENGTH = 64

# 8 MiB: large enough that a read, a hash update and a write each cost one system call per
# chunk and BLAKE3 can use several threads on it; small enough to keep memory bounded.
CHUNK_SIZE = 8 << 20
# Below this size a chunk is hashed on one thread: starting threads costs more than it saves.
_THREADED_HASH_MIN = 1 << 20

_DIGEST_RE = re.compile(r"[0-9a-f]{64}")

EMPTY_DIGEST: Digest = blake3(b"").hexdigest()


class Readable(Protocol):
    """A binary stream that can read into a caller's buffer (files, `BytesIO`, sockets)."""

    def readinto(self, buffer: memoryview, /) -> int | None: ...


def new_hasher(*, size_hint: int = 0) -> blake3:
    """A BLAKE3 hasher; multi-threaded when the input is large enough to gain from it."""
    if size_hint >= _THREADED_HASH_MIN:
        return blake3(max_threads=blake3.AUTO)
    return blake3()


def digest_bytes(data: bytes | bytearray | memoryview) -> Digest:
    """The digest of bytes in memory."""
    return new_hasher(size_hint=len(data)).update(data).hexdigest()


def digest_chunks(chunks: Iterable[bytes]) -> tuple[Digest, int]:
    """The digest and total size of a stream of chunks."""
    hasher = new_hasher(size_hint=CHUNK_SIZE)
    size = 0
    for chunk in chunks:
        hasher.update(chunk)
        size += len(chunk)
    return hasher.hexdigest(), size


def digest_file(path: str | os.PathLike[str]) -> tuple[Digest, int]:
    """The digest and size of a local file, read through a memory map (no copy into Python).

    Raises:
        OSError: the file cannot be read.
    """
    size = os.stat(path).st_size
    hasher = new_hasher(size_hint=size)
    if size == 0:
        return hasher.hexdigest(), 0
    hasher.update_mmap(path)
    return hasher.hexdigest(), size


def copy_hashing(
    source: Readable,
    write: Callable[[memoryview], object],
    *,
    size_hint: int = 0,
) -> tuple[Digest, int]:
    """Copy a stream chunk by chunk, hashing each chunk between its read and its write.

    One read pass over the source; memory stays at one chunk. Returns the digest and size of
    exactly the bytes handed to `write`.
    """
    hasher = new_hasher(size_hint=size_hint)
    buffer = bytearray(min(CHUNK_SIZE, max(size_hint, 1 << 16)))
    view = memoryview(buffer)
    size = 0
    while True:
        count = source.readinto(view)
        if not count:
            break
        chunk = view[:count]
        hasher.update(chunk)
        write(chunk)
        size += count
    return hasher.hexdigest(), size


def check_digest(digest: str) -> Digest:
    """Check that a string is a digest (64 lowercase hex characters) and return it.

    Raises:
        InvalidInputError: it is not.
    """
    if not isinstance(digest, str) or not _DIGEST_RE.fullmatch(digest):
        raise InvalidInputError(
            f"{digest!r} is not a blob digest; expected 64 lowercase hex characters "
            "(a BLAKE3 digest)",
            field="digest",
        )
    return digest


def is_digest(text: str) -> bool:
    """True when `text` has the form of a digest."""
    return bool(_DIGEST_RE.fullmatch(text))
