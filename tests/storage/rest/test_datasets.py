"""Datasets through the server: the dataset store's tests on RestStore, the blob store over
`/api/v1/blobs`, and versioning, materialising and loading data end to end through a server.

The store tests named below are taken from the SQL suite, where `store` is a RestStore in front
of a live server here. Left out: those that read rows directly, list the digests `gc` keeps
(collected on the server) or write from several processes.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from types import ModuleType

import httpx
import pandas as pd
import pytest

from mloop.artifacts.digests import digest_bytes
from mloop.data.loading import load
from mloop.data.snapshots import add, snapshot
from mloop.data.transfer import get, push
from mloop.errors import (
    BlobNotFoundError,
    ConfigurationError,
    DatasetNotFoundError,
    InvalidInputError,
)
from mloop.storage.rest import RestStore
from mloop.storage.rest.blobs import RestBlobStore
from tests.storage.sql import test_datasets

_TAKEN: dict[ModuleType, list[str]] = {
    test_datasets: [
        "test_versions_number_up_and_unchanged_content_returns_the_latest",
        "test_a_table_version_keeps_its_schema_and_row_count",
        "test_description_and_tags_are_set_and_merged",
        "test_aliases_point_move_and_go",
        "test_unknown_names_and_versions_are_clear_errors",
        "test_lineage_lists_active_runs_that_logged_the_version",
    ],
}

for _module, _names in _TAKEN.items():
    for _name in _names:
        globals()[_name] = getattr(_module, _name)

A, B, C = "a" * 64, "b" * 64, "c" * 64


@pytest.mark.parametrize(
    ("name", "path"),
    [("bad/name", "f"), ("ok", "../escape"), ("ok", "/abs"), ("ok", "a//b"), ("@x", "f")],
)
def test_bad_names_and_paths_are_refused_and_change_nothing(
    store: RestStore, name: str, path: str
) -> None:
    with pytest.raises(InvalidInputError):
        store.datasets.commit_version(name, test_datasets._new((path, A, 1)))
    assert store.datasets.list() == []


def test_find_by_digest_through_the_server(store: RestStore) -> None:
    store.datasets.commit_version("one", test_datasets._new(("f", A, 1), ("g", B, 1), digest=C))
    store.datasets.commit_version("two", test_datasets._new(("f", A, 1), ("g", B, 1), digest=C))
    found = store.datasets.find_by_digest(C)
    assert [(v.name, v.version, v.file_count, v.total_size) for v in found] == [
        ("one", 1, 2, 2),
        ("two", 1, 2, 2),
    ]
    assert store.datasets.find_by_digest(A) == []
    with pytest.raises(ConfigurationError, match="mloop gc"):
        store.datasets.referenced_digests()


def test_malformed_commits_answer_400_and_change_nothing(server_url: str) -> None:
    version = {"digest": A, "kind": "folder", "files": [{"path": "f", "digest": A, "size": 1}]}
    bad = [
        {**version, "files": [{"path": "f", "digest": A, "size": 1}] * 2},
        {**version, "digest": "xyz"},
        {**version, "kind": "archive"},
        {**version, "message": "m" * 5001},
        {**version, "files": [{"path": "f", "digest": A, "size": -1}]},
        {**version, "tags": {"k": "v\x00"}},
    ]
    with httpx.Client(base_url=server_url) as http:
        for body in bad:
            answer = http.post("/api/v1/datasets/d/versions", json=body)
            assert answer.status_code == 400, (body, answer.text)
            assert answer.json()["error"]["code"] in ("INVALID_INPUT", "BAD_REQUEST")
        assert http.get("/api/v1/datasets").json() == {"datasets": []}
        assert http.post("/api/v1/datasets/d/versions", json=version).status_code == 201


def _files(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def test_a_folder_is_versioned_materialised_and_pushed_through_the_server(
    store: RestStore, artifact_root: str, tmp_path: Path
) -> None:
    big = os.urandom(600_000)  # stored on its own; the small files travel in one batch
    data = _files(
        tmp_path / "data",
        {"a.csv": b"x,y\n1,2\n", "sub/b.txt": b"hello", "sub/c.txt": b"hello", "big.bin": big},
    )
    first = add(store, data, "raw", message="first")
    assert first.created
    assert (first.version.version, first.version.file_count) == (1, 4)
    assert first.version.total_size == len(big) + 8 + 5 + 5
    again = add(store, data, "raw")
    assert not again.created
    # The bytes are in the server's blob store, at its artifact root.
    from mloop.artifacts import open_blob_store

    server_blobs = open_blob_store(artifact_root)
    entries = store.datasets.list_files("raw", 1)
    assert server_blobs.missing({e.digest for e in entries}) == set()
    assert server_blobs.read_bytes(digest_bytes(big)) == big
    out = get(store, "datasets:/raw/1", tmp_path / "out")
    assert (out.linked, out.copied) == (0, 4)
    for rel in ("a.csv", "sub/b.txt", "sub/c.txt", "big.bin"):
        assert (tmp_path / "out" / rel).read_bytes() == (data / rel).read_bytes()
    before = set(server_blobs.list_digests())
    (data / "sub/b.txt").write_bytes(b"changed")
    second = add(store, data, "raw", message="second")
    assert second.version.version == 2
    assert set(server_blobs.list_digests()) - before == {digest_bytes(b"changed")}
    pushed = push(store, "raw", str(tmp_path / "remote"))
    wanted = {
        e.digest for v in pushed.versions for e in store.datasets.list_files(v.name, v.version)
    }
    assert pushed.copied == pushed.blobs == len(wanted)
    assert open_blob_store(str(tmp_path / "remote")).missing(wanted) == set()
    assert open_blob_store(str(tmp_path / "remote")).read_bytes(digest_bytes(big)) == big


def test_a_frame_snapshot_loads_back_through_the_server(store: RestStore) -> None:
    frame = pd.DataFrame({"id": [1, 2, 3], "name": ["a", "b", "c"]})
    result = snapshot(store, frame, "table", message="v1")
    assert (result.version.row_count, result.version.kind) == (3, "table")
    store.datasets.set_alias("table", "gold", 1)
    pd.testing.assert_frame_equal(load(store, "table@gold"), frame)


def test_the_blob_store_uploads_what_the_server_lacks_and_verifies_it(
    store: RestStore, server_url: str, tmp_path: Path
) -> None:
    blobs = store.artifacts.blobs
    assert isinstance(blobs, RestBlobStore)
    info = blobs.put_bytes(b"one")
    assert blobs.has(info.digest)
    assert blobs.size(info.digest) == 3
    assert blobs.read_bytes(info.digest) == b"one"
    absent = digest_bytes(b"never stored")
    assert blobs.missing({info.digest, absent}) == {absent}
    with pytest.raises(BlobNotFoundError):
        blobs.read_bytes(absent)
    streamed = blobs.put_stream(iter([b"ab", b"cd"]))
    assert blobs.read_bytes(streamed.digest) == b"abcd"
    blobs.get_file(streamed.digest, tmp_path / "copy" / "f")
    assert (tmp_path / "copy" / "f").read_bytes() == b"abcd"
    with pytest.raises(ConfigurationError, match="only possible on the server"):
        list(blobs.list_digests())
    with pytest.raises(ConfigurationError, match="only possible on the server"):
        blobs.delete([info.digest])
    assert blobs.has(info.digest)


def test_uploads_that_do_not_match_their_digest_or_framing_answer_400(server_url: str) -> None:
    with httpx.Client(base_url=server_url) as http:
        wrong = http.put(f"/api/v1/blobs/{A}", content=b"not a's content")
        assert wrong.status_code == 400
        assert "hashes to" in wrong.json()["error"]["message"]
        assert http.get(f"/api/v1/blobs/{A}").status_code == 404
        assert http.get(f"/api/v1/blobs/{A}/stat").status_code == 404
        broken = http.post("/api/v1/blobs/batch", content=struct.pack(">Q", 10) + b"short")
        assert broken.status_code == 400
        assert "framed" in broken.json()["error"]["message"]
        framed = struct.pack(">Q", 2) + b"hi" + struct.pack(">Q", 0)
        stored = http.post("/api/v1/blobs/batch", content=framed)
        assert stored.status_code == 201
        assert stored.json()["blobs"] == [
            {"digest": digest_bytes(b"hi"), "size": 2},
            {"digest": digest_bytes(b""), "size": 0},
        ]
        assert http.get(f"/api/v1/blobs/{digest_bytes(b'hi')}").content == b"hi"


def test_an_unknown_dataset_is_a_404_with_the_mloop_error(store: RestStore) -> None:
    with pytest.raises(DatasetNotFoundError, match="mloop data list"):
        store.datasets.list_versions("nope")


def test_blob_lookups_need_a_reader_and_uploads_an_editor() -> None:
    from mloop.server.auth_rules import READ, WRITE, requirement_for

    assert requirement_for("POST", "/api/v1/blobs/missing") == READ
    assert requirement_for("GET", f"/api/v1/blobs/{A}") == READ
    assert requirement_for("PUT", f"/api/v1/blobs/{A}") == WRITE
    assert requirement_for("POST", "/api/v1/blobs/batch") == WRITE
    assert requirement_for("POST", "/api/v1/datasets/d/versions") == WRITE
    assert requirement_for("GET", "/api/v1/datasets/d/versions/1/files") == READ
