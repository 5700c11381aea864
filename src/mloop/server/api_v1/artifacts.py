"""`/api/v1/runs/{run_id}/artifacts`: upload, list, download and delete a run's artifact files.

Uploads and downloads stream through the server in chunks: a file never sits whole in memory,
whatever its size (uploads are exempt from the request body limit for that reason).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, BinaryIO

import anyio
from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from mloop.artifacts.paths import ArtifactEntry, ArtifactInfo
from mloop.server.deps import StoreDep
from mloop.server.schemas import ERROR_RESPONSES, ApiModel, RunId, Text

router = APIRouter(prefix="/runs/{run_id}/artifacts", tags=["artifacts"], responses=ERROR_RESPONSES)

RunPath = Annotated[RunId, Path(description="32 lowercase hex characters.")]
FilePath = Annotated[str, Path(description="The artifact file's path, relative to the run.")]
FolderQuery = Annotated[Text | None, Query(description="A folder (default: the run's root).")]
CHUNK_BYTES = 1024 * 1024


class ArtifactFileOut(ApiModel):
    """One stored artifact file."""

    path: str
    digest: str
    size: int


class ArtifactInfoOut(ApiModel):
    """One entry of a folder listing."""

    path: str
    is_dir: bool
    size_bytes: int | None
    digest: str | None


class ArtifactListing(ApiModel):
    """The entries directly under a folder."""

    artifacts: list[ArtifactInfoOut]


class ArtifactFiles(ApiModel):
    """Every file at or under a path."""

    files: list[ArtifactFileOut]


class DeletedCount(ApiModel):
    """How many files a delete removed."""

    deleted: int


def _file(entry: ArtifactEntry) -> ArtifactFileOut:
    return ArtifactFileOut.model_construct(path=entry.path, digest=entry.digest, size=entry.size)


def _info(info: ArtifactInfo) -> ArtifactInfoOut:
    return ArtifactInfoOut.model_construct(
        path=info.path, is_dir=info.is_dir, size_bytes=info.size_bytes, digest=info.digest
    )


@router.get("")
def list_artifacts(run_id: RunPath, store: StoreDep, path: FolderQuery = None) -> ArtifactListing:
    """Files and folders directly under a folder of the run's artifacts."""
    store.runs.get(run_id)
    found = store.artifacts.list(run_id, path)
    return ArtifactListing.model_construct(artifacts=[_info(i) for i in found])


@router.get("/files")
def list_artifact_files(
    run_id: RunPath, store: StoreDep, path: FolderQuery = None
) -> ArtifactFiles:
    """Every file at or under a path (all of the run's files without one), by path."""
    store.runs.get(run_id)
    return ArtifactFiles.model_construct(
        files=[_file(e) for e in store.artifacts.list_files(run_id, path)]
    )


@router.delete("")
def delete_artifacts(run_id: RunPath, store: StoreDep, path: FolderQuery = None) -> DeletedCount:
    """Remove a file or folder (every file without a path) from the run's artifacts."""
    store.runs.get(run_id)
    return DeletedCount(deleted=store.artifacts.delete(run_id, path))


@router.put("/content/{path:path}", status_code=status.HTTP_201_CREATED)
async def upload_artifact(
    run_id: RunPath, path: FilePath, request: Request, store: StoreDep
) -> ArtifactFileOut:
    """Store the request body as an artifact file (streamed; replaces a file at that path)."""
    await run_in_threadpool(store.runs.get, run_id)
    entry = await run_in_threadpool(
        store.artifacts.write_stream, run_id, path, _sync_chunks(request.stream())
    )
    return _file(entry)


def _sync_chunks(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
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


@router.get(
    "/content/{path:path}",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The bytes."}},
)
def download_artifact(run_id: RunPath, path: FilePath, store: StoreDep) -> StreamingResponse:
    """The bytes of one artifact file, streamed (verified against its digest as they are read)."""
    store.runs.get(run_id)
    entry = store.artifacts.get(run_id, path)
    handle = store.artifacts.open(run_id, path)
    return StreamingResponse(
        _read_chunks(handle),
        media_type="application/octet-stream",
        headers={"content-length": str(entry.size), "x-mloop-digest": entry.digest},
    )


def _read_chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk
