"""Run artifacts on SQLite and PostgreSQL: manifest rows over the content-addressed blob store."""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

import pytest

from mloop.artifacts import digest_bytes
from mloop.artifacts.paths import ArtifactEntry, ArtifactInfo
from mloop.errors import (
    ArtifactNotFoundError,
    BlobNotFoundError,
    CorruptBlobError,
    InvalidInputError,
)
from mloop.storage.sql.store import SqlStore
from tests.conftest import S3Server


def _run() -> str:
    return uuid.uuid4().hex


def _tree(root: Path) -> Path:
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "a.txt").write_text("alpha")
    (root / "sub" / "b.txt").write_text("beta")
    (root / "sub" / "deep" / "c.bin").write_bytes(os.urandom(300_000))
    return root


def test_a_logged_file_reads_back_and_is_listed(store: SqlStore, tmp_path: Path) -> None:
    run = _run()
    source = tmp_path / "notes.txt"
    source.write_text("hello")
    assert store.artifacts.log_file(run, source) == "notes.txt"
    assert store.artifacts.log_file(run, source, "docs/v1") == "docs/v1/notes.txt"
    assert store.artifacts.read_bytes(run, "notes.txt") == b"hello"
    digest = digest_bytes(b"hello")
    assert store.artifacts.get(run, "docs/v1/notes.txt") == ArtifactEntry(
        "docs/v1/notes.txt", digest, 5
    )
    assert store.artifacts.list(run) == [
        ArtifactInfo("docs", True, None),
        ArtifactInfo("notes.txt", False, 5, digest),
    ]
    assert store.artifacts.list(run, "docs") == [ArtifactInfo("docs/v1", True, None)]
    assert store.artifacts.list(run, "notes.txt") == []  # a file lists as empty
    assert store.artifacts.list(_run()) == []
    # Both paths share one blob.
    assert list(store.artifacts.blobs.list_digests()) == [digest]


def test_logging_the_same_content_twice_stores_it_once(store: SqlStore, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(400_000))
    runs = [_run(), _run()]
    for run in runs:
        store.artifacts.log_file(run, source)
        store.artifacts.log_file(run, source, "again")
    assert len(list(store.artifacts.blobs.list_blobs())) == 1
    assert store.artifacts.read_bytes(runs[1], "again/big.bin") == source.read_bytes()


def test_a_folder_is_logged_in_one_go(store: SqlStore, tmp_path: Path) -> None:
    run = _run()
    source = _tree(tmp_path / "src")
    done: list[int] = []
    assert store.artifacts.log_dir(run, source, "out", progress=done.append) == 3
    assert sum(done) == 3
    assert [e.path for e in store.artifacts.list_files(run)] == [
        "out/a.txt",
        "out/sub/b.txt",
        "out/sub/deep/c.bin",
    ]
    assert [i.path for i in store.artifacts.list(run, "out")] == ["out/a.txt", "out/sub"]
    assert [i.path for i in store.artifacts.list(run, "out/sub/")] == [
        "out/sub/b.txt",
        "out/sub/deep",
    ]
    assert (
        store.artifacts.read_bytes(run, "out/sub/deep/c.bin")
        == (source / "sub" / "deep" / "c.bin").read_bytes()
    )
    assert store.artifacts.log_dir(run, tmp_path / "src" / "sub" / "deep") == 1
    assert store.artifacts.find(run, "c.bin") is not None


def test_logging_a_path_again_replaces_it(store: SqlStore) -> None:
    run = _run()
    store.artifacts.write_bytes(run, "state.json", b"{}")
    store.artifacts.write_bytes(run, "state.json", b'{"a": 1}')
    assert store.artifacts.read_bytes(run, "state.json") == b'{"a": 1}'
    assert len(store.artifacts.list_files(run)) == 1


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../escape.txt", "a/../../b", "a\\b.txt", "nul\x00.txt", "x" * 1001]
)
def test_paths_that_could_escape_are_refused_and_nothing_is_written(
    store: SqlStore, tmp_path: Path, path: str
) -> None:
    run = _run()
    source = tmp_path / "f.txt"
    source.write_text("data")
    with pytest.raises(InvalidInputError):
        store.artifacts.write_bytes(run, path, b"data")
    with pytest.raises(InvalidInputError):
        store.artifacts.log_file(run, source, path)
    with pytest.raises(InvalidInputError):
        store.artifacts.read_bytes(run, path)
    assert store.artifacts.list_files(run) == []
    assert list(store.artifacts.blobs.list_digests()) == []


def test_bad_sources_owners_and_entries_are_refused(store: SqlStore, tmp_path: Path) -> None:
    run = _run()
    with pytest.raises(InvalidInputError, match="not a file"):
        store.artifacts.log_file(run, tmp_path / "missing.txt")
    with pytest.raises(InvalidInputError, match="not a folder"):
        store.artifacts.log_dir(run, tmp_path / "missing")
    with pytest.raises(InvalidInputError, match="must name a file"):
        store.artifacts.write_bytes(run, "", b"x")
    with pytest.raises(InvalidInputError, match="logged-model id"):
        store.artifacts.write_bytes("no/slashes", "a.txt", b"x")
    with pytest.raises(InvalidInputError, match="negative size"):
        store.artifacts.record(run, [ArtifactEntry("a.txt", digest_bytes(b""), -1)])
    unknown = digest_bytes(b"never stored")
    with pytest.raises(BlobNotFoundError, match=unknown):
        store.artifacts.record(run, [ArtifactEntry("a.txt", unknown, 12)])
    store.artifacts.record(run, [])
    assert store.artifacts.list_files(run) == []


def test_stored_blobs_are_recorded_by_entry_and_streams_are_stored(store: SqlStore) -> None:
    model = "m-" + uuid.uuid4().hex  # an MLflow logged model owns artifacts the same way
    info = store.artifacts.blobs.put_bytes(b"weights")
    store.artifacts.record(model, [ArtifactEntry("model/weights.bin", info.digest, info.size)])
    entry = store.artifacts.write_stream(model, "model/big.bin", iter([b"x" * 1000] * 5))
    assert entry.size == 5000
    assert store.artifacts.read_bytes(model, "model/weights.bin") == b"weights"
    with store.artifacts.open(model, "model/big.bin") as stream:
        assert stream.read() == b"x" * 5000


def test_missing_artifacts_name_the_run_and_path(store: SqlStore, tmp_path: Path) -> None:
    run = _run()
    with pytest.raises(ArtifactNotFoundError, match=r"nope\.txt") as caught:
        store.artifacts.read_bytes(run, "nope.txt")
    assert (caught.value.run_id, caught.value.path) == (run, "nope.txt")
    with pytest.raises(ArtifactNotFoundError):
        store.artifacts.download(run, "nope", tmp_path)
    assert store.artifacts.find(run, "nope.txt") is None


def test_delete_removes_files_and_folders_from_the_manifest(
    store: SqlStore, tmp_path: Path
) -> None:
    run = _run()
    store.artifacts.log_dir(run, _tree(tmp_path / "src"))
    store.artifacts.write_bytes(run, "sub_other.txt", b"keep")  # a LIKE wildcard look-alike
    store.artifacts.write_bytes(run, "subxb.txt", b"keep")
    assert store.artifacts.delete(run, "sub") == 2
    assert [e.path for e in store.artifacts.list_files(run)] == [
        "a.txt",
        "sub_other.txt",
        "subxb.txt",
    ]
    assert store.artifacts.list(run, "sub_") == []
    assert store.artifacts.delete(run, "a.txt") == 1
    assert store.artifacts.delete(run) == 2
    assert store.artifacts.list_files(run) == []


def test_download_materialises_files_folders_and_everything(
    store: SqlStore, tmp_path: Path
) -> None:
    run = _run()
    source = _tree(tmp_path / "src")
    store.artifacts.log_dir(run, source)
    file = store.artifacts.download(run, "sub/b.txt", tmp_path / "d1")
    assert file == tmp_path / "d1" / "b.txt"
    assert file.read_text() == "beta"
    folder = store.artifacts.download(run, "sub", tmp_path / "d2")
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "b.txt",
        "deep/c.bin",
    ]
    everything = store.artifacts.download(run, None, tmp_path / "d3")
    assert everything == tmp_path / "d3" / "artifacts"
    assert (everything / "sub" / "deep" / "c.bin").read_bytes() == (
        source / "sub" / "deep" / "c.bin"
    ).read_bytes()
    assert (everything / "a.txt").stat().st_mode & stat.S_IWUSR  # copies are the user's
    linked = store.artifacts.download(run, "sub/deep/c.bin", tmp_path / "d4", link=True)
    assert linked.stat().st_mode & stat.S_IWUSR == 0  # a link to the store is read-only
    empty = store.artifacts.download(_run(), None, tmp_path / "d5")
    assert empty.is_dir()
    assert list(empty.iterdir()) == []


def test_a_damaged_blob_is_reported_when_read(store: SqlStore) -> None:
    run = _run()
    store.artifacts.write_bytes(run, "w.bin", os.urandom(300_000))
    digest = store.artifacts.get(run, "w.bin").digest
    blob = Path(store.artifact_root) / "blobs" / digest[:2] / digest[2:]
    blob.chmod(0o644)
    blob.write_bytes(b"damaged")
    with pytest.raises(CorruptBlobError, match=digest):
        store.artifacts.read_bytes(run, "w.bin")


def test_artifacts_live_on_s3_when_the_artifact_root_is_there(
    store_url: str, s3_server: S3Server, tmp_path: Path
) -> None:
    root = f"s3://{s3_server.new_bucket()}/mloop"
    opened = SqlStore(store_url, artifact_root=root)
    try:
        run = _run()
        source = _tree(tmp_path / "src")
        assert opened.artifacts.log_dir(run, source) == 3
        assert opened.artifacts.read_bytes(run, "sub/b.txt") == b"beta"
        assert opened.artifacts.blobs.uri == root
        copy = opened.artifacts.download(run, "sub", tmp_path / "out")
        assert (copy / "deep" / "c.bin").read_bytes() == (
            source / "sub" / "deep" / "c.bin"
        ).read_bytes()
    finally:
        opened.close()
