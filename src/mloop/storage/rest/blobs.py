"""The blob store of a remote `mloop server`, over `/api/v1/blobs`.

Datasets through a server keep their bytes in the server's blob store: this store uploads what
the server lacks (small blobs in batches, large ones streamed one by one, each verified by the
server against its digest) and downloads blobs verified against their digest. The server keeps
packs to itself, so every blob looks stored on its own from here. Listing and deleting blobs
stay on the server (`mloop gc` runs there).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, BinaryIO

from mloop.artifacts.blobs import BlobInfo, BlobStat, BlobStore
from mloop.artifacts.digests import check_digest, digest_file, new_hasher
from mloop.artifacts.packs import PackBuffer
from mloop.artifacts.reader import verifying_open
from mloop.errors import (
    BlobNotFoundError,
    ConfigurationError,
    CorruptBlobError,
    InvalidInputError,
)
from mloop.storage.blob_frames import FRAME
from mloop.storage.rest.transport import Transport

_BASE = "/api/v1/blobs"
CHUNK_BYTES = 1024 * 1024
# Small blobs travel in batches of about this many bytes (under the server's body limit).
BATCH_BYTES = 8 << 20
# Digests per `missing` question.
MISSING_PAGE = 10_000
_OCTETS = {"content-type": "application/octet-stream"}


class RestBlobStore(BlobStore):
    """Blobs kept by a remote `mloop server`.

    Args:
        transport: the HTTP client of the server.
    """

    def __init__(self, transport: Transport) -> None:
        super().__init__(f"{transport.base_url}{_BASE}")
        self._http = transport

    # -- writing ------------------------------------------------------------------------------

    def put_file(
        self, path: str | os.PathLike[str], *, move: bool = False, link: bool = False
    ) -> BlobInfo:
        """Upload a local file unless the server has its content already (`link` is ignored).

        Raises:
            InvalidInputError: the path is not a readable file.
            StorageError: the server cannot be reached.
        """
        source = Path(path)
        try:
            digest, size = digest_file(source)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot store {str(path)!r}: {exc.strerror or exc}", field="path"
            ) from exc
        if self._loose_size(digest) is None:
            with source.open("rb") as handle:
                self._upload(digest, _chunks(handle))
        if move:
            source.unlink()
        return BlobInfo(digest, size)

    def put_stream(self, chunks: Iterable[bytes]) -> BlobInfo:
        """Upload the concatenation of `chunks` (spooled to a temporary file to hash it first)."""
        hasher = new_hasher()
        size = 0
        with tempfile.TemporaryFile() as spool:
            for chunk in chunks:
                hasher.update(chunk)
                spool.write(chunk)
                size += len(chunk)
            digest = hasher.hexdigest()
            if self._loose_size(digest) is None:
                spool.seek(0)
                self._upload(digest, _chunks(spool))
        return BlobInfo(digest, size)

    def put_bytes(self, data: bytes) -> BlobInfo:
        """Upload bytes held in memory unless the server has them."""
        hasher = new_hasher()
        hasher.update(data)
        digest = hasher.hexdigest()
        if self._loose_size(digest) is None:
            self._upload(digest, bytes(data))
        return BlobInfo(digest, len(data))

    def write_pack(self, buffer: PackBuffer) -> None:
        """Upload the small blobs of `buffer` the server lacks, in batches (it packs them)."""
        taken = buffer.take()
        if taken is None:
            return
        _, data, _, entries = taken
        view = memoryview(data)
        absent = self._loose_missing({digest for digest, _, _ in entries})
        batch: list[tuple[str, memoryview]] = []
        batch_size = 0
        for digest, offset, size in entries:
            if digest not in absent:
                continue
            batch.append((digest, view[offset : offset + size]))
            batch_size += size
            if batch_size >= BATCH_BYTES:
                self._upload_batch(batch)
                batch, batch_size = [], 0
        if batch:
            self._upload_batch(batch)

    def _upload(self, digest: str, content: bytes | Iterator[bytes]) -> None:
        self._http.send(
            "PUT",
            f"{_BASE}/{digest}",
            content=content,
            headers=_OCTETS,
            retry=isinstance(content, bytes),
        )

    def _upload_batch(self, batch: list[tuple[str, memoryview]]) -> None:
        body = b"".join(FRAME.pack(len(blob)) + bytes(blob) for _, blob in batch)
        answer = self._http.send("POST", f"{_BASE}/batch", content=body, headers=_OCTETS)
        stored = [item["digest"] for item in answer.json()["blobs"]]
        for (digest, _), got in zip(batch, stored, strict=True):
            if got != digest:  # pragma: no cover - hashed from the same bytes
                raise CorruptBlobError(digest, actual=got, where=f"the blob store at {self.uri}")

    # -- reading ------------------------------------------------------------------------------

    def get_file(self, digest: str, dest: str | os.PathLike[str], *, link: bool = True) -> str:
        """Download a blob as the file `dest`, verified (always a copy: `link` is ignored).

        Raises:
            BlobNotFoundError: the server has no such blob.
            CorruptBlobError: the bytes received do not match the digest.
        """
        target = Path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        try:
            with self.open(digest) as source, partial.open("wb") as out:
                while chunk := source.read(CHUNK_BYTES):
                    out.write(chunk)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return "copy"

    def open(self, digest: str) -> BinaryIO:
        """A blob's bytes (downloaded in one request), verified against the digest when read.

        Raises:
            BlobNotFoundError: the server has no such blob.
            CorruptBlobError: (on the read that reaches the end) the bytes do not match.
        """
        check_digest(digest)
        try:
            spool = self._open_loose(digest)
        except FileNotFoundError:
            raise BlobNotFoundError(digest, where=f"the blob store at {self.uri}") from None
        size = spool.seek(0, os.SEEK_END)
        spool.seek(0)
        return verifying_open(spool, digest, size=size, where=f"the blob store at {self.uri}")

    def read_bytes(self, digest: str) -> bytes:
        """A blob's bytes, verified (one request).

        Raises:
            BlobNotFoundError: the server has no such blob.
            CorruptBlobError: the bytes do not match the digest.
        """
        with self.open(digest) as stream:
            return stream.read()

    def _loose_size(self, digest: str) -> int | None:
        try:
            answer = self._http.request("GET", f"{_BASE}/{digest}/stat")
        except BlobNotFoundError:
            return None
        return int(answer["size"])

    def _open_loose(self, digest: str) -> BinaryIO:
        spool = tempfile.SpooledTemporaryFile(max_size=CHUNK_BYTES)  # noqa: SIM115 - returned
        try:
            with self._http.stream("GET", f"{_BASE}/{digest}") as response:
                for chunk in response.iter_bytes(CHUNK_BYTES):
                    spool.write(chunk)
        except BlobNotFoundError as exc:
            spool.close()
            raise FileNotFoundError(digest) from exc
        spool.seek(0)
        return spool  # type: ignore[return-value]

    def _loose_missing(self, digests: set[str]) -> set[str]:
        wanted = sorted(digests)
        missing: set[str] = set()
        for start in range(0, len(wanted), MISSING_PAGE):
            page = wanted[start : start + MISSING_PAGE]
            answer = self._http.request("POST", f"{_BASE}/missing", body={"digests": page})
            missing.update(answer["missing"])
        return missing

    def _touch(self, digest: str) -> None:
        """The server's blobs age on the server; nothing to refresh from here."""

    def _list_pack_objects(self) -> dict[str, float]:
        return {}  # packs stay on the server: every blob is looked up by digest

    # -- what only the server may do --------------------------------------------------------------

    def _iter_loose(self) -> Iterator[BlobStat]:
        raise self._server_only("listing its blobs")

    def _remove_loose(self, digest: str) -> bool:
        raise self._server_only("deleting blobs")

    def _write_object(self, name: str, data: bytes) -> None:
        raise self._server_only("writing raw objects")

    def _read_range(self, name: str, offset: int, size: int) -> bytes:
        raise self._server_only("reading packs")

    def _remove_object(self, name: str) -> None:
        raise self._server_only("removing objects")

    def _server_only(self, what: str) -> ConfigurationError:
        return ConfigurationError(
            f"{what} of the blob store of {self._http.base_url} is only possible on the server: "
            "run `mloop gc` there, with MLOOP_TRACKING_URI set to its database"
        )


def _chunks(handle: IO[bytes]) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK_BYTES):
        yield chunk
