"""Datasets, their versions and manifests, and the runs that consumed them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from mloop.entities.validation import checked_tags
from mloop.errors import InvalidInputError

MAX_DATASET_NAME_LENGTH = 250
MAX_MESSAGE_LENGTH = 5000
MAX_MANIFEST_PATH_LENGTH = 1000

# No `/` and no `@`: references put a version after `/` and an alias after `@`.
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_ALIAS_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_DIGEST_PATTERN = re.compile(r"^[0-9a-f]{64}$")


class DatasetKind(StrEnum):
    """What a dataset version holds: one file, a folder of files, or a table (Parquet)."""

    FILE = "file"
    FOLDER = "folder"
    TABLE = "table"


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One file of a dataset version.

    Attributes:
        path: relative POSIX path inside the version (the file name for a single file).
        digest: BLAKE3 digest of the content, 64 hex characters.
        size: bytes.
    """

    path: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class ColumnType:
    """A column of a tabular version: its name and Arrow type, as text."""

    name: str
    type: str


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    """One immutable version of a dataset.

    Attributes:
        name: the dataset's name.
        version: 1, 2, 3 ... per dataset.
        digest: BLAKE3 digest of the manifest; equal content, equal digest.
        kind: file, folder or table.
        message: what changed, as the author said.
        created_time_ms: creation, milliseconds since the epoch.
        file_count: number of files in the manifest.
        total_size: bytes over all files.
        row_count: rows of a table version (None otherwise).
        columns: the schema of a table version (empty otherwise).
        source: where it came from (a path, `dvc:...`, `dataframe`).
    """

    name: str
    version: int
    digest: str
    kind: DatasetKind
    message: str
    created_time_ms: int
    file_count: int
    total_size: int
    row_count: int | None = None
    columns: tuple[ColumnType, ...] = ()
    source: str = ""

    @property
    def uri(self) -> str:
        """The version's reference, `datasets:/NAME/N`."""
        return f"datasets:/{self.name}/{self.version}"


@dataclass(frozen=True, slots=True)
class Dataset:
    """A named, versioned dataset.

    Attributes:
        name: unique name.
        description: free text.
        created_time_ms: creation, milliseconds since the epoch.
        latest_version: the newest version number (0 before the first version).
        tags: key-value tags.
        aliases: alias name to version number.
    """

    name: str
    description: str
    created_time_ms: int
    latest_version: int
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewVersion:
    """What a caller asks the store to record as the next version of a dataset.

    Attributes:
        digest: manifest digest (see `manifest_digest` in `mloop.data.manifests`).
        kind: file, folder or table.
        files: the manifest.
        message: what changed.
        source: where it came from.
        row_count: rows of a table.
        columns: schema of a table.
    """

    digest: str
    kind: DatasetKind
    files: tuple[ManifestEntry, ...]
    message: str = ""
    source: str = ""
    row_count: int | None = None
    columns: tuple[ColumnType, ...] = ()


@dataclass(frozen=True, slots=True)
class LineageRun:
    """A run that consumed a dataset version.

    Attributes:
        run_id: the run's id.
        run_name: its name.
        experiment_id: its experiment.
        status: RUNNING, FINISHED ...
        start_time_ms: start, milliseconds since the epoch.
        context: the role the data played ("training" ...).
    """

    run_id: str
    run_name: str
    experiment_id: str
    status: str
    start_time_ms: int
    context: str


def validate_dataset_name(name: object) -> str:
    """Check a dataset name: letters, digits, `_ . -`, not starting with `.` or `-`.

    Raises:
        InvalidInputError: the name breaks the rule.
    """
    if not isinstance(name, str) or not name:
        raise InvalidInputError(
            f"dataset name must be a non-empty string, got {name!r}", field="name"
        )
    if len(name) > MAX_DATASET_NAME_LENGTH or not _NAME_PATTERN.match(name):
        raise InvalidInputError(
            f"dataset name {name[:60]!r} is not allowed; use up to {MAX_DATASET_NAME_LENGTH} "
            "letters, digits, underscores, periods and dashes, starting with a letter, digit or "
            "underscore (no '/' or '@', which references use)",
            field="name",
        )
    return name


def validate_alias(alias: object) -> str:
    """Check an alias name: a letter or underscore, then letters, digits, `_` or `-`.

    Raises:
        InvalidInputError: the alias breaks the rule (digits-only aliases would read as versions).
    """
    if not isinstance(alias, str) or len(alias) > MAX_DATASET_NAME_LENGTH:
        raise InvalidInputError(f"alias must be a short string, got {alias!r}", field="alias")
    if not _ALIAS_PATTERN.match(alias) or alias == "latest":
        raise InvalidInputError(
            f"alias {alias!r} is not allowed; start with a letter or underscore, then letters, "
            "digits, '_' or '-' ('latest' is reserved)",
            field="alias",
        )
    return alias


def validate_manifest_path(path: object) -> str:
    """Check a path inside a dataset version: relative POSIX, no `..`, `.` or empty segment.

    Raises:
        InvalidInputError: the path could escape the folder it is materialised into.
    """
    if (
        not isinstance(path, str)
        or not path
        or len(path) > MAX_MANIFEST_PATH_LENGTH
        or path.startswith("/")
        or "\\" in path
        or "\x00" in path
        or any(part in ("", ".", "..") for part in path.split("/"))
    ):
        raise InvalidInputError(
            f"dataset file path {str(path)[:80]!r} is not allowed; paths are relative, use '/', "
            f"have no '.', '..' or empty segment, and are at most {MAX_MANIFEST_PATH_LENGTH} "
            "characters",
            field="path",
        )
    return path


def checked_commit(name: str, new: NewVersion, tags: dict[str, str] | None) -> dict[str, str]:
    """Check what `DatasetStore.commit_version` gets; returns the tags in stored form.

    Raises:
        InvalidInputError: the name, a manifest path or a tag is invalid.
    """
    validate_dataset_name(name)
    for entry in new.files:
        validate_manifest_path(entry.path)
    return checked_tags(tags)


def is_digest(text: str) -> bool:
    """True when the text is a 64-hex-character content digest."""
    return bool(_DIGEST_PATTERN.match(text))
