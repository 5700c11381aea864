"""Manifests of dataset versions: their content digest, and the difference between two."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mloop.artifacts import digest_bytes
from mloop.entities.datasets import ColumnType, DatasetKind, DatasetVersion, ManifestEntry


def manifest_digest(kind: DatasetKind, entries: Iterable[ManifestEntry]) -> str:
    """The BLAKE3 digest that names a version's content: its kind and its sorted files.

    Each path ends at a NUL, which no path can hold, and digests and sizes have fixed forms, so
    two different manifests never encode alike.
    """
    parts = [f"mloop-manifest-v1\0{kind.value}\n"]
    for entry in sorted(entries, key=lambda e: e.path):
        parts.append(f"{entry.path}\0{entry.digest}\0{entry.size}\n")
    return digest_bytes("".join(parts).encode())


@dataclass(frozen=True, slots=True)
class ColumnChange:
    """A column whose type differs between two table versions."""

    name: str
    old_type: str
    new_type: str


@dataclass(frozen=True, slots=True)
class VersionDiff:
    """What changed from one version to another.

    Attributes:
        old: the first version.
        new: the second version.
        added: paths only in `new`.
        removed: paths only in `old`.
        changed: paths in both with different content.
        unchanged: how many paths have equal content.
        columns_added: table columns only in `new`.
        columns_removed: table columns only in `old`.
        columns_changed: table columns whose type changed.
        row_count_change: `new.row_count - old.row_count` for two table versions, else None.
    """

    old: DatasetVersion
    new: DatasetVersion
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: int
    columns_added: tuple[ColumnType, ...] = ()
    columns_removed: tuple[ColumnType, ...] = ()
    columns_changed: tuple[ColumnChange, ...] = ()
    row_count_change: int | None = None

    @property
    def is_empty(self) -> bool:
        """True when the two versions hold the same content."""
        return not (self.added or self.removed or self.changed or self.has_schema_change)

    @property
    def has_schema_change(self) -> bool:
        """True when a table column was added, removed or changed type."""
        return bool(self.columns_added or self.columns_removed or self.columns_changed)


def diff_versions(
    old: DatasetVersion,
    old_files: Iterable[ManifestEntry],
    new: DatasetVersion,
    new_files: Iterable[ManifestEntry],
) -> VersionDiff:
    """Compare two versions' manifests and, for tables, their schemas and row counts."""
    before = {e.path: e.digest for e in old_files}
    after = {e.path: e.digest for e in new_files}
    common = before.keys() & after.keys()
    changed = sorted(p for p in common if before[p] != after[p])
    old_columns = {c.name: c for c in old.columns}
    new_columns = {c.name: c for c in new.columns}
    return VersionDiff(
        old=old,
        new=new,
        added=tuple(sorted(after.keys() - before.keys())),
        removed=tuple(sorted(before.keys() - after.keys())),
        changed=tuple(changed),
        unchanged=len(common) - len(changed),
        columns_added=tuple(c for n, c in new_columns.items() if n not in old_columns),
        columns_removed=tuple(c for n, c in old_columns.items() if n not in new_columns),
        columns_changed=tuple(
            ColumnChange(n, old_columns[n].type, c.type)
            for n, c in new_columns.items()
            if n in old_columns and old_columns[n].type != c.type
        ),
        row_count_change=(
            new.row_count - old.row_count
            if new.row_count is not None and old.row_count is not None
            else None
        ),
    )
