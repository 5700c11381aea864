"""MLflow's artifact proxy (`/api/2.0/mlflow-artifacts/artifacts/...`) and `artifacts/list`.

Runs are shown to MLflow clients with an artifact URI `mlflow-artifacts:/<experiment>/<run>/
artifacts` and logged models with `mlflow-artifacts:/<experiment>/models/<model>/artifacts`, so
the client sends their files here. A proxy path is mapped back to its owner (run or logged
model) and a path inside it, and the bytes go to the store's content-addressed artifacts.
"""

from __future__ import annotations

import mimetypes
import tempfile
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import IO, Annotated, Any

from fastapi import Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from mloop.errors import ArtifactNotFoundError, NotFoundError
from mloop.server.mlflow.convert import proxied_uri
from mloop.server.mlflow.routing import StoreDep, new_router
from mloop.server.mlflow.runs import RunRef
from mloop.storage import Store
from mloop.tracking.artifacts import clean_relative_path

# Mounted at `/api/2.0/mlflow-artifacts` (and the ajax-api mirror).
proxy_router = new_router()
# Mounted with the tracking endpoints under `/api/2.0/mlflow`.
router = new_router()

_CHUNK = 1 << 20
# Uploads are spooled to disk past this size, so memory stays bounded.
_SPOOL_BYTES = 8 << 20


def resolve(store: Store, proxy_path: str) -> tuple[str, str]:
    """The owner id (run or logged model) and the path inside its artifacts of a proxy path.

    Raises:
        InvalidInputError: the path is absolute or escapes with `..`.
        NotFoundError: the path names no run or logged model of this server.
    """
    parts = clean_relative_path(proxy_path).parts
    if len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
        model = store.logged_models.get(parts[2], allow_deleted=True)
        if model.experiment_id == parts[0]:
            return model.model_id, "/".join(parts[4:])
    elif len(parts) >= 3 and parts[2] == "artifacts":
        run = store.runs.get(parts[1])
        if run.experiment_id == parts[0]:
            return run.run_id, "/".join(parts[3:])
    raise NotFoundError(
        f"artifact path {proxy_path!r} names no run or logged model of this server; paths look "
        "like <experiment_id>/<run_id>/artifacts/<path> or "
        "<experiment_id>/models/<model_id>/artifacts/<path>"
    )


def _file_infos(store: Store, owner: str, path: str, *, relative_to: str) -> list[dict[str, Any]]:
    files = []
    for info in store.artifacts.list(owner, path or None):
        entry: dict[str, Any] = {
            "path": info.path[len(relative_to) :].lstrip("/") if relative_to else info.path,
            "is_dir": info.is_dir,
        }
        if info.size_bytes is not None:
            entry["file_size"] = info.size_bytes
        files.append(entry)
    return files


@proxy_router.get("/artifacts")
def list_proxied(store: StoreDep, path: Annotated[str, Query()] = "") -> dict[str, Any]:
    """The entries directly under a proxy path, named relative to it (MLflow's shape)."""
    owner, inner = resolve(store, path)
    return {"files": _file_infos(store, owner, inner, relative_to=inner)}


@proxy_router.get("/artifacts/{path:path}")
def download(path: str, store: StoreDep) -> StreamingResponse:
    """Stream one artifact file."""
    owner, inner = resolve(store, path)
    if not inner:
        raise ArtifactNotFoundError(owner, path)
    handle = store.artifacts.open(owner, inner)
    media_type = mimetypes.guess_type(PurePosixPath(inner).name)[0] or "application/octet-stream"
    return StreamingResponse(_chunks(handle), media_type=media_type)


@proxy_router.put("/artifacts/{path:path}")
async def upload(path: str, request: Request, store: StoreDep) -> dict[str, Any]:
    """Store the request body as an artifact file (streamed, spooled to disk when large)."""
    owner, inner = await run_in_threadpool(resolve, store, path)
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
        async for chunk in request.stream():
            spool.write(chunk)
        spool.seek(0)
        await run_in_threadpool(store.artifacts.write_stream, owner, inner, _chunks(spool))
    return {}


@proxy_router.delete("/artifacts/{path:path}")
def delete(path: str, store: StoreDep) -> dict[str, Any]:
    """Remove an artifact file or folder (the bytes go at the next `mloop gc`)."""
    owner, inner = resolve(store, path)
    store.artifacts.delete(owner, inner or None)
    return {}


@router.get("/artifacts/list")
def list_run_artifacts(
    store: StoreDep,
    run_id: Annotated[str | None, Query()] = None,
    run_uuid: Annotated[str | None, Query()] = None,
    path: Annotated[str, Query()] = "",
) -> dict[str, Any]:
    """A run's artifacts directly under `path`, named relative to the run's root."""
    run = store.runs.get(RunRef(run_id=run_id, run_uuid=run_uuid).id())
    return {
        "root_uri": proxied_uri(run.artifact_uri, store.artifact_root),
        "files": _file_infos(store, run.run_id, path, relative_to=""),
    }


def _chunks(handle: IO[bytes]) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(_CHUNK):
            yield chunk
