"""Run artifacts over `/api/v1/runs/{run_id}/artifacts`: files streamed up and down in chunks."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

from mloop.artifacts.paths import (
    ArtifactEntry,
    ArtifactInfo,
    clean_relative_path,
    file_path,
    file_to_log,
    folder_to_log,
)
from mloop.entities.validation import validate_run_id
from mloop.errors import ArtifactNotFoundError
from mloop.storage.rest.blobs import RestBlobStore
from mloop.storage.rest.transport import Transport

if TYPE_CHECKING:
    from mloop.artifacts import BlobStore, Progress

CHUNK_BYTES = 1024 * 1024
# Downloads smaller than this are kept in memory by `open`; larger ones spill to a temp file.
SPOOL_BYTES = 8 * 1024 * 1024


class RestArtifactStore:
    """The artifacts of runs on a remote `mloop server`.

    Args:
        transport: the HTTP client of the server.
    """

    def __init__(self, transport: Transport) -> None:
        self._http = transport
        self._blobs: RestBlobStore | None = None

    @property
    def blobs(self) -> BlobStore:
        """The server's blob store, through `/api/v1/blobs` (upload, look up, download)."""
        if self._blobs is None:
            self._blobs = RestBlobStore(self._http)
        return self._blobs

    def log_file(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> str:
        """Upload a file as `artifact_path/<file name>`; returns its logical path.

        Raises:
            InvalidInputError: the file does not exist or the artifact path is invalid.
        """
        source, relative = file_to_log(local_path, artifact_path)
        with source.open("rb") as handle:
            self._upload(run_id, relative, _file_chunks(handle))
        return relative

    def log_dir(
        self,
        run_id: str,
        local_dir: str | os.PathLike[str],
        artifact_path: str | None = None,
        *,
        progress: Progress | None = None,
    ) -> int:
        """Upload a folder's files (recursively) under `artifact_path/`; returns how many.

        Raises:
            InvalidInputError: the folder does not exist or the artifact path is invalid.
        """
        files = folder_to_log(local_dir, artifact_path)
        for local, relative in files:
            with local.open("rb") as handle:
                self._upload(run_id, relative, _file_chunks(handle))
            if progress is not None:
                progress(1)
        return len(files)

    def write_bytes(self, run_id: str, artifact_file: str, data: bytes) -> str:
        """Upload bytes as an artifact file; returns its logical path.

        Raises:
            InvalidInputError: the path is invalid.
        """
        return self._upload(run_id, artifact_file, data).path

    def write_stream(
        self, run_id: str, artifact_file: str, chunks: Iterable[bytes]
    ) -> ArtifactEntry:
        """Upload a stream as an artifact file, chunk by chunk.

        Raises:
            InvalidInputError: the path is invalid.
        """
        return self._upload(run_id, artifact_file, iter(chunks))

    def record(self, run_id: str, entries: Sequence[ArtifactEntry]) -> None:
        """Record blobs already in the server's blob store as artifact files (see `blobs`).

        Raises:
            InvalidInputError: a path is invalid, or a size is not the stored blob's.
            BlobNotFoundError: a digest names no blob the server holds.
        """
        files = [{"path": file_path(e.path), "digest": e.digest, "size": e.size} for e in entries]
        if files:
            self._http.request("POST", f"{_base(run_id)}/record", body={"files": files})

    def list_files(self, run_id: str, path: str | None = None) -> list[ArtifactEntry]:
        """Every file at or under `path` (all files without one), sorted by path."""
        data = self._http.request("GET", f"{_base(run_id)}/files", params=_path_param(path))
        return [ArtifactEntry(f["path"], f["digest"], f["size"]) for f in data["files"]]

    def list(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]:
        """The entries directly under the folder `path` (the root by default), sorted by path."""
        data = self._http.request("GET", _base(run_id), params=_path_param(path))
        return [
            ArtifactInfo(a["path"], a["is_dir"], a["size_bytes"], a["digest"])
            for a in data["artifacts"]
        ]

    def get(self, run_id: str, path: str) -> ArtifactEntry:
        """The manifest entry of one file.

        Raises:
            ArtifactNotFoundError: no file at that path.
        """
        clean = file_path(path)
        for entry in self.list_files(run_id, clean):
            if entry.path == clean:
                return entry
        raise ArtifactNotFoundError(run_id, clean)

    def open(self, run_id: str, path: str) -> BinaryIO:
        """The content of one artifact file as a readable file (downloaded first).

        Raises:
            ArtifactNotFoundError: no file at that path.
        """
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned
        try:
            self._download_into(run_id, path, spool)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool  # type: ignore[return-value]

    def read_bytes(self, run_id: str, path: str) -> bytes:
        """The content of one artifact file.

        Raises:
            ArtifactNotFoundError: no file at that path.
        """
        with self.open(run_id, path) as handle:
            return handle.read()

    def download(
        self,
        run_id: str,
        path: str | None,
        destination: str | os.PathLike[str],
        *,
        link: bool = False,
    ) -> Path:
        """Download an artifact file or folder into a local folder (`link` has no effect).

        Returns:
            The local path of the file or folder.

        Raises:
            ArtifactNotFoundError: nothing is stored at `path`.
        """
        folder = clean_relative_path(path)
        target = Path(destination) / (folder.name or "artifacts")
        entries = self.list_files(run_id, path)
        if not entries:
            if folder.parts:
                raise ArtifactNotFoundError(run_id, str(folder))
            target.mkdir(parents=True, exist_ok=True)
            return target
        if len(entries) == 1 and entries[0].path == str(folder):
            self._download_file(run_id, entries[0].path, target)
            return target
        prefix = len(f"{folder}/") if folder.parts else 0
        for entry in entries:
            self._download_file(run_id, entry.path, target / entry.path[prefix:])
        return target

    def delete(self, run_id: str, path: str | None = None) -> int:
        """Remove an artifact file or folder (all of them without a path); returns how many."""
        data = self._http.request("DELETE", _base(run_id), params=_path_param(path))
        return int(data["deleted"])

    def _upload(self, run_id: str, artifact_file: str, content: Any) -> ArtifactEntry:
        url = f"{_base(run_id)}/content/{quote(file_path(artifact_file))}"
        # A stream cannot be sent twice: only whole bytes are retried after a connection error.
        response = self._http.send(
            "PUT",
            url,
            content=content,
            headers={"content-type": "application/octet-stream"},
            retry=isinstance(content, bytes),
        )
        data = response.json()
        return ArtifactEntry(data["path"], data["digest"], data["size"])

    def _download_file(self, run_id: str, path: str, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        try:
            with partial.open("wb") as handle:
                self._download_into(run_id, path, handle)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)

    def _download_into(self, run_id: str, path: str, handle: Any) -> None:
        url = f"{_base(run_id)}/content/{quote(file_path(path))}"
        with self._http.stream("GET", url) as response:
            for chunk in response.iter_bytes(CHUNK_BYTES):
                handle.write(chunk)


def _base(run_id: str) -> str:
    return f"/api/v1/runs/{validate_run_id(run_id)}/artifacts"


def _path_param(path: str | None) -> dict[str, str] | None:
    clean = str(clean_relative_path(path))
    return None if clean == "." else {"path": clean}


def _file_chunks(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK_BYTES):
        yield chunk
