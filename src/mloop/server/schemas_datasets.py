"""Request and response bodies of `/api/v1/datasets` and `/api/v1/blobs`."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from mloop.entities.datasets import (
    MAX_MANIFEST_PATH_LENGTH,
    MAX_MESSAGE_LENGTH,
    ColumnType,
    Dataset,
    DatasetKind,
    DatasetVersion,
    LineageRun,
    ManifestEntry,
    NewVersion,
)
from mloop.server.schemas import ApiModel, Key, TagValue, Text

Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="64 lowercase hex.")]
Size = Annotated[int, Field(ge=0, lt=2**63)]
MAX_COLUMN_TEXT = 1000


class ManifestEntryModel(ApiModel):
    """One file of a dataset version."""

    path: Annotated[Text, Field(min_length=1, max_length=MAX_MANIFEST_PATH_LENGTH)]
    digest: Digest
    size: Size


class ColumnModel(ApiModel):
    """A column of a table version: its name and Arrow type."""

    name: Annotated[Text, Field(max_length=MAX_COLUMN_TEXT)]
    type: Annotated[Text, Field(max_length=MAX_COLUMN_TEXT)]


def _unique_paths(files: list[ManifestEntryModel]) -> list[ManifestEntryModel]:
    seen: set[str] = set()
    for entry in files:
        if entry.path in seen:
            raise ValueError(f"the manifest lists {entry.path!r} twice; each path is one file")
        seen.add(entry.path)
    return files


class VersionCommitIn(ApiModel):
    """The next version of a dataset: its manifest and metadata (the blobs are uploaded first)."""

    digest: Digest
    kind: DatasetKind
    files: Annotated[list[ManifestEntryModel], AfterValidator(_unique_paths)]
    message: Annotated[Text, Field(max_length=MAX_MESSAGE_LENGTH)] = ""
    source: Annotated[Text, Field(max_length=MAX_MANIFEST_PATH_LENGTH)] = ""
    row_count: Size | None = None
    columns: list[ColumnModel] = Field(default_factory=list)
    description: Text | None = None
    tags: dict[Key, TagValue] = Field(default_factory=dict)

    def new_version(self) -> NewVersion:
        """The store's form of the version."""
        return NewVersion(
            digest=self.digest,
            kind=self.kind,
            files=tuple(ManifestEntry(f.path, f.digest, f.size) for f in self.files),
            message=self.message,
            source=self.source,
            row_count=self.row_count,
            columns=tuple(ColumnType(c.name, c.type) for c in self.columns),
        )


class DatasetVersionOut(ApiModel):
    """One immutable version of a dataset."""

    name: str
    version: int
    digest: str
    kind: DatasetKind
    message: str
    created_time_ms: int
    file_count: int
    total_size: int
    row_count: int | None
    columns: list[ColumnModel]
    source: str


class CommitOut(ApiModel):
    """The version recorded, or the latest one when the content was unchanged."""

    version: DatasetVersionOut
    created: bool


class DatasetOut(ApiModel):
    """A named, versioned dataset."""

    name: str
    description: str
    created_time_ms: int
    latest_version: int
    tags: dict[str, str]
    aliases: dict[str, int]


class DatasetList(ApiModel):
    """Every dataset, by name."""

    datasets: list[DatasetOut]


class DatasetVersionList(ApiModel):
    """Dataset versions, oldest first."""

    versions: list[DatasetVersionOut]


class ManifestOut(ApiModel):
    """The files of a version, by path."""

    files: list[ManifestEntryModel]


class LineageRunOut(ApiModel):
    """A run that logged a dataset version as an input."""

    run_id: str
    run_name: str
    experiment_id: str
    status: str
    start_time_ms: int
    context: str


class LineageOut(ApiModel):
    """The runs that consumed a version, oldest first."""

    runs: list[LineageRunOut]


class DatasetAliasIn(ApiModel):
    """Where an alias points."""

    version: Annotated[int, Field(ge=1, lt=2**31)]


class DigestsIn(ApiModel):
    """Blob digests to look up."""

    digests: Annotated[list[Digest], Field(max_length=100_000)]


class DigestsOut(ApiModel):
    """The digests among those asked about that the server's blob store lacks."""

    missing: list[str]


class BlobOut(ApiModel):
    """A stored blob."""

    digest: str
    size: int


class BlobList(ApiModel):
    """Stored blobs, in the order they were sent."""

    blobs: list[BlobOut]


def from_version(version: DatasetVersion) -> DatasetVersionOut:
    """The body of a dataset version."""
    return DatasetVersionOut.model_construct(
        name=version.name,
        version=version.version,
        digest=version.digest,
        kind=version.kind,
        message=version.message,
        created_time_ms=version.created_time_ms,
        file_count=version.file_count,
        total_size=version.total_size,
        row_count=version.row_count,
        columns=[ColumnModel.model_construct(name=c.name, type=c.type) for c in version.columns],
        source=version.source,
    )


def from_dataset(dataset: Dataset) -> DatasetOut:
    """The body of a dataset."""
    return DatasetOut.model_construct(
        name=dataset.name,
        description=dataset.description,
        created_time_ms=dataset.created_time_ms,
        latest_version=dataset.latest_version,
        tags=dataset.tags,
        aliases=dataset.aliases,
    )


def from_lineage(run: LineageRun) -> LineageRunOut:
    """The body of a lineage entry."""
    return LineageRunOut.model_construct(
        run_id=run.run_id,
        run_name=run.run_name,
        experiment_id=run.experiment_id,
        status=run.status,
        start_time_ms=run.start_time_ms,
        context=run.context,
    )


def from_entry(entry: ManifestEntry) -> ManifestEntryModel:
    """The body of a manifest entry."""
    return ManifestEntryModel.model_construct(path=entry.path, digest=entry.digest, size=entry.size)
