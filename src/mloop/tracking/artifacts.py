"""Run artifacts in a local folder: files written atomically, paths that cannot escape the root.

A later stage moves artifacts onto the content-addressed store; the paths and the API stay.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mloop.errors import ConfigurationError, InvalidInputError, NotFoundError


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """One entry of an artifact listing.

    Attributes:
        path: path relative to the run's artifact root, with `/` separators.
        is_dir: True for a folder.
        size_bytes: file size, None for folders.
    """

    path: str
    is_dir: bool
    size_bytes: int | None


def local_root(artifact_uri: str) -> Path:
    """The local folder of an artifact URI (`/path` or `file:///path`).

    Raises:
        ConfigurationError: the URI is remote; remote artifact stores come with the artifact store.
    """
    if artifact_uri.startswith("file://"):
        return Path(artifact_uri.removeprefix("file://"))
    if "://" in artifact_uri:
        raise ConfigurationError(
            f"artifact URI {artifact_uri!r} is not a local folder; this version stores run "
            "artifacts in local folders only (set MLOOP_ARTIFACT_URI to a path)"
        )
    return Path(artifact_uri)


def clean_relative_path(path: str | None) -> PurePosixPath:
    """Check an artifact path: relative, no `..`, no backslashes or NUL bytes.

    Raises:
        InvalidInputError: the path is absolute or would escape the artifact root.
    """
    if path is None or path in ("", "."):
        return PurePosixPath()
    if "\\" in path or "\x00" in path:
        raise InvalidInputError(
            f"artifact path {path!r} may not contain backslashes or NUL bytes; use '/'",
            field="artifact_path",
        )
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        raise InvalidInputError(
            f"artifact path {path!r} must be relative and stay inside the run's artifacts "
            "(no leading '/', no '..')",
            field="artifact_path",
        )
    return pure


class LocalArtifactStore:
    """The artifacts of one run, in a local folder.

    Args:
        artifact_uri: the run's artifact URI (a local path or `file://` URI).
    """

    def __init__(self, artifact_uri: str) -> None:
        self.root = local_root(artifact_uri)

    def log_file(self, local_path: str | os.PathLike[str], artifact_path: str | None = None) -> str:
        """Copy a file into the artifacts, under `artifact_path/<file name>`.

        Returns:
            The artifact's relative path.

        Raises:
            InvalidInputError: the file does not exist or the artifact path is invalid.
        """
        source = Path(local_path)
        if not source.is_file():
            raise InvalidInputError(
                f"cannot log {str(source)!r} as an artifact: it is not a file "
                "(use log_artifacts for folders)",
                field="local_path",
            )
        relative = clean_relative_path(artifact_path) / source.name
        self._write_atomic(relative, source)
        return str(relative)

    def log_dir(self, local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> int:
        """Copy a folder's files (recursively) into the artifacts under `artifact_path/`.

        Returns:
            How many files were copied.

        Raises:
            InvalidInputError: the folder does not exist or the artifact path is invalid.
        """
        source = Path(local_dir)
        if not source.is_dir():
            raise InvalidInputError(
                f"cannot log {str(source)!r} as artifacts: it is not a folder", field="local_dir"
            )
        base = clean_relative_path(artifact_path)
        count = 0
        for file in sorted(p for p in source.rglob("*") if p.is_file()):
            relative = base / PurePosixPath(file.relative_to(source).as_posix())
            self._write_atomic(relative, file)
            count += 1
        return count

    def write_bytes(self, artifact_file: str, data: bytes) -> str:
        """Write bytes as an artifact file.

        Raises:
            InvalidInputError: the path is invalid or names a folder.
        """
        relative = clean_relative_path(artifact_file)
        if not relative.name:
            raise InvalidInputError(
                f"artifact file {artifact_file!r} must name a file", field="artifact_file"
            )
        self._write_atomic(relative, data)
        return str(relative)

    def link_file(self, source: str | os.PathLike[str], artifact_file: str) -> str:
        """Place an existing read-only file as an artifact by hard link (a copy where links fail).

        Many runs can share one file this way (the environment of a process, say) at no cost;
        the source must not change afterwards, so callers make it read-only.

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
        """The content of one artifact file.

        Raises:
            NotFoundError: there is no such file.
        """
        target = self.root / clean_relative_path(artifact_file)
        if not target.is_file():
            raise NotFoundError(f"artifact {artifact_file!r} does not exist under {self.root}")
        return target.read_bytes()

    def download(self, path: str | None, destination: str | os.PathLike[str]) -> Path:
        """Copy an artifact file or folder to a local destination folder.

        Returns:
            The local path of the copy.

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
        # Write to a temporary file beside the target and rename: a crash never leaves a
        # partial file under the final name.
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
