"""`/api/v1/runs/{run_id}/artifacts`: upload, list, download and delete a run's artifact files.

Uploads and downloads stream through the server in chunks: a file never sits whole in memory,
whatever its size (uploads are exempt from the request body limit for that reason).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from mloop.artifacts.paths import ArtifactEntry, ArtifactInfo
from mloop.errors import InvalidInputError
from mloop.server.deps import StoreDep
from mloop.server.schemas import ERROR_RESPONSES, ApiModel, RunId, Text
from mloop.server.streaming import read_chunks, sync_chunks

router = APIRouter(
    prefix="/api/v1/runs/{run_id}/artifacts", tags=["artifacts"], responses=ERROR_RESPONSES
)

RunPath = Annotated[RunId, Path(description="32 lowercase hex characters.")]
FilePath = Annotated[str, Path(description="The artifact file's path, relative to the run.")]
FolderQuery = Annotated[Text | None, Query(description="A folder (default: the run's root).")]


class ArtifactFileOut(ApiModel):
    """One stored artifact file."""

    path: str
    digest: str
    size: int


class ArtifactFileIn(ApiModel):
    """An artifact file whose blob is stored already."""

    path: Annotated[Text, Field(min_length=1, max_length=1000)]
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    size: Annotated[int, Field(ge=0, lt=2**63)]


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


class ArtifactFilesIn(ApiModel):
    """Manifest entries for blobs already stored (uploaded through `/api/v1/blobs`)."""

    files: Annotated[list[ArtifactFileIn], Field(max_length=100_000)]


@router.post("/record", status_code=status.HTTP_204_NO_CONTENT)
def record_artifacts(run_id: RunPath, body: ArtifactFilesIn, store: StoreDep) -> Response:
    """Record stored blobs as the run's artifact files (replacing files at those paths).

    Every blob must be in the server's blob store already, with the size given.
    """
    store.runs.get(run_id)
    blobs = store.artifacts.blobs
    for item in body.files:
        if blobs.has(item.digest) and blobs.size(item.digest) != item.size:
            raise InvalidInputError(
                f"artifact {item.path!r}: blob {item.digest} holds {blobs.size(item.digest)} "
                f"bytes, not {item.size}; send the size of the stored blob",
                field="size",
            )
    store.artifacts.record(run_id, [ArtifactEntry(f.path, f.digest, f.size) for f in body.files])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


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
        store.artifacts.write_stream, run_id, path, sync_chunks(request.stream())
    )
    return _file(entry)


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
        read_chunks(handle),
        media_type="application/octet-stream",
        headers={"content-length": str(entry.size), "x-mloop-digest": entry.digest},
    )
