"""Logical artifact paths: validation, and the entries of a run's artifact manifest."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mloop.errors import InvalidInputError

MAX_PATH_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """One entry of an artifact listing.

    Attributes:
        path: path relative to the run's artifact root, with `/` separators.
        is_dir: True for a folder.
        size_bytes: file size, None for folders.
        digest: the file's blob digest, None for folders.
    """

    path: str
    is_dir: bool
    size_bytes: int | None
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class ArtifactEntry:
    """One file of a run's artifact manifest.

    Attributes:
        path: its logical path (relative, `/` separators).
        digest: the blob holding its bytes.
        size: its size in bytes.
    """

    path: str
    digest: str
    size: int


def clean_relative_path(path: str | None) -> PurePosixPath:
    """Check an artifact path: relative, no `..`, no backslashes or NUL bytes.

    `None`, `""` and `"."` are the root (an empty path); `a//b/./c` is normalised to `a/b/c`.

    Raises:
        InvalidInputError: the path is absolute, would escape the artifact root, or is too long.
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
    if len(str(pure)) > MAX_PATH_LENGTH:
        raise InvalidInputError(
            f"artifact path {path[:60]!r}... is {len(str(pure))} characters long; at most "
            f"{MAX_PATH_LENGTH} are allowed",
            field="artifact_path",
        )
    return pure


def file_path(path: str) -> str:
    """A validated path that names a file (not the root).

    Raises:
        InvalidInputError: the path is invalid or empty.
    """
    clean = clean_relative_path(path)
    if not clean.name:
        raise InvalidInputError(f"artifact file {path!r} must name a file", field="artifact_file")
    return str(clean)


def file_to_log(local_path: str | os.PathLike[str], artifact_path: str | None) -> tuple[Path, str]:
    """A local file to log as an artifact, and its logical path `artifact_path/<file name>`.

    Raises:
        InvalidInputError: it is not a file, or the artifact path is invalid.
    """
    source = Path(local_path)
    if not source.is_file():
        raise InvalidInputError(
            f"cannot log {str(source)!r} as an artifact: it is not a file "
            "(use log_artifacts for folders)",
            field="local_path",
        )
    return source, str(clean_relative_path(artifact_path) / source.name)


def folder_to_log(
    local_dir: str | os.PathLike[str], artifact_path: str | None
) -> list[tuple[Path, str]]:
    """The files under a local folder (recursively, sorted), each with its logical path.

    Raises:
        InvalidInputError: it is not a folder, or the artifact path is invalid.
    """
    source = Path(local_dir)
    if not source.is_dir():
        raise InvalidInputError(
            f"cannot log {str(source)!r} as artifacts: it is not a folder", field="local_dir"
        )
    base = clean_relative_path(artifact_path)
    files = sorted(p for p in source.rglob("*") if p.is_file())
    return [(f, str(base / PurePosixPath(f.relative_to(source).as_posix()))) for f in files]
