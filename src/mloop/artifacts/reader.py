"""A reader that hashes what it hands out and raises when the blob turns out corrupt."""

from __future__ import annotations

import io
from typing import BinaryIO

from mloop.artifacts.digests import new_hasher
from mloop.errors import CorruptBlobError


class VerifyingReader(io.RawIOBase):
    """Reads a blob's bytes from `source`, checking them against `digest` at the end.

    The check happens when the end of the stream is reached: the read that hits the end raises
    `CorruptBlobError` when the bytes did not match, so a consumer that reads to the end never
    silently gets damaged content.

    Args:
        source: the raw stream of the blob's bytes (closed with this reader).
        digest: the digest the bytes must hash to.
        size: the blob's size, when known (a read past it is not made).
        where: a description of the store, for the error message.
    """

    def __init__(self, source: BinaryIO, digest: str, *, size: int, where: str) -> None:
        super().__init__()
        self._source = source
        self._digest = digest
        self._remaining = size
        self._where = where
        self._hasher = new_hasher(size_hint=size)
        self._checked = False

    def readable(self) -> bool:
        """Always True."""
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        """Fill `buffer` with the next bytes; verifies the digest at the end of the blob.

        Raises:
            CorruptBlobError: the blob's bytes do not hash to its digest.
        """
        view = memoryview(buffer).cast("B")
        if self._remaining <= 0:
            self._verify()
            return 0
        limit = min(len(view), self._remaining)
        data = self._source.read(limit)
        if not data:
            # Shorter than its recorded size: truncated.
            self._remaining = 0
            self._verify()
            return 0
        count = len(data)
        view[:count] = data
        self._hasher.update(data)
        self._remaining -= count
        return count

    def close(self) -> None:
        """Close the underlying stream."""
        if not self.closed:
            self._source.close()
        super().close()

    def _verify(self) -> None:
        if self._checked:
            return
        self._checked = True
        actual = self._hasher.hexdigest()
        if actual != self._digest:
            raise CorruptBlobError(self._digest, actual=actual, where=self._where)


def verifying_open(source: BinaryIO, digest: str, *, size: int, where: str) -> BinaryIO:
    """A buffered, verifying binary stream over `source`."""
    raw = VerifyingReader(source, digest, size=size, where=where)
    return io.BufferedReader(raw, buffer_size=1 << 20)
