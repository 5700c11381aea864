"""The artifacts of one run, on the store's content-addressed artifact store.

A run's logical paths map to blob digests in the store's manifest (`store.artifacts`); the
bytes live once in the blob store at the artifact root, whoever logs them.
`LocalArtifactStore` (a plain folder of files per run) is what runs used before; it remains for
code that still writes model packages into a run's folder and will go when that moves over.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO

from mloop.artifacts.paths import ArtifactEntry as ArtifactEntry
from mloop.artifacts.paths import ArtifactInfo as ArtifactInfo
from mloop.artifacts.paths import clean_relative_path as clean_relative_path
from mloop.artifacts.paths import file_path, file_to_log, folder_to_log
from mloop.errors import ConfigurationError, NotFoundError

if TYPE_CHECKING:
    from mloop.artifacts import Progress
    from mloop.storage import Store
    from mloop.storage.protocols import ArtifactStore


class RunArtifacts:
    """The artifacts of one run (or logged model): the manifest store bound to its id.

    Args:
        artifacts: the store's artifact store (`store.artifacts`).
        run_id: the owner.
    """

    def __init__(self, artifacts: ArtifactStore, run_id: str) -> None:
        self.artifacts = artifacts
        self.run_id = run_id

    @classmethod
    def of(cls, store: Store, run_id: str) -> RunArtifacts:
        """The artifacts of a run of `store`, checking that the run exists.

        Raises:
            RunNotFoundError: no such run.
        """
        store.runs.get(run_id)
        return cls(store.artifacts, run_id)

    def log_file(self, local_path: str | os.PathLike[str], artifact_path: str | None = None) -> str:
        """Store a file under `artifact_path/<file name>`; returns its logical path.

        Raises:
            InvalidInputError: the file does not exist or the artifact path is invalid.
        """
        return self.artifacts.log_file(self.run_id, local_path, artifact_path)

    def log_dir(
        self,
        local_dir: str | os.PathLike[str],
        artifact_path: str | None = None,
        *,
        progress: Progress | None = None,
    ) -> int:
        """Store a folder's files (recursively) under `artifact_path/`; returns how many.

        Raises:
            InvalidInputError: the folder does not exist or the artifact path is invalid.
        """
        return self.artifacts.log_dir(self.run_id, local_dir, artifact_path, progress=progress)

    def write_bytes(self, artifact_file: str, data: bytes) -> str:
        """Store bytes as an artifact file; returns its logical path.

        Raises:
            InvalidInputError: the path is invalid or names a folder.
        """
        return self.artifacts.write_bytes(self.run_id, artifact_file, data)

    def files(self, path: str | None = None) -> list[ArtifactEntry]:
        """Every file at or under `path`, with its digest and size."""
        return self.artifacts.list_files(self.run_id, path)

    def open(self, artifact_file: str) -> BinaryIO:
        """A verified stream of one artifact file.

        Raises:
            ArtifactNotFoundError: there is no such file.
        """
        return self.artifacts.open(self.run_id, artifact_file)

    def read_bytes(self, artifact_file: str) -> bytes:
        """The content of one artifact file.

        Raises:
            ArtifactNotFoundError: there is no such file.
        """
        return self.artifacts.read_bytes(self.run_id, artifact_file)

    def download(
        self, path: str | None, destination: str | os.PathLike[str], *, link: bool = False
    ) -> Path:
        """Materialise an artifact file or folder into a local folder; returns its path.

        Raises:
            ArtifactNotFoundError: there is no such artifact.
        """
        return self.artifacts.download(self.run_id, path, destination, link=link)

    def list(self, path: str | None = None) -> list[ArtifactInfo]:
        """The entries directly under `path` (the root by default), sorted by path."""
        return self.artifacts.list(self.run_id, path)


def local_root(artifact_uri: str) -> Path:
    """The local folder of an artifact URI (`/path` or `file:///path`).

    Raises:
        ConfigurationError: the URI is remote.
    """
    if artifact_uri.startswith("file://"):
        return Path(artifact_uri.removeprefix("file://"))
    if "://" in artifact_uri:
        raise ConfigurationError(
            f"artifact URI {artifact_uri!r} is not a local folder; a folder of files per run "
            "needs a local path (set MLOOP_ARTIFACT_URI to a path, or use store.artifacts, "
            "which stores run artifacts on any blob store)"
        )
    return Path(artifact_uri)


class LocalArtifactStore:
    """A folder of files per run (the layout before the content-addressed store).

    Args:
        artifact_uri: the run's artifact URI (a local path or `file://` URI).
    """

    def __init__(self, artifact_uri: str) -> None:
        self.root = local_root(artifact_uri)

    def log_file(self, local_path: str | os.PathLike[str], artifact_path: str | None = None) -> str:
        """Copy a file into the folder, under `artifact_path/<file name>`.

        Raises:
            InvalidInputError: the file does not exist or the artifact path is invalid.
        """
        source, logical = file_to_log(local_path, artifact_path)
        self._write_atomic(PurePosixPath(logical), source)
        return logical

    def log_dir(self, local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> int:
        """Copy a folder's files (recursively) under `artifact_path/`; returns how many.

        Raises:
            InvalidInputError: the folder does not exist or the artifact path is invalid.
        """
        files = folder_to_log(local_dir, artifact_path)
        for file, logical in files:
            self._write_atomic(PurePosixPath(logical), file)
        return len(files)

    def write_bytes(self, artifact_file: str, data: bytes) -> str:
        """Write bytes as a file.

        Raises:
            InvalidInputError: the path is invalid or names a folder.
        """
        logical = file_path(artifact_file)
        self._write_atomic(PurePosixPath(logical), data)
        return logical

    def link_file(self, source: str | os.PathLike[str], artifact_file: str) -> str:
        """Place an existing read-only file by hard link (a copy where links fail).

        Raises:
            InvalidInputError: the artifact path is invalid.
        """
        relative = clean_relative_path(artifact_file)
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.parent / f".mloop-tmp-{uuid.uuid4().hex}"
        try:
            os.link(source, temporary)
        except OSError:  # another file system, or links not supported
            self._write_atomic(relative, Path(source))
            return str(relative)
        os.replace(temporary, target)
        return str(relative)

    def list(self, path: str | None = None) -> list[ArtifactInfo]:
        """The entries directly under `path` (the root by default), sorted by path."""
        relative = clean_relative_path(path)
        folder = self.root / relative
        if not folder.is_dir():
            return []
        entries = []
        for child in sorted(folder.iterdir()):
            if child.name.startswith(".mloop-tmp-"):
                continue
            child_path = str(relative / child.name)
            is_dir = child.is_dir()
            entries.append(
                ArtifactInfo(child_path, is_dir, None if is_dir else child.stat().st_size)
            )
        return entries

    def read_bytes(self, artifact_file: str) -> bytes:
        """The content of one file.

        Raises:
            NotFoundError: there is no such file.
        """
        target = self.root / clean_relative_path(artifact_file)
        if not target.is_file():
            raise NotFoundError(f"artifact {artifact_file!r} does not exist under {self.root}")
        return target.read_bytes()

    def download(self, path: str | None, destination: str | os.PathLike[str]) -> Path:
        """Copy a file or folder to a local destination folder; returns the copy's path.

        Raises:
            NotFoundError: there is no such artifact.
        """
        relative = clean_relative_path(path)
        source = self.root / relative
        target = Path(destination) / (relative.name or self.root.name)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        elif source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        else:
            raise NotFoundError(f"artifact {path!r} does not exist under {self.root}")
        return target

    def _write_atomic(self, relative: PurePosixPath, data: bytes | Path) -> None:
        # A temporary file beside the target, renamed: a crash never leaves a partial file.
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".mloop-tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                if isinstance(data, Path):
                    with data.open("rb") as source:  # streamed: files may be large
                        shutil.copyfileobj(source, handle, length=1 << 20)
                else:
                    handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
