"""`/api/v1/blobs`: the content-addressed blobs behind dataset versions, by digest.

A client uploads the blobs a dataset version needs before committing its manifest, and reads
them back to materialise it. Uploads stream into the blob store in bounded memory (they are
exempt from the request body limit) and are verified against the digest in the path; downloads
are verified as they are read. Listing and deleting blobs stay on the server (`mloop gc`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from mloop.artifacts.digests import digest_bytes
from mloop.artifacts.packs import PACK_MAX_BLOB, PackBuffer
from mloop.errors import InvalidInputError
from mloop.server.deps import StoreDep
from mloop.server.schemas import ERROR_RESPONSES
from mloop.server.schemas_datasets import BlobList, BlobOut, Digest, DigestsIn, DigestsOut
from mloop.server.streaming import read_chunks, sync_chunks
from mloop.storage import Store
from mloop.storage.blob_frames import FRAME

router = APIRouter(prefix="/api/v1/blobs", tags=["blobs"], responses=ERROR_RESPONSES)

DigestPath = Annotated[Digest, Path(description="The blob's BLAKE3 digest, 64 lowercase hex.")]


@router.post("/missing")
def missing_blobs(body: DigestsIn, store: StoreDep) -> DigestsOut:
    """The digests among those given that the server's blob store does not hold."""
    return DigestsOut.model_construct(missing=sorted(store.artifacts.blobs.missing(body.digests)))


@router.post("/batch", status_code=status.HTTP_201_CREATED)
async def upload_blob_batch(request: Request, store: StoreDep) -> BlobList:
    """Store many small blobs sent in one body: each as an 8-byte big-endian length, then bytes.

    The server hashes every blob itself; the answer lists their digests in the order sent.
    """
    body = await request.body()
    blobs = unframe(body)
    await run_in_threadpool(_store_small, store, blobs)
    return BlobList.model_construct(
        blobs=[BlobOut.model_construct(digest=d, size=len(b)) for d, b in blobs]
    )


def unframe(body: bytes) -> list[tuple[str, bytes]]:
    """The blobs of a batch body, with their digests.

    Raises:
        InvalidInputError: the framing is broken or a blob is too large for a batch.
    """
    out: list[tuple[str, bytes]] = []
    offset = 0
    while offset < len(body):
        if offset + FRAME.size > len(body):
            raise _bad_batch("it ends inside a length field")
        (size,) = FRAME.unpack_from(body, offset)
        offset += FRAME.size
        if size > PACK_MAX_BLOB or offset + size > len(body):
            raise _bad_batch(f"a blob claims {size} bytes (at most {PACK_MAX_BLOB}, in the body)")
        data = body[offset : offset + size]
        offset += size
        out.append((digest_bytes(data), data))
    return out


def _bad_batch(problem: str) -> InvalidInputError:
    return InvalidInputError(
        f"the blob batch is not framed as 8-byte big-endian lengths each followed by that many "
        f"bytes: {problem}; large blobs go one by one with PUT /api/v1/blobs/DIGEST",
        field="body",
    )


def _store_small(store: Store, blobs: list[tuple[str, bytes]]) -> None:
    target = store.artifacts.blobs
    absent = target.missing({digest for digest, _ in blobs})
    buffer = PackBuffer()
    for digest, data in blobs:
        if digest in absent:
            buffer.add(digest, data)
    target.write_pack(buffer)


@router.get("/{digest}/stat")
def stat_blob(digest: DigestPath, store: StoreDep) -> BlobOut:
    """A stored blob's size (404 when it is not stored)."""
    return BlobOut.model_construct(digest=digest, size=store.artifacts.blobs.size(digest))


@router.put("/{digest}", status_code=status.HTTP_201_CREATED)
async def upload_blob(digest: DigestPath, request: Request, store: StoreDep) -> BlobOut:
    """Store the request body as the blob `digest` (400 when its content hashes otherwise)."""
    blobs = store.artifacts.blobs
    info = await run_in_threadpool(blobs.put_stream, sync_chunks(request.stream()))
    if info.digest != digest:
        # Stored under its real digest, which nothing references: `mloop gc` removes it.
        raise InvalidInputError(
            f"the uploaded content hashes to {info.digest}, not {digest}; it was changed in "
            "transit or the digest was computed over other bytes: upload it again",
            field="digest",
        )
    return BlobOut.model_construct(digest=info.digest, size=info.size)


@router.get(
    "/{digest}",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The bytes."}},
)
def download_blob(digest: DigestPath, store: StoreDep) -> StreamingResponse:
    """A blob's bytes, streamed (verified against the digest as they are read)."""
    blobs = store.artifacts.blobs
    size = blobs.size(digest)
    return StreamingResponse(
        read_chunks(blobs.open(digest)),
        media_type="application/octet-stream",
        headers={"content-length": str(size), "x-mloop-digest": digest},
    )
