"""Versioning files, folders and data frames: new versions on change, "unchanged" otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from mloop.artifacts import open_blob_store
from mloop.data.snapshots import add, snapshot
from mloop.data.stat_cache import StatCache
from mloop.entities.datasets import DatasetKind
from mloop.errors import InvalidInputError
from mloop.storage.sql.store import SqlStore


def _old(path: Path) -> None:
    """Age a file past the stat cache's racy window, as any file not just written is."""
    os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))


def _folder(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        _old(target)
    return root


def test_adding_a_folder_creates_versions_only_when_content_changes(
    store: SqlStore, tmp_path: Path
) -> None:
    data = _folder(tmp_path / "d", {"a.csv": "1,2\n", "sub/b.txt": "hello", ".git/x": "skip"})
    cache = StatCache(tmp_path / "cache.db")
    first = add(store, data, "raw", cache=cache, message="first", tags={"team": "ml"})
    assert first.created
    assert (first.version.version, first.version.kind, first.version.file_count) == (
        1,
        DatasetKind.FOLDER,
        2,
    )
    assert first.hashed == 2
    again = add(store, data, "raw", cache=cache)
    assert not again.created
    assert again.version == first.version
    assert again.hashed == 0  # known by inode, size and mtime
    (data / "a.csv").write_text("1,3\n")
    _old(data / "a.csv")
    os.utime(data / "a.csv", ns=(1_600_000_001_000_000_000, 1_600_000_001_000_000_000))
    second = add(store, data, "raw", cache=cache, message="fix")
    assert second.created
    assert second.version.version == 2
    assert second.hashed == 1
    files = {e.path: e for e in store.datasets.list_files("raw", 2)}
    assert set(files) == {"a.csv", "sub/b.txt"}
    blobs = open_blob_store(store.artifact_root)
    assert blobs.read_bytes(files["a.csv"].digest) == b"1,3\n"
    assert store.datasets.get("raw").tags == {"team": "ml"}


def test_a_single_file_is_a_file_version_and_blobs_are_stored_once(
    store: SqlStore, tmp_path: Path
) -> None:
    one = tmp_path / "one.bin"
    one.write_bytes(b"x" * 5000)
    result = add(store, one, "single")
    assert result.version.kind is DatasetKind.FILE
    assert [e.path for e in store.datasets.list_files("single", 1)] == ["one.bin"]
    copy = tmp_path / "folder"
    copy.mkdir()
    (copy / "same.bin").write_bytes(b"x" * 5000)
    other = add(store, copy, "other")
    assert other.created
    digests = {e.digest for e in store.datasets.list_files("other", 1)}
    assert digests == {e.digest for e in store.datasets.list_files("single", 1)}


def test_a_cached_digest_whose_blob_is_gone_is_stored_again(
    store: SqlStore, tmp_path: Path
) -> None:
    data = _folder(tmp_path / "d", {"a": "alpha"})
    cache = StatCache(None)
    add(store, data, "x", cache=cache)
    other_root = tmp_path / "other-blobs"
    result = add(store, data, "y", cache=cache, blobs=open_blob_store(str(other_root)))
    assert result.hashed == 0
    assert result.stored == 1
    digest = store.datasets.list_files("y", 1)[0].digest
    assert open_blob_store(str(other_root)).read_bytes(digest) == b"alpha"


@pytest.mark.parametrize("bad", ["nope", "empty"])
def test_paths_that_are_no_data_are_refused_and_change_nothing(
    store: SqlStore, tmp_path: Path, bad: str
) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match=r"file|folder"):
        add(store, tmp_path / bad, "x")
    assert store.datasets.list() == []


def test_a_bad_name_is_refused_before_anything_is_stored(store: SqlStore, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(InvalidInputError, match="dataset name"):
        add(store, tmp_path / "f", "bad/name")
    assert not Path(store.artifact_root).exists() or not any(Path(store.artifact_root).rglob("*"))


@pytest.mark.parametrize("flavour", ["pandas", "polars", "arrow"])
def test_snapshots_of_frames_record_schema_and_rows(store: SqlStore, flavour: str) -> None:
    frame = pd.DataFrame({"id": [1, 2, 3], "name": ["a", "b", "c"]})
    data = {"pandas": frame, "polars": pl.from_pandas(frame), "arrow": pa.Table.from_pandas(frame)}
    result = snapshot(store, data[flavour], "customers", message="m")
    assert result.created
    version = result.version
    assert (version.kind, version.row_count) == (DatasetKind.TABLE, 3)
    assert [c.name for c in version.columns][:2] == ["id", "name"]
    assert version.columns[0].type == "int64"
    again = snapshot(store, data[flavour], "customers")
    assert not again.created
    assert again.version.version == 1
    bigger = snapshot(store, pa.table({"id": [1, 2, 3, 4]}), "customers")
    assert bigger.created
    assert bigger.version.version == 2


def test_snapshot_refuses_what_is_not_a_frame(store: SqlStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not the path"):
        snapshot(store, str(tmp_path), "x")
    with pytest.raises(InvalidInputError):
        snapshot(store, 42, "x")
    assert store.datasets.list() == []
