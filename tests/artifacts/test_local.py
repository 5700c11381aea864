"""What only the local-folder store does: read-only blobs, links in and out, opening by URI."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mloop.artifacts import LocalBlobStore, digest_bytes, open_blob_store
from mloop.artifacts.remote import FsspecBlobStore
from mloop.errors import ConfigurationError, StorageError

_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def test_stored_blobs_are_read_only(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "store")
    info = store.put_bytes(b"frozen")
    assert store.blob_path(info.digest).stat().st_mode & _WRITE_BITS == 0


def test_put_file_with_link_shares_the_inode_and_freezes_the_source(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "store")
    source = tmp_path / "big.bin"
    payload = os.urandom(700_000)
    source.write_bytes(payload)
    info = store.put_file(source, link=True)
    assert info.digest == digest_bytes(payload)
    blob = store.blob_path(info.digest)
    assert blob.stat().st_ino == source.stat().st_ino
    assert source.stat().st_mode & _WRITE_BITS == 0
    # Linking a second file of the same content keeps the first blob and freezes that file too.
    twin = tmp_path / "twin.bin"
    twin.write_bytes(payload)
    assert store.put_file(twin, link=True) == info
    assert twin.stat().st_mode & _WRITE_BITS == 0
    assert store.read_bytes(info.digest) == payload


def test_put_file_with_move_of_known_content_removes_the_source(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "store")
    first = tmp_path / "a.bin"
    first.write_bytes(b"same bytes" * 1000)
    info = store.put_file(first)
    second = tmp_path / "b.bin"
    second.write_bytes(b"same bytes" * 1000)
    assert store.put_file(second, move=True) == info
    assert not second.exists()
    assert first.exists()


def test_durable_stores_write_the_same_blobs(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "store", durable=True)
    source = tmp_path / "f.bin"
    source.write_bytes(b"synced" * 100_000)
    info = store.put_file(source)
    stream = store.put_stream([b"a", b"b"])
    assert store.read_bytes(info.digest) == source.read_bytes()
    assert store.read_bytes(stream.digest) == b"ab"


def test_a_blob_cannot_be_materialised_over_a_folder(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "store")
    info = store.put_bytes(b"x")
    (tmp_path / "taken").mkdir()
    with pytest.raises(IsADirectoryError):
        store.get_file(info.digest, tmp_path / "taken")
    assert not list(tmp_path.glob(".mloop-tmp-*"))


def test_uris_choose_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_blob_store(str(tmp_path)), LocalBlobStore)
    by_file_uri = open_blob_store(f"file://{tmp_path}")
    assert isinstance(by_file_uri, LocalBlobStore)
    assert by_file_uri.root == tmp_path
    memory = open_blob_store("memory://mloop-test/root")
    assert isinstance(memory, FsspecBlobStore)
    info = memory.put_bytes(b"in memory")  # any fsspec file system works, with temp + move
    assert memory.read_bytes(info.digest) == b"in memory"
    assert memory.put_stream([b"stream"]).size == 6
    with pytest.raises(ConfigurationError, match="nosuchproto"):
        open_blob_store("nosuchproto://bucket/root")


def test_a_missing_s3_extra_names_the_extra_to_install() -> None:
    # A child process where s3fs cannot be imported, as in an install without mloop[s3].
    code = (
        "import sys; sys.modules['s3fs'] = None\n"
        "from mloop.artifacts import open_blob_store\n"
        "from mloop.errors import MissingExtraError\n"
        "try:\n"
        "    open_blob_store('s3://bucket/root')\n"
        "except MissingExtraError as exc:\n"
        "    print(exc.extra, exc.module, exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.startswith("s3 s3fs ")
    assert "pip install 'mloop[s3]'" in result.stdout


def test_large_files_are_copied_by_the_kernel_and_verified(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "store")
    source = tmp_path / "two-mib.bin"
    payload = os.urandom(2 << 20)
    source.write_bytes(payload)
    info = store.put_file(source)
    assert info == store.put_file(source)  # again: the copy is dropped, the blob kept
    assert info.digest == digest_bytes(payload)
    assert store.blob_path(info.digest).read_bytes() == payload
    assert list((tmp_path / "store" / "tmp").iterdir()) == []


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="needs a second file system")
def test_moving_or_linking_across_file_systems_falls_back_to_a_copy(tmp_path: Path) -> None:
    import tempfile

    store = LocalBlobStore(tmp_path / "store")
    with tempfile.TemporaryDirectory(dir="/dev/shm") as other:
        moved = Path(other) / "moved.bin"
        moved.write_bytes(b"m" * 300_000)
        info = store.put_file(moved, move=True)
        assert not moved.exists()
        linked = Path(other) / "linked.bin"
        linked.write_bytes(b"l" * 300_000)
        linked_info = store.put_file(linked, link=True)
        assert linked.exists()
        assert linked.stat().st_ino != store.blob_path(linked_info.digest).stat().st_ino
        out = Path(other) / "out.bin"
        assert store.get_file(info.digest, out) == "copy"  # no hard link across file systems
        assert out.read_bytes() == b"m" * 300_000


def test_a_blob_store_that_cannot_be_written_says_so_and_keeps_no_temporaries(
    tmp_path: Path,
) -> None:
    root = tmp_path / "store"
    root.mkdir()
    (root / "tmp").write_text("a file where the store needs a folder")
    store = LocalBlobStore(root)
    with pytest.raises(StorageError, match="cannot create"):
        store.put_bytes(b"x")
    blocked = LocalBlobStore(tmp_path / "store2")
    info = digest_bytes(b"y")
    (tmp_path / "store2" / "blobs").mkdir(parents=True)
    (tmp_path / "store2" / "blobs" / info[:2]).write_text("not a folder")
    source = tmp_path / "y.txt"
    source.write_bytes(b"y")
    with pytest.raises(StorageError):
        blocked.put_file(source)
    with pytest.raises(StorageError):
        blocked.put_stream([b"y"])
    assert list((tmp_path / "store2" / "tmp").iterdir()) == []


def test_packs_kept_open_for_reading_are_bounded_and_survive_a_fork(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "store")
    digests = []
    for i in range(40):  # one pack each: more packs than are kept open
        path = tmp_path / f"s{i}.txt"
        path.write_text(f"small {i}")
        (info,) = store.put_files([path])
        digests.append(info.digest)
    for i, digest in enumerate(digests):
        assert store.read_bytes(digest) == f"small {i}".encode()
    assert len(store._packs_open._fds) == 32
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        ok = all(store.read_bytes(d) == f"small {i}".encode() for i, d in enumerate(digests))
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.delete(digests[:5]) == 5
    assert store.read_bytes(digests[-1]) == b"small 39"


def test_put_files_can_link_large_files_and_packs_small_ones(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "store")
    large = tmp_path / "large.bin"
    large.write_bytes(os.urandom(600_000))
    small = tmp_path / "small.txt"
    small.write_text("small")
    big_info, small_info = store.put_files([large, small], link=True)
    assert store.blob_path(big_info.digest).stat().st_ino == large.stat().st_ino
    assert large.stat().st_mode & _WRITE_BITS == 0
    assert store.is_packed(small_info.digest)
    assert small.stat().st_mode & stat.S_IWUSR  # packed bytes are a copy: the file stays as is


def test_storing_known_bytes_again_makes_their_blob_young_for_gc(tmp_path: Path) -> None:
    import time

    store = LocalBlobStore(tmp_path / "store")
    two_days_ago = time.time() - 2 * 86_400
    loose = store.put_bytes(b"loose" * 100_000)
    small = tmp_path / "small.txt"
    small.write_text("packed")
    (packed,) = store.put_files([small])
    for path in (tmp_path / "store").rglob("*"):
        if path.is_file():
            os.utime(path, (two_days_ago, two_days_ago))
    store.refresh()
    assert all(s.modified_at < two_days_ago + 1 for s in store.list_blobs())
    store.put_bytes(b"loose" * 100_000)
    store.put_files([small])
    ages = {s.digest: s.modified_at for s in store.list_blobs()}
    assert ages[loose.digest] > time.time() - 60
    assert ages[packed.digest] > time.time() - 60
