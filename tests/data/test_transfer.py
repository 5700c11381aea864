"""push/pull only what is missing (local folder and moto S3); `get` materialises versions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mloop.artifacts import BlobStore, open_blob_store
from mloop.data.snapshots import add
from mloop.data.transfer import get, pull, push
from mloop.errors import BlobNotFoundError, CorruptBlobError, InvalidStateError
from mloop.storage.sql.store import SqlStore
from tests.conftest import S3Server


class _Recorder:
    def __init__(self) -> None:
        self.phases: list[tuple[str, int]] = []
        self.done = 0

    def start(self, phase: str, total: int) -> None:
        self.phases.append((phase, total))

    def advance(self, count: int) -> None:
        self.done += count


def _remote(uri: str, request: pytest.FixtureRequest) -> BlobStore:
    if uri.startswith("s3://"):
        server: S3Server = request.getfixturevalue("s3_server")
        return open_blob_store(uri, storage_options=server.storage_options)
    return open_blob_store(uri)


def _data(root: Path, count: int, *, big: bool = False) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / f"f{i}.txt").write_text(f"file {i}\n" * (20_000 if big and i == 0 else 1))
    return root


def test_push_then_pull_moves_only_missing_blobs(
    store: SqlStore, tmp_path: Path, blob_uri: str, request: pytest.FixtureRequest
) -> None:
    add(store, _data(tmp_path / "d", 6, big=True), "ds")
    (tmp_path / "d" / "f1.txt").write_text("changed")
    add(store, tmp_path / "d", "ds")
    remote = _remote(blob_uri, request)
    progress = _Recorder()
    first = push(store, "ds", remote, progress=progress)
    assert (first.blobs, first.copied) == (7, 7)
    assert progress.phases == [("pushing", 7)]
    assert progress.done == 7
    assert push(store, "ds", remote).copied == 0
    # a fresh local blob store (another machine sharing the metadata store) pulls version 1 only
    fresh = open_blob_store(str(tmp_path / "fresh"))
    pulled = pull(store, "ds/1", remote, blobs=fresh)
    assert (pulled.blobs, pulled.copied) == (6, 6)
    assert [v.version for v in pulled.versions] == [1]
    got = get(store, "ds/1", tmp_path / "out", blobs=fresh)
    assert sorted(p.name for p in got.path.iterdir()) == [f"f{i}.txt" for i in range(6)]
    assert (tmp_path / "out" / "f1.txt").read_text() == "file 1\n"


def test_pull_of_blobs_the_remote_lacks_fails_clearly(store: SqlStore, tmp_path: Path) -> None:
    add(store, _data(tmp_path / "d", 2), "ds")
    fresh = open_blob_store(str(tmp_path / "fresh"))
    with pytest.raises(BlobNotFoundError):
        pull(store, "ds", str(tmp_path / "empty-remote"), blobs=fresh)


def test_get_hard_links_read_only_files_and_refuses_to_overwrite(
    store: SqlStore, tmp_path: Path
) -> None:
    big = tmp_path / "d"
    big.mkdir()
    (big / "big.bin").write_bytes(os.urandom(300_000))
    (big / "sub").mkdir()
    (big / "sub" / "small.txt").write_text("s")
    add(store, big, "ds")
    result = get(store, "datasets:/ds/1", tmp_path / "out")
    out = tmp_path / "out"
    assert (out / "big.bin").read_bytes() == (big / "big.bin").read_bytes()
    assert (out / "sub" / "small.txt").read_text() == "s"
    assert result.linked + result.copied == 2
    if result.linked:
        mode = (out / "big.bin").stat().st_mode
        assert not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    with pytest.raises(InvalidStateError, match="already exists"):
        get(store, "ds/1", out)
    again = get(store, "ds/1", out, overwrite=True, link=False)
    assert again.copied == 2


def test_get_of_a_file_version_writes_the_file(store: SqlStore, tmp_path: Path) -> None:
    (tmp_path / "one.csv").write_text("a\n1\n")
    add(store, tmp_path / "one.csv", "one")
    target = tmp_path / "copy.csv"
    assert get(store, "one", target).path == target
    assert target.read_text() == "a\n1\n"
    folder = tmp_path / "into"
    folder.mkdir()
    assert get(store, "one/1", folder).path == folder / "one.csv"


def test_a_blob_corrupted_on_disk_is_detected_when_the_version_is_read(
    store: SqlStore, tmp_path: Path
) -> None:
    data = tmp_path / "d"
    data.mkdir()
    (data / "big.bin").write_bytes(b"x" * 2_000_000)  # large: stored on its own, not packed
    add(store, data, "ds")
    digest = store.datasets.list_files("ds", 1)[0].digest
    blob = Path(store.artifact_root) / "blobs" / digest[:2] / digest[2:]
    blob.chmod(0o644)
    with blob.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"y")
    with pytest.raises(CorruptBlobError, match="corrupt"):
        get(store, "ds/1", tmp_path / "out", link=False)


def test_a_dataset_whose_blob_store_is_s3_adds_loads_and_materialises(
    store: SqlStore, tmp_path: Path, blob_uri: str, request: pytest.FixtureRequest
) -> None:
    import pandas as pd

    from mloop.data.loading import load
    from mloop.data.snapshots import snapshot

    blobs = _remote(blob_uri, request)
    data = _data(tmp_path / "d", 3, big=True)
    first = add(store, data, "ds", blobs=blobs)
    assert not add(store, data, "ds", blobs=blobs).created
    got = get(store, "ds/1", tmp_path / "out", blobs=blobs)
    assert got.version == first.version
    assert (tmp_path / "out" / "f0.txt").read_text() == (data / "f0.txt").read_text()
    frame = pd.DataFrame({"a": [1, 2]})
    snapshot(store, frame, "table", blobs=blobs)
    pd.testing.assert_frame_equal(load(store, "table", blobs=blobs), frame)
