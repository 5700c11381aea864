"""Manifest digests name content; diffs show files and, for tables, schema and rows."""

from __future__ import annotations

from mloop.data.manifests import diff_versions, manifest_digest
from mloop.entities.datasets import ColumnType, DatasetKind, DatasetVersion, ManifestEntry

A, B, C = "a" * 64, "b" * 64, "c" * 64


def _version(number: int, **extra: object) -> DatasetVersion:
    return DatasetVersion(
        name="d",
        version=number,
        digest=A,
        kind=DatasetKind.TABLE,
        message="",
        created_time_ms=0,
        file_count=1,
        total_size=1,
        **extra,  # type: ignore[arg-type]
    )


def test_the_digest_depends_on_content_not_order() -> None:
    one = [ManifestEntry("x", A, 1), ManifestEntry("y", B, 2)]
    assert manifest_digest(DatasetKind.FOLDER, one) == manifest_digest(
        DatasetKind.FOLDER, list(reversed(one))
    )
    assert manifest_digest(DatasetKind.FOLDER, one) != manifest_digest(DatasetKind.FILE, one)
    renamed = [ManifestEntry("x2", A, 1), ManifestEntry("y", B, 2)]
    assert manifest_digest(DatasetKind.FOLDER, one) != manifest_digest(DatasetKind.FOLDER, renamed)


def test_diff_lists_files_schema_and_rows() -> None:
    old = _version(1, row_count=10, columns=(ColumnType("id", "int64"), ColumnType("x", "double")))
    new = _version(2, row_count=12, columns=(ColumnType("id", "string"), ColumnType("y", "bool")))
    diff = diff_versions(
        old,
        [ManifestEntry("keep", A, 1), ManifestEntry("edit", A, 1), ManifestEntry("gone", B, 1)],
        new,
        [ManifestEntry("keep", A, 1), ManifestEntry("edit", C, 1), ManifestEntry("new", B, 1)],
    )
    assert (diff.added, diff.removed, diff.changed, diff.unchanged) == (
        ("new",),
        ("gone",),
        ("edit",),
        1,
    )
    assert [c.name for c in diff.columns_added] == ["y"]
    assert [c.name for c in diff.columns_removed] == ["x"]
    assert [(c.name, c.old_type, c.new_type) for c in diff.columns_changed] == [
        ("id", "int64", "string")
    ]
    assert diff.row_count_change == 2
    assert diff.has_schema_change
    assert not diff.is_empty
    same = diff_versions(old, [ManifestEntry("k", A, 1)], old, [ManifestEntry("k", A, 1)])
    assert same.is_empty
