"""Where prediction-log Parquet files go: a local folder, or any fsspec URI (`s3://...`).

A sink is named by a URI (`uri`), so the converter process can open the same sink on its side.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

FOLDER = "predictions"


class PredictionSink(Protocol):
    """Where prediction files go."""

    @property
    def uri(self) -> str:
        """The sink's root (a folder path or an fsspec URI): `open_sink_uri` opens it again."""

    def write(self, name: str, data: bytes) -> None:
        """Store `data` as the file `name` (a relative path with `/`), replacing one there."""


class FolderSink:
    """Files under a local folder, written to a temporary name and renamed into place.

    Args:
        root: the folder (created when needed).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @property
    def uri(self) -> str:
        """The folder's absolute path."""
        return str(self.root.absolute())

    def write(self, name: str, data: bytes) -> None:
        """Write one file atomically."""
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, target)


class FsspecSink:
    """Files under any fsspec URI (`s3://bucket/prefix/predictions` ...).

    Args:
        uri: the root URI.
    """

    def __init__(self, uri: str) -> None:
        import fsspec

        self._uri = uri
        self.fs, self.root = fsspec.core.url_to_fs(uri)

    @property
    def uri(self) -> str:
        """The root URI."""
        return self._uri

    def write(self, name: str, data: bytes) -> None:
        """Upload one file (object stores make it visible whole)."""
        self.fs.pipe_file(f"{self.root.rstrip('/')}/{name}", data)


def open_sink(artifact_root: str) -> PredictionSink:
    """The sink for prediction files under an artifact root (`predictions/` inside it)."""
    if artifact_root.startswith("file://"):
        artifact_root = artifact_root.removeprefix("file://")
    if "://" not in artifact_root:
        return FolderSink(Path(artifact_root) / FOLDER)
    return FsspecSink(f"{artifact_root.rstrip('/')}/{FOLDER}")


def open_sink_uri(uri: str) -> PredictionSink:
    """The sink whose `uri` is `uri` (the prediction folder itself, not the artifact root)."""
    if uri.startswith("file://"):
        uri = uri.removeprefix("file://")
    return FolderSink(uri) if "://" not in uri else FsspecSink(uri)
