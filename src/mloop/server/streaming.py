"""Request and response bodies streamed chunk by chunk (artifact and blob transfers)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import BinaryIO

import anyio

CHUNK_BYTES = 1024 * 1024


def sync_chunks(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The request body as a blocking iterator for the store, pulled chunk by chunk.

    The store writes in a worker thread; each chunk is awaited on the event loop from there, so
    at most one chunk is in memory at a time.
    """

    async def pull() -> bytes | None:
        try:
            return await anext(stream)
        except StopAsyncIteration:
            return None

    while True:
        chunk = anyio.from_thread.run(pull)
        if chunk is None:
            return
        if chunk:
            yield chunk


def read_chunks(handle: BinaryIO) -> Iterator[bytes]:
    """A readable handle's bytes in chunks of at most `CHUNK_BYTES`, closed at the end."""
    with handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk
