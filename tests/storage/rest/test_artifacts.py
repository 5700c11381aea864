"""Artifacts through the server: streamed uploads and downloads, listings, deletes, bad paths."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mloop.artifacts.paths import ArtifactEntry
from mloop.errors import ArtifactNotFoundError, BlobNotFoundError, InvalidInputError
from mloop.storage.rest import RestStore


@pytest.fixture
def run_id(store: RestStore) -> str:
    return store.runs.create("0", run_name="artifacts").run_id


def test_files_and_folders_round_trip(store: RestStore, run_id: str, tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"\x00weights")
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    artifacts = store.artifacts
    assert artifacts.log_file(run_id, source, "models") == "models/model.bin"
    assert artifacts.log_dir(run_id, folder, "plots") == 2
    assert artifacts.write_bytes(run_id, "notes/readme.md", b"# hi") == "notes/readme.md"
    assert [(i.path, i.is_dir) for i in artifacts.list(run_id)] == [
        ("models", True),
        ("notes", True),
        ("plots", True),
    ]
    assert [e.path for e in artifacts.list_files(run_id, "plots")] == [
        "plots/a.txt",
        "plots/sub/b.txt",
    ]
    entry = artifacts.get(run_id, "models/model.bin")
    assert entry.size == 8
    assert artifacts.read_bytes(run_id, "models/model.bin") == b"\x00weights"
    with artifacts.open(run_id, "notes/readme.md") as handle:
        assert handle.read() == b"# hi"
    copied = artifacts.download(run_id, "plots", tmp_path / "out")
    assert (copied / "sub" / "b.txt").read_text() == "b"
    single = artifacts.download(run_id, "models/model.bin", tmp_path / "one")
    assert single.read_bytes() == b"\x00weights"
    whole = artifacts.download(run_id, None, tmp_path / "all")
    assert sorted(p.name for p in whole.rglob("*") if p.is_file()) == [
        "a.txt",
        "b.txt",
        "model.bin",
        "readme.md",
    ]
    assert artifacts.delete(run_id, "plots") == 2
    assert [e.path for e in artifacts.list_files(run_id)] == ["models/model.bin", "notes/readme.md"]


def test_a_large_upload_streams_through_and_keeps_its_digest(
    store: RestStore, run_id: str, tmp_path: Path
) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    chunks: Iterator[bytes] = (data[i : i + 65536] for i in range(0, len(data), 65536))
    entry = store.artifacts.write_stream(run_id, "big/blob.bin", chunks)
    assert entry.size == len(data)
    assert store.artifacts.read_bytes(run_id, "big/blob.bin") == data
    answer = httpx.get(f"{store.url}/api/v1/runs/{run_id}/artifacts/content/big/blob.bin")
    assert answer.headers["content-length"] == str(len(data))
    assert hashlib.sha256(answer.content).digest() == hashlib.sha256(data).digest()


def test_missing_artifacts_and_bad_paths_raise_the_local_errors(
    store: RestStore, run_id: str, tmp_path: Path
) -> None:
    with pytest.raises(ArtifactNotFoundError):
        store.artifacts.read_bytes(run_id, "nope.txt")
    with pytest.raises(ArtifactNotFoundError):
        store.artifacts.download(run_id, "nope", tmp_path)
    with pytest.raises(ArtifactNotFoundError):
        store.artifacts.get(run_id, "nope.txt")
    for bad in ("../escape.txt", "/abs.txt", "a\\b"):
        with pytest.raises(InvalidInputError):
            store.artifacts.write_bytes(run_id, bad, b"x")
    with pytest.raises(InvalidInputError):
        store.artifacts.log_file(run_id, tmp_path / "missing.bin")
    with pytest.raises(InvalidInputError):
        store.artifacts.log_dir(run_id, tmp_path / "missing")
    with pytest.raises(BlobNotFoundError):
        store.artifacts.record(run_id, [ArtifactEntry("env.txt", "e" * 64, 1)])
    assert store.artifacts.list_files(run_id) == []


def test_blobs_uploaded_first_are_recorded_as_artifacts(store: RestStore, run_id: str) -> None:
    info = store.artifacts.blobs.put_bytes(b"pandas==2\n")
    store.artifacts.record(run_id, [])  # nothing to record: no request, no error
    with pytest.raises(InvalidInputError, match="not 99"):
        store.artifacts.record(run_id, [ArtifactEntry("environment/req.txt", info.digest, 99)])
    with pytest.raises(InvalidInputError):
        store.artifacts.record(run_id, [ArtifactEntry("../up.txt", info.digest, info.size)])
    assert store.artifacts.list_files(run_id) == []
    store.artifacts.record(run_id, [ArtifactEntry("environment/req.txt", info.digest, info.size)])
    assert store.artifacts.read_bytes(run_id, "environment/req.txt") == b"pandas==2\n"
    assert store.artifacts.list_files(run_id) == [
        ArtifactEntry("environment/req.txt", info.digest, info.size)
    ]


def test_the_server_refuses_escaping_paths_and_unknown_runs(store: RestStore, run_id: str) -> None:
    base = f"{store.url}/api/v1/runs"
    escaping = httpx.put(f"{base}/{run_id}/artifacts/content/a/%2E%2E/%2E%2E/x", content=b"x")
    assert escaping.status_code == 400
    unknown = httpx.put(f"{base}/{'0' * 32}/artifacts/content/x.txt", content=b"x")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["details"]["error_type"] == "RunNotFoundError"
