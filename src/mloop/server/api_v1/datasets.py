"""`/api/v1/datasets`: dataset versions with their manifests, aliases and lineage.

The bytes of a version's files are blobs, uploaded first through `/api/v1/blobs`; committing a
version records its manifest, as the dataset store does locally.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from mloop.server.deps import StoreDep
from mloop.server.schemas import ERROR_RESPONSES
from mloop.server.schemas_datasets import (
    CommitOut,
    DatasetAliasIn,
    DatasetList,
    DatasetOut,
    DatasetVersionList,
    DatasetVersionOut,
    Digest,
    LineageOut,
    ManifestOut,
    VersionCommitIn,
    from_dataset,
    from_entry,
    from_lineage,
    from_version,
)

router = APIRouter(prefix="/api/v1", tags=["datasets"], responses=ERROR_RESPONSES)

NamePath = Annotated[str, Path(description="The dataset's name.")]
VersionPath = Annotated[int, Path(ge=1, lt=2**31, description="The version number.")]
AliasPath = Annotated[str, Path(description="The alias, e.g. gold.")]
_BASE = "/datasets/{name}"


@router.get("/datasets")
def list_datasets(store: StoreDep) -> DatasetList:
    """Every dataset, by name."""
    return DatasetList.model_construct(datasets=[from_dataset(d) for d in store.datasets.list()])


@router.get("/dataset-versions")
def find_versions_by_digest(
    store: StoreDep, digest: Annotated[Digest, Query(description="A manifest digest.")]
) -> DatasetVersionList:
    """Every version, in any dataset, whose content has this manifest digest (oldest first)."""
    found = store.datasets.find_by_digest(digest)
    return DatasetVersionList.model_construct(versions=[from_version(v) for v in found])


@router.get(_BASE)
def get_dataset(name: NamePath, store: StoreDep) -> DatasetOut:
    """A dataset with its tags and aliases."""
    return from_dataset(store.datasets.get(name))


@router.post(f"{_BASE}/versions", status_code=status.HTTP_201_CREATED)
def commit_version(name: NamePath, body: VersionCommitIn, store: StoreDep) -> CommitOut:
    """Record the next version (creating the dataset); unchanged content returns the latest."""
    version, created = store.datasets.commit_version(
        name, body.new_version(), description=body.description, tags=body.tags
    )
    return CommitOut.model_construct(version=from_version(version), created=created)


@router.get(f"{_BASE}/versions")
def list_versions(name: NamePath, store: StoreDep) -> DatasetVersionList:
    """Every version of a dataset, oldest first."""
    versions = store.datasets.list_versions(name)
    return DatasetVersionList.model_construct(versions=[from_version(v) for v in versions])


@router.get(f"{_BASE}/versions/latest")
def get_latest_version(name: NamePath, store: StoreDep) -> DatasetVersionOut:
    """The newest version."""
    return from_version(store.datasets.get_latest(name))


@router.get(f"{_BASE}/versions/{{version}}")
def get_version(name: NamePath, version: VersionPath, store: StoreDep) -> DatasetVersionOut:
    """One version by number."""
    return from_version(store.datasets.get_version(name, version))


@router.get(f"{_BASE}/versions/{{version}}/files")
def list_files(name: NamePath, version: VersionPath, store: StoreDep) -> ManifestOut:
    """The manifest of a version, by path."""
    entries = store.datasets.list_files(name, version)
    return ManifestOut.model_construct(files=[from_entry(e) for e in entries])


@router.get(f"{_BASE}/versions/{{version}}/lineage")
def lineage(name: NamePath, version: VersionPath, store: StoreDep) -> LineageOut:
    """The active runs that logged this version as an input, oldest first."""
    runs = store.datasets.lineage(name, version)
    return LineageOut.model_construct(runs=[from_lineage(r) for r in runs])


@router.get(f"{_BASE}/aliases/{{alias}}")
def get_version_by_alias(name: NamePath, alias: AliasPath, store: StoreDep) -> DatasetVersionOut:
    """The version an alias points at."""
    return from_version(store.datasets.get_by_alias(name, alias))


@router.put(f"{_BASE}/aliases/{{alias}}", status_code=status.HTTP_204_NO_CONTENT)
def set_alias(name: NamePath, alias: AliasPath, body: DatasetAliasIn, store: StoreDep) -> Response:
    """Point an alias at a version (moving it when it exists)."""
    store.datasets.set_alias(name, alias, body.version)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(f"{_BASE}/aliases/{{alias}}", status_code=status.HTTP_204_NO_CONTENT)
def delete_alias(name: NamePath, alias: AliasPath, store: StoreDep) -> Response:
    """Remove an alias."""
    store.datasets.delete_alias(name, alias)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
