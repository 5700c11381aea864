"""The dataset store over `/api/v1/datasets`: versions, manifests, aliases and lineage."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from mloop.entities.datasets import (
    ColumnType,
    Dataset,
    DatasetKind,
    DatasetVersion,
    LineageRun,
    ManifestEntry,
    NewVersion,
    checked_commit,
    validate_alias,
)
from mloop.errors import ConfigurationError
from mloop.storage.rest.transport import Transport

_BASE = "/api/v1/datasets"


class RestDatasetStore:
    """The datasets of a remote `mloop server` (their blobs go through `RestBlobStore`).

    Args:
        transport: the HTTP client of the server.
    """

    def __init__(self, transport: Transport) -> None:
        self._http = transport

    def commit_version(
        self,
        name: str,
        new: NewVersion,
        *,
        description: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> tuple[DatasetVersion, bool]:
        """Record the next version of a dataset (see `SqlDatasetStore.commit_version`).

        Raises:
            InvalidInputError: the name, a tag or a manifest path is invalid.
        """
        clean_tags = checked_commit(name, new, tags)
        body: dict[str, Any] = {
            "digest": new.digest,
            "kind": str(new.kind),
            "files": [{"path": f.path, "digest": f.digest, "size": f.size} for f in new.files],
            "message": new.message,
            "source": new.source,
            "row_count": new.row_count,
            "columns": [{"name": c.name, "type": c.type} for c in new.columns],
            "description": description,
            "tags": clean_tags,
        }
        data = self._http.request("POST", f"{_path(name)}/versions", body=body)
        return _version(data["version"]), bool(data["created"])

    def get(self, name: str) -> Dataset:
        """The dataset with its tags and aliases.

        Raises:
            DatasetNotFoundError: no such dataset.
        """
        return _dataset(self._http.request("GET", _path(name)))

    def get_version(self, name: str, version: int) -> DatasetVersion:
        """One version by number.

        Raises:
            DatasetNotFoundError, DatasetVersionNotFoundError: no such dataset or version.
        """
        return _version(self._http.request("GET", f"{_path(name)}/versions/{int(version)}"))

    def get_latest(self, name: str) -> DatasetVersion:
        """The newest version.

        Raises:
            DatasetNotFoundError, DatasetVersionNotFoundError: no such dataset, or no version.
        """
        return _version(self._http.request("GET", f"{_path(name)}/versions/latest"))

    def get_by_alias(self, name: str, alias: str) -> DatasetVersion:
        """The version an alias points at.

        Raises:
            DatasetNotFoundError, DatasetVersionNotFoundError: no such dataset or alias.
        """
        return _version(self._http.request("GET", f"{_path(name)}/aliases/{quote(alias, '')}"))

    def find_by_digest(self, digest: str) -> list[DatasetVersion]:
        """Every version whose content has this manifest digest (oldest first)."""
        data = self._http.request("GET", "/api/v1/dataset-versions", params={"digest": digest})
        return [_version(v) for v in data["versions"]]

    def list_versions(self, name: str) -> list[DatasetVersion]:
        """Every version of a dataset, oldest first.

        Raises:
            DatasetNotFoundError: no such dataset.
        """
        data = self._http.request("GET", f"{_path(name)}/versions")
        return [_version(v) for v in data["versions"]]

    def list_files(self, name: str, version: int) -> list[ManifestEntry]:
        """The manifest of a version, by path.

        Raises:
            DatasetNotFoundError, DatasetVersionNotFoundError: no such dataset or version.
        """
        data = self._http.request("GET", f"{_path(name)}/versions/{int(version)}/files")
        return [ManifestEntry(f["path"], f["digest"], int(f["size"])) for f in data["files"]]

    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point an alias at a version (moving it when it exists).

        Raises:
            DatasetNotFoundError, DatasetVersionNotFoundError: no such dataset or version.
            InvalidInputError: the alias name is not allowed.
        """
        validate_alias(alias)
        self._http.request(
            "PUT", f"{_path(name)}/aliases/{quote(alias, '')}", body={"version": int(version)}
        )

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove an alias.

        Raises:
            DatasetNotFoundError, DatasetVersionNotFoundError: no such dataset or alias.
        """
        self._http.request("DELETE", f"{_path(name)}/aliases/{quote(alias, '')}")

    def lineage(self, name: str, version: int) -> list[LineageRun]:
        """The active runs that logged this version as an input, oldest first.

        Raises:
            DatasetNotFoundError, DatasetVersionNotFoundError: no such dataset or version.
        """
        data = self._http.request("GET", f"{_path(name)}/versions/{int(version)}/lineage")
        return [
            LineageRun(
                r["run_id"],
                r["run_name"],
                r["experiment_id"],
                r["status"],
                int(r["start_time_ms"]),
                r["context"],
            )
            for r in data["runs"]
        ]

    def referenced_digests(self) -> set[str]:
        """What `mloop gc` keeps; it runs on the server, so this is not served.

        Raises:
            ConfigurationError: always.
        """
        raise ConfigurationError(
            f"the blobs datasets reference are collected on the server ({self._http.base_url}): "
            "run `mloop gc` there, with MLOOP_TRACKING_URI set to its database"
        )

    def list(self) -> list[Dataset]:
        """Every dataset, by name."""
        return [_dataset(d) for d in self._http.request("GET", _BASE)["datasets"]]


def _path(name: str) -> str:
    return f"{_BASE}/{quote(name, safe='')}"


def _version(data: dict[str, Any]) -> DatasetVersion:
    return DatasetVersion(
        name=data["name"],
        version=int(data["version"]),
        digest=data["digest"],
        kind=DatasetKind(data["kind"]),
        message=data["message"],
        created_time_ms=int(data["created_time_ms"]),
        file_count=int(data["file_count"]),
        total_size=int(data["total_size"]),
        row_count=data["row_count"],
        columns=tuple(ColumnType(c["name"], c["type"]) for c in data["columns"]),
        source=data["source"],
    )


def _dataset(data: dict[str, Any]) -> Dataset:
    return Dataset(
        name=data["name"],
        description=data["description"],
        created_time_ms=int(data["created_time_ms"]),
        latest_version=int(data["latest_version"]),
        tags=dict(data["tags"]),
        aliases={k: int(v) for k, v in data["aliases"].items()},
    )
