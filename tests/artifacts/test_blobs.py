"""The blob store on a local folder and on moto S3: writing, reading, verification, deletion."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from blake3 import blake3

from mloop.artifacts import BlobStore, LocalBlobStore, digest_bytes, open_blob_store
from mloop.artifacts.blobs import loose_name
from mloop.artifacts.packs import PACK_MAX_BLOB
from mloop.artifacts.remote import FsspecBlobStore
from mloop.errors import BlobNotFoundError, CorruptBlobError, InvalidInputError

LARGE = PACK_MAX_BLOB * 3 + 17  # stored on its own, not packed


@pytest.fixture
def blobs(blob_uri: str) -> BlobStore:
    return open_blob_store(blob_uri)


def _objects(store: BlobStore, prefix: str) -> list[str]:
    """Names of the objects under a prefix of the store root, read straight from the medium."""
    if isinstance(store, LocalBlobStore):
        base = store.root / prefix
        return sorted(str(p.relative_to(store.root)) for p in base.rglob("*") if p.is_file())
    assert isinstance(store, FsspecBlobStore)
    store.fs.invalidate_cache()
    try:
        found = store.fs.find(f"{store.root}/{prefix}")
    except FileNotFoundError:
        return []
    return sorted(p.removeprefix(f"{store.root}/") for p in found)


def _corrupt(store: BlobStore, name: str, data: bytes) -> None:
    """Overwrite a stored object behind the store's back (disk damage, a bad copy)."""
    if isinstance(store, LocalBlobStore):
        path = store.root / name
        path.chmod(0o644)
        path.write_bytes(data)
    else:
        assert isinstance(store, FsspecBlobStore)
        store.fs.pipe_file(f"{store.root}/{name}", data)


def test_bytes_are_stored_under_their_blake3_digest_once(blobs: BlobStore) -> None:
    data = b"hello blobs"
    first = blobs.put_bytes(data)
    second = blobs.put_bytes(data)
    assert first.digest == second.digest == blake3(data).hexdigest()
    assert first.size == len(data)
    assert blobs.has(first.digest)
    assert blobs.read_bytes(first.digest) == data
    assert blobs.size(first.digest) == len(data)
    assert _objects(blobs, "blobs") == [loose_name(first.digest)]


def test_large_file_streams_in_and_out_intact(blobs: BlobStore, tmp_path: Path) -> None:
    source = tmp_path / "large.bin"
    payload = os.urandom(LARGE)
    source.write_bytes(payload)
    info = blobs.put_file(source)
    assert info.digest == digest_bytes(payload)
    assert info.size == LARGE
    assert source.exists()
    assert blobs.read_bytes(info.digest) == payload
    assert b"".join(blobs.iter_chunks(info.digest)) == payload
    assert blobs.put_file(source) == info  # the same file again: nothing new stored
    assert _objects(blobs, "blobs") == [loose_name(info.digest)]


def test_empty_file_is_a_blob_like_any_other(blobs: BlobStore, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    info = blobs.put_file(empty)
    assert info.size == 0
    assert blobs.read_bytes(info.digest) == b""


def test_move_takes_the_file_into_the_store(blobs: BlobStore, tmp_path: Path) -> None:
    source = tmp_path / "moved.bin"
    payload = os.urandom(LARGE)
    source.write_bytes(payload)
    info = blobs.put_file(source, move=True)
    assert not source.exists()
    assert blobs.read_bytes(info.digest) == payload


def test_a_folder_is_refused_and_nothing_is_stored(blobs: BlobStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not a file"):
        blobs.put_file(tmp_path)
    with pytest.raises(InvalidInputError, match="No such file"):
        blobs.put_files([tmp_path / "missing.txt"])
    with pytest.raises(InvalidInputError, match="not a file"):
        blobs.put_files([tmp_path])
    assert list(blobs.list_digests()) == []


def test_streams_are_stored_from_chunks(blobs: BlobStore) -> None:
    chunks = [os.urandom(100_000) for _ in range(5)]
    info = blobs.put_stream(iter(chunks))
    assert info.size == 500_000
    assert info.digest == digest_bytes(b"".join(chunks))
    assert blobs.read_bytes(info.digest) == b"".join(chunks)
    assert blobs.put_stream(iter(chunks)) == info


def test_many_files_go_in_parallel_small_ones_into_packs(blobs: BlobStore, tmp_path: Path) -> None:
    paths = []
    for i in range(150):
        path = tmp_path / "in" / f"f{i:03}.txt"
        path.parent.mkdir(exist_ok=True)
        # Every third file repeats content: stored once.
        path.write_bytes(f"content {i % 100}".encode())
        paths.append(path)
    large = tmp_path / "in" / "large.bin"
    large.write_bytes(os.urandom(LARGE))
    paths.append(large)
    done: list[int] = []
    infos = blobs.put_files(paths, workers=4, progress=done.append)
    assert sum(done) == len(paths)
    assert [i.digest for i in infos] == [digest_bytes(p.read_bytes()) for p in paths]
    assert [i.size for i in infos] == [p.stat().st_size for p in paths]
    # The small files travel in one pack plus its index; only the large one stands alone.
    packs = _objects(blobs, "packs")
    assert [Path(p).suffix for p in packs] == [".idx", ".pack"]
    assert _objects(blobs, "blobs") == [loose_name(infos[-1].digest)]
    assert len(set(blobs.list_digests())) == 101
    for info, path in zip(infos, paths, strict=True):
        assert blobs.read_bytes(info.digest) == path.read_bytes()
    # Stored again: nothing new is written.
    assert blobs.put_files(paths) == infos
    assert _objects(blobs, "packs") == packs


def test_another_store_object_sees_packs_written_by_the_first(
    blob_uri: str, tmp_path: Path
) -> None:
    writer = open_blob_store(blob_uri)
    reader = open_blob_store(blob_uri)
    small = tmp_path / "small.txt"
    small.write_text("shared")
    reader_had = reader.missing([digest_bytes(b"shared")])
    (info,) = writer.put_files([small])
    assert reader_had == {info.digest}
    assert reader.has(info.digest)
    assert reader.missing([info.digest]) == set()
    assert reader.read_bytes(info.digest) == b"shared"


def test_missing_names_only_what_is_absent(blobs: BlobStore) -> None:
    stored = blobs.put_bytes(b"present").digest
    absent = digest_bytes(b"absent")
    assert blobs.missing([stored, absent]) == {absent}
    assert blobs.missing([]) == set()
    assert not blobs.has(absent)
    with pytest.raises(InvalidInputError, match="64 lowercase hex"):
        blobs.missing(["not-a-digest"])
    with pytest.raises(InvalidInputError):
        blobs.has(stored.upper())


def test_reading_an_absent_blob_names_it(blobs: BlobStore, tmp_path: Path) -> None:
    absent = digest_bytes(b"never stored")
    with pytest.raises(BlobNotFoundError, match=absent) as caught:
        blobs.read_bytes(absent)
    assert caught.value.digest == absent
    with pytest.raises(BlobNotFoundError):
        blobs.size(absent)
    with pytest.raises(BlobNotFoundError):
        blobs.get_file(absent, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_corrupted_blob_is_detected_on_read(blobs: BlobStore, tmp_path: Path) -> None:
    payload = os.urandom(LARGE)
    info = blobs.put_bytes(payload)
    damaged = bytearray(payload)
    damaged[LARGE // 2] ^= 0xFF
    _corrupt(blobs, loose_name(info.digest), bytes(damaged))
    with pytest.raises(CorruptBlobError, match="corrupt") as caught:
        blobs.read_bytes(info.digest)
    assert caught.value.digest == info.digest
    with pytest.raises(CorruptBlobError):
        blobs.get_file(info.digest, tmp_path / "out", link=False)
    assert not (tmp_path / "out").exists()
    _corrupt(blobs, loose_name(info.digest), payload[:100])  # truncated
    with pytest.raises(CorruptBlobError):
        blobs.read_bytes(info.digest)


def test_a_corrupted_pack_is_detected_on_read(blobs: BlobStore, tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_bytes(b"packed content")
    (info,) = blobs.put_files([small])
    (pack,) = [p for p in _objects(blobs, "packs") if p.endswith(".pack")]
    _corrupt(blobs, pack, b"PACKED content")
    with pytest.raises(CorruptBlobError):
        blobs.read_bytes(info.digest)
    with pytest.raises(CorruptBlobError):
        blobs.get_file(info.digest, tmp_path / "out")


def test_materialised_files_match_and_links_are_read_only(blobs: BlobStore, tmp_path: Path) -> None:
    payload = os.urandom(LARGE)
    loose = blobs.put_bytes(payload)
    small = tmp_path / "small.txt"
    small.write_bytes(b"tiny")
    (packed,) = blobs.put_files([small])
    linked = tmp_path / "work" / "a" / "large.bin"
    how = blobs.get_file(loose.digest, linked)
    assert linked.read_bytes() == payload
    if isinstance(blobs, LocalBlobStore):
        assert how == "link"
        assert linked.stat().st_ino == blobs.blob_path(loose.digest).stat().st_ino
        # Editing the workspace file would edit the store: it is read-only.
        assert linked.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) == 0
    else:
        assert how == "copy"
    copied = tmp_path / "work" / "copy.bin"
    assert blobs.get_file(loose.digest, copied, link=False) == "copy"
    assert copied.read_bytes() == payload
    assert copied.stat().st_mode & stat.S_IWUSR
    copied.write_bytes(b"edited")  # an independent copy: the store keeps the original
    assert blobs.read_bytes(loose.digest) == payload
    # Replacing an existing file, from a pack.
    assert blobs.get_file(packed.digest, copied) == "copy"
    assert copied.read_bytes() == b"tiny"


def test_delete_removes_loose_and_packed_blobs_and_keeps_the_rest(
    blobs: BlobStore, tmp_path: Path
) -> None:
    loose = blobs.put_bytes(os.urandom(LARGE))
    paths = []
    for i in range(4):
        path = tmp_path / f"s{i}.txt"
        path.write_text(f"small {i}")
        paths.append(path)
    infos = blobs.put_files(paths)
    doomed = [loose.digest, infos[0].digest, infos[1].digest]
    assert blobs.delete([*doomed, digest_bytes(b"never stored")]) == 3
    assert blobs.delete([]) == 0
    assert set(blobs.list_digests()) == {infos[2].digest, infos[3].digest}
    assert blobs.read_bytes(infos[3].digest) == b"small 3"
    # The survivors were repacked: still one pack, without the deleted blobs.
    assert len([p for p in _objects(blobs, "packs") if p.endswith(".pack")]) == 1
    other = open_blob_store(blobs.uri)
    assert set(other.list_digests()) == {infos[2].digest, infos[3].digest}
    assert blobs.delete(i.digest for i in infos[2:]) == 2
    assert _objects(blobs, "packs") == []


def test_copy_to_transfers_only_what_the_target_lacks(blobs: BlobStore, tmp_path: Path) -> None:
    other = LocalBlobStore(tmp_path / "other")
    payloads = [os.urandom(LARGE), b"small one", b"small two"]
    digests = [blobs.put_bytes(p).digest for p in payloads]
    other.put_bytes(b"small two")
    done: list[int] = []
    assert blobs.copy_to(other, digests, workers=2, progress=done.append) == 2
    assert sum(done) == 2
    assert [other.read_bytes(d) for d in digests] == payloads
    assert blobs.copy_to(other, digests) == 0
    # And back the other way, into an emptied store.
    assert blobs.delete(digests) == 3
    assert other.copy_to(blobs, digests) == 3
    assert [blobs.read_bytes(d) for d in digests] == payloads
    with pytest.raises(BlobNotFoundError):
        blobs.copy_to(other, [digest_bytes(b"nowhere")])


def test_leftovers_of_dead_writers_are_swept_once_old(blobs: BlobStore, tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_text("kept")
    (kept,) = blobs.put_files([small])
    orphan = "packs/" + "0" * 64 + ".pack"  # a pack whose index was never written
    blobs._write_object(orphan, b"partial")
    blobs._write_object("tmp/dead-writer.tmp", b"partial")
    assert blobs.remove_stale(older_than=0) == 0  # too young
    assert orphan in _objects(blobs, "packs")
    assert blobs.remove_stale(older_than=4_000_000_000) == 2
    assert orphan not in _objects(blobs, "packs")
    assert _objects(blobs, "tmp") == []
    assert blobs.read_bytes(kept.digest) == b"kept"


def test_list_blobs_reports_sizes_and_ages(blobs: BlobStore, tmp_path: Path) -> None:
    import time

    before = time.time() - 5
    loose = blobs.put_bytes(os.urandom(LARGE))
    small = tmp_path / "small.txt"
    small.write_text("x")
    (packed,) = blobs.put_files([small])
    stats = {s.digest: s for s in blobs.list_blobs()}
    assert stats.keys() == {loose.digest, packed.digest}
    assert stats[loose.digest].size == LARGE
    assert stats[loose.digest].pack_id is None
    assert stats[packed.digest].pack_id is not None
    assert all(s.modified_at > before for s in stats.values())


def test_many_files_materialise_from_packs_and_loose_blobs(
    blobs: BlobStore, tmp_path: Path
) -> None:
    paths = []
    for i in range(30):
        path = tmp_path / "in" / f"s{i}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"small {i % 20}")
        paths.append(path)
    large = tmp_path / "in" / "large.bin"
    large.write_bytes(os.urandom(LARGE))
    paths.append(large)
    infos = blobs.put_files(paths)
    out = tmp_path / "out"
    pairs = [(info.digest, out / "sub" / p.name) for info, p in zip(infos, paths, strict=True)]
    stale = out / "sub" / "s0.txt"
    stale.parent.mkdir(parents=True)
    stale.write_text("old content, replaced")
    done: list[int] = []
    counts = blobs.get_files(pairs, progress=done.append)
    assert sum(done) == len(pairs)
    linked = 1 if isinstance(blobs, LocalBlobStore) else 0
    assert counts == {"link": linked, "copy": len(pairs) - linked}
    for path in paths:
        assert (out / "sub" / path.name).read_bytes() == path.read_bytes()
    assert dict(blobs.read_many(i.digest for i in infos)) == {
        i.digest: p.read_bytes() for i, p in zip(infos, paths, strict=True)
    }
    # Materialising again over a link replaces the file, never writes through it.
    assert blobs.get_files(pairs, link=False) == {"link": 0, "copy": len(pairs)}
    assert blobs.read_bytes(infos[-1].digest) == large.read_bytes()
    with pytest.raises(BlobNotFoundError):
        blobs.get_files([(digest_bytes(b"absent"), out / "absent")])


def test_put_file_with_link_works_on_every_store(blobs: BlobStore, tmp_path: Path) -> None:
    source = tmp_path / "linked.bin"
    payload = os.urandom(LARGE)
    source.write_bytes(payload)
    info = blobs.put_file(source, link=True)
    assert source.read_bytes() == payload  # the source stays where it is
    assert blobs.read_bytes(info.digest) == payload


def test_missing_lists_a_prefix_holding_many_asked_digests(blobs: BlobStore) -> None:
    stored = blobs.put_bytes(os.urandom(LARGE)).digest
    # Ten absent digests sharing the stored one's prefix: the prefix is listed, not probed.
    absent = {stored[:2] + digest_bytes(str(i).encode())[2:] for i in range(10)}
    assert blobs.missing({stored, *absent}) == absent
    assert blobs.missing({"ff" + d[2:] for d in absent}) == {"ff" + d[2:] for d in absent}


def test_put_files_trusts_given_sizes_but_stores_grown_files_whole(
    blobs: BlobStore, tmp_path: Path
) -> None:
    small = tmp_path / "small.txt"
    small.write_text("small")
    grown = tmp_path / "grown.bin"
    grown.write_bytes(b"tiny")
    sizes = [small.stat().st_size, grown.stat().st_size]
    grown.write_bytes(os.urandom(LARGE))  # grew after the caller took its size
    infos = blobs.put_files([small, grown], sizes=sizes)
    assert [i.digest for i in infos] == [digest_bytes(b"small"), digest_bytes(grown.read_bytes())]
    assert blobs.read_bytes(infos[1].digest) == grown.read_bytes()
    with pytest.raises(InvalidInputError, match="one size per path"):
        blobs.put_files([small], sizes=[1, 2])
    with pytest.raises(InvalidInputError, match="No such file"):
        blobs.put_files([tmp_path / "gone.txt"], sizes=[3])
