"""SQL implementation of run artifacts: manifest rows (owner, path) -> blob in the blob store.

Bytes go to the content-addressed blob store first, then the manifest rows are written in one
transaction, so a manifest never names a blob that is not stored (`mloop gc` spares blobs
younger than its grace period, which covers the moment between the two).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import Engine, or_, select

from mloop.artifacts.paths import (
    ArtifactEntry,
    ArtifactInfo,
    clean_relative_path,
    file_path,
    file_to_log,
    folder_to_log,
)
from mloop.entities.clock import now_ms
from mloop.errors import ArtifactNotFoundError, BlobNotFoundError, InvalidInputError
from mloop.storage.sql.dialect import upsert
from mloop.storage.sql.engine import read_transaction, with_retries, write_transaction
from mloop.storage.sql.schema_artifacts import artifact_manifests

if TYPE_CHECKING:
    from mloop.artifacts import BlobStore, Progress

_manifest = artifact_manifests
_OWNER_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# Rows per statement when a folder of many files is recorded.
_BATCH = 1000


def check_owner(run_id: str) -> str:
    """Check an artifact owner id (a run id or logged-model id) and return it.

    Raises:
        InvalidInputError: it is empty, longer than 64 characters or has other characters than
            letters, digits, `_`, `-` and `.`.
    """
    if not isinstance(run_id, str) or not _OWNER_RE.fullmatch(run_id):
        raise InvalidInputError(
            f"{run_id!r} is not a run or logged-model id (1-64 letters, digits, '_', '-', '.')",
            field="run_id",
        )
    return run_id


class SqlArtifactStore:
    """Run artifacts (see `mloop.storage.protocols.ArtifactStore`).

    Args:
        engine: the metadata database.
        artifact_root: the URI of the blob store (opened when first used).
    """

    def __init__(self, engine: Engine, *, artifact_root: str) -> None:
        self._engine = engine
        self._artifact_root = artifact_root
        self._blobs: BlobStore | None = None

    @property
    def blobs(self) -> BlobStore:
        """The blob store at the artifact root (shared by runs, datasets and models)."""
        if self._blobs is None:
            from mloop.artifacts import open_blob_store

            self._blobs = open_blob_store(self._artifact_root)
        return self._blobs

    # -- writing ------------------------------------------------------------------------------

    def log_file(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> str:
        """Store a file as `artifact_path/<file name>`; returns its logical path.

        Raises:
            InvalidInputError: the file does not exist or the artifact path is invalid.
        """
        check_owner(run_id)
        source, relative = file_to_log(local_path, artifact_path)
        info = self.blobs.put_file(source)
        self._write_rows(run_id, _rows(run_id, [ArtifactEntry(relative, info.digest, info.size)]))
        return relative

    def log_dir(
        self,
        run_id: str,
        local_dir: str | os.PathLike[str],
        artifact_path: str | None = None,
        *,
        progress: Progress | None = None,
    ) -> int:
        """Store a folder's files (recursively) under `artifact_path/`; returns how many.

        Files are hashed and stored in parallel (small ones packed) and recorded in one
        transaction.

        Raises:
            InvalidInputError: the folder does not exist or the artifact path is invalid.
        """
        check_owner(run_id)
        files = folder_to_log(local_dir, artifact_path)
        infos = self.blobs.put_files([f for f, _ in files], progress=progress)
        entries = [
            ArtifactEntry(relative, i.digest, i.size)
            for (_, relative), i in zip(files, infos, strict=True)
        ]
        self._write_rows(run_id, _rows(run_id, entries))
        return len(entries)

    def write_bytes(self, run_id: str, artifact_file: str, data: bytes) -> str:
        """Store bytes as an artifact file; returns its logical path.

        Raises:
            InvalidInputError: the path is invalid or names no file.
        """
        check_owner(run_id)
        path = file_path(artifact_file)
        info = self.blobs.put_bytes(data)
        self._write_rows(run_id, _rows(run_id, [ArtifactEntry(path, info.digest, info.size)]))
        return path

    def write_stream(
        self, run_id: str, artifact_file: str, chunks: Iterable[bytes]
    ) -> ArtifactEntry:
        """Store a stream (an HTTP upload) as an artifact file, with bounded memory.

        Raises:
            InvalidInputError: the path is invalid or names no file.
        """
        check_owner(run_id)
        path = file_path(artifact_file)
        info = self.blobs.put_stream(chunks)
        entry = ArtifactEntry(path, info.digest, info.size)
        self._write_rows(run_id, _rows(run_id, [entry]))
        return entry

    def record(self, run_id: str, entries: Sequence[ArtifactEntry]) -> None:
        """Write manifest rows for blobs already in the blob store (replacing same paths).

        Raises:
            InvalidInputError: a path or digest is invalid.
            BlobNotFoundError: a digest names no stored blob.
        """
        check_owner(run_id)
        rows = _rows(run_id, entries)
        if not rows:
            return
        absent = self.blobs.missing({row["digest"] for row in rows})
        if absent:
            raise BlobNotFoundError(min(absent), where=f"the blob store at {self.blobs.uri}")
        self._write_rows(run_id, rows)

    def _write_rows(self, run_id: str, rows: list[dict[str, Any]]) -> None:
        def run() -> None:
            with write_transaction(self._engine) as conn:
                stmt = upsert(
                    conn,
                    _manifest,
                    keys=("owner_id", "path"),
                    update=("digest", "size", "creation_time"),
                )
                for start in range(0, len(rows), _BATCH):
                    conn.execute(stmt, rows[start : start + _BATCH])

        with_retries(run, what=f"recording {len(rows)} artifact(s) of {run_id}")

    def delete(self, run_id: str, path: str | None = None) -> int:
        """Remove an artifact file or folder (all of them without a path) from the manifest.

        The blobs stay until `mloop gc` finds them unreferenced.

        Returns:
            How many files were removed.
        """
        check_owner(run_id)
        where = _under(run_id, clean_relative_path(path))

        def run() -> int:
            with write_transaction(self._engine) as conn:
                return int(conn.execute(_manifest.delete().where(*where)).rowcount)

        return with_retries(run, what=f"deleting artifacts of {run_id}")

    # -- reading ------------------------------------------------------------------------------

    def list_files(self, run_id: str, path: str | None = None) -> list[ArtifactEntry]:
        """Every file at or under `path` (all files without one), sorted by path."""
        check_owner(run_id)
        where = _under(run_id, clean_relative_path(path))
        query = (
            select(_manifest.c.path, _manifest.c.digest, _manifest.c.size)
            .where(*where)
            .order_by(_manifest.c.path)
        )
        with read_transaction(self._engine) as conn:
            return [ArtifactEntry(p, d, int(s)) for p, d, s in conn.execute(query)]

    def list(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]:
        """The entries directly under the folder `path` (the root by default), sorted by path.

        A path that names a file, or nothing, lists as empty.
        """
        folder = clean_relative_path(path)
        prefix = f"{folder}/" if folder.parts else ""
        children: dict[str, ArtifactInfo] = {}
        for entry in self.list_files(run_id, path):
            rest = entry.path[len(prefix) :]
            if not rest or entry.path == str(folder):
                continue
            name, slash, _ = rest.partition("/")
            child = prefix + name
            if slash:
                children.setdefault(child, ArtifactInfo(child, True, None))
            else:
                children[child] = ArtifactInfo(child, False, entry.size, entry.digest)
        return [children[k] for k in sorted(children)]

    def find(self, run_id: str, path: str) -> ArtifactEntry | None:
        """The manifest entry of one file, or None."""
        check_owner(run_id)
        clean = file_path(path)
        query = select(_manifest.c.digest, _manifest.c.size).where(
            _manifest.c.owner_id == run_id, _manifest.c.path == clean
        )
        with read_transaction(self._engine) as conn:
            row = conn.execute(query).first()
        return None if row is None else ArtifactEntry(clean, row.digest, int(row.size))

    def get(self, run_id: str, path: str) -> ArtifactEntry:
        """The manifest entry of one file.

        Raises:
            ArtifactNotFoundError: the run has no such file.
        """
        entry = self.find(run_id, path)
        if entry is None:
            raise ArtifactNotFoundError(run_id, path)
        return entry

    def open(self, run_id: str, path: str) -> BinaryIO:
        """A stream of one artifact file, verified against its digest when read to the end.

        Raises:
            ArtifactNotFoundError: the run has no such file.
            CorruptBlobError: the stored bytes are damaged.
        """
        return self.blobs.open(self.get(run_id, path).digest)

    def read_bytes(self, run_id: str, path: str) -> bytes:
        """The content of one artifact file.

        Raises:
            ArtifactNotFoundError: the run has no such file.
            CorruptBlobError: the stored bytes are damaged.
        """
        return self.blobs.read_bytes(self.get(run_id, path).digest)

    def download(
        self,
        run_id: str,
        path: str | None,
        destination: str | os.PathLike[str],
        *,
        link: bool = False,
    ) -> Path:
        """Materialise an artifact file or folder into a local folder.

        Args:
            run_id: the owner.
            path: a file or folder (None: all artifacts, into `destination/artifacts`).
            destination: the local folder to put it in.
            link: hard-link blobs where possible (read-only files) instead of copying.

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
            self.blobs.get_file(entries[0].digest, target, link=link)
            return target
        prefix = len(f"{folder}/") if folder.parts else 0
        jobs = [(e.digest, target / e.path[prefix:]) for e in entries if e.path != str(folder)]
        self.blobs.get_files(jobs, link=link)
        return target


def _rows(run_id: str, entries: Sequence[ArtifactEntry]) -> list[dict[str, Any]]:
    from mloop.artifacts import check_digest

    now = now_ms()
    rows: dict[str, dict[str, Any]] = {}
    for entry in entries:
        path = file_path(entry.path)
        if entry.size < 0:
            raise InvalidInputError(f"artifact {path!r} has a negative size", field="size")
        rows[path] = {
            "owner_id": run_id,
            "path": path,
            "digest": check_digest(entry.digest),
            "size": entry.size,
            "creation_time": now,
        }
    return list(rows.values())


def _under(run_id: str, folder: PurePosixPath) -> tuple[Any, ...]:
    """Conditions selecting the file `folder` and everything below it."""
    if not folder.parts:
        return (_manifest.c.owner_id == run_id,)
    text = str(folder)
    return (
        _manifest.c.owner_id == run_id,
        or_(_manifest.c.path == text, _manifest.c.path.startswith(f"{text}/", autoescape=True)),
    )
