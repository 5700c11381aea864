"""Importing a DVC repository (built by hand in DVC's layout) as dataset versions."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from mloop.artifacts import open_blob_store
from mloop.data.dvc_import import dataset_name, find_outputs, import_dvc
from mloop.entities.datasets import DatasetKind
from mloop.errors import DvcImportError
from mloop.storage.sql.store import SqlStore


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # DVC names content by md5


def _cache(repo: Path, data: bytes, *, legacy: bool = False, md5: str | None = None) -> str:
    digest = md5 or _md5(data)
    folder = repo / ".dvc" / "cache"
    if not legacy:
        folder = folder / "files" / "md5"
    target = folder / digest[:2] / digest[2:]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return digest


def _repo(tmp_path: Path) -> Path:
    """A DVC repo: a tracked file, a tracked folder, a pipeline output, one never pulled."""
    repo = tmp_path / "repo"
    (repo / ".dvc").mkdir(parents=True)
    (repo / ".dvc" / "config").write_text("[core]\n    remote = storage\n")
    # data/raw.csv tracked by data/raw.csv.dvc (DVC 3)
    raw = b"id,x\n1,2\n"
    (repo / "data").mkdir()
    md5 = _cache(repo, raw)
    (repo / "data" / "raw.csv.dvc").write_text(
        f"outs:\n- md5: {md5}\n  size: {len(raw)}\n  hash: md5\n  path: raw.csv\n"
    )
    # images/ tracked by images.dvc: a .dir listing in the cache
    files = {"a.png": b"AAA", "sub/b.png": b"BBBB"}
    listing = [{"md5": _cache(repo, data), "relpath": rel} for rel, data in files.items()]
    body = json.dumps(listing).encode()
    dir_md5 = _cache(repo, body, md5=_md5(body) + ".dir")
    (repo / "images.dvc").write_text(
        f"outs:\n- md5: {dir_md5}\n  size: 7\n  nfiles: 2\n  hash: md5\n  path: images\n"
    )
    # a pipeline output from DVC 2 (no `hash:` field: the old cache layout)
    model = b"weights"
    old = _cache(repo, model, legacy=True)
    (repo / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    outs:\n"
        f"    - path: out/model.bin\n      md5: {old}\n      size: 7\n"
    )
    # declared but never pulled into the cache
    (repo / "missing.bin.dvc").write_text(
        f"outs:\n- md5: {'e' * 32}\n  size: 1\n  hash: md5\n  path: missing.bin\n"
    )
    return repo


def test_every_output_becomes_a_dataset_version(store: SqlStore, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert [o.path for o in find_outputs(repo)] == [
        "data/raw.csv",
        "images",
        "missing.bin",
        "out/model.bin",
    ]
    result = import_dvc(store, repo)
    names = {name: r for name, _, r in result.imported}
    assert set(names) == {"data-raw.csv", "images", "out-model.bin"}
    assert all(r.created for r in names.values())
    assert [path for path, _ in result.skipped] == ["missing.bin"]
    assert "dvc pull" in result.skipped[0][1]
    images = names["images"].version
    assert images.kind is DatasetKind.FOLDER
    files = {e.path: e for e in store.datasets.list_files("images", 1)}
    assert set(files) == {"a.png", "sub/b.png"}
    blobs = open_blob_store(store.artifact_root)
    assert blobs.read_bytes(files["sub/b.png"].digest) == b"BBBB"
    raw = store.datasets.list_files("data-raw.csv", 1)
    assert [e.path for e in raw] == ["raw.csv"]
    assert blobs.read_bytes(raw[0].digest) == b"id,x\n1,2\n"
    model = names["out-model.bin"].version
    assert model.source.startswith("dvc:out/model.bin@")
    # importing again registers nothing new
    again = import_dvc(store, repo)
    assert not any(r.created for _, _, r in again.imported)


def test_not_a_repository_or_broken_files_are_clear_errors(store: SqlStore, tmp_path: Path) -> None:
    with pytest.raises(DvcImportError, match=r"no \.dvc folder"):
        import_dvc(store, tmp_path)
    repo = _repo(tmp_path)
    (repo / "bad.dvc").write_text("outs: [unclosed\n")
    with pytest.raises(DvcImportError, match="YAML"):
        import_dvc(store, repo)
    (repo / "bad.dvc").write_text("outs:\n- path: ../../etc/passwd\n  md5: " + "a" * 32 + "\n")
    with pytest.raises(DvcImportError, match="leaves the repository"):
        import_dvc(store, repo)
    (repo / "bad.dvc").write_text("outs:\n- path: x\n")
    with pytest.raises(DvcImportError, match="md5"):
        import_dvc(store, repo)
    assert store.datasets.list() == []


def test_unsafe_relpaths_in_a_listing_are_refused(store: SqlStore, tmp_path: Path) -> None:
    repo = tmp_path / "r"
    (repo / ".dvc").mkdir(parents=True)
    body = json.dumps([{"md5": _cache(repo, b"x"), "relpath": "../escape"}]).encode()
    dir_md5 = _cache(repo, body, md5=_md5(body) + ".dir")
    (repo / "d.dvc").write_text(f"outs:\n- md5: {dir_md5}\n  hash: md5\n  path: d\n")
    with pytest.raises(DvcImportError, match="unsafe relpath"):
        import_dvc(store, repo)


def test_dataset_names_from_paths() -> None:
    assert dataset_name("data/raw.csv") == "data-raw.csv"
    assert dataset_name(".hidden/x y") == "hidden-x-y"
