"""A killed `data add` leaves no partial version or blob; concurrent adds share blobs."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mloop.artifacts import open_blob_store
from mloop.data.snapshots import add
from mloop.storage.sql.store import SqlStore

pytestmark = pytest.mark.slow

_SPAWN = multiprocessing.get_context("spawn")


def _env(store_url: str, artifact_root: str, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(MLOOP_TRACKING_URI=store_url, MLOOP_ARTIFACT_URI=artifact_root, MLOOP_HOME=str(home))
    return env


def test_sigkill_during_add_leaves_no_partial_version_or_blob(
    store: SqlStore, store_url: str, artifact_root: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for i in range(200):
        (data / f"small{i}.txt").write_text(f"row {i}\n")
    with (data / "big.bin").open("wb") as out:
        for _ in range(96):
            out.write(os.urandom(1 << 20))
    command = [sys.executable, "-m", "mloop.cli", "data", "add", str(data), "--name", "raw"]
    env = _env(store_url, artifact_root, tmp_path / ".mloop")
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    tmp = Path(artifact_root) / "tmp"
    deadline = time.monotonic() + 60
    # Kill while a blob is being written under its temporary name.
    while not (tmp.is_dir() and any(tmp.iterdir())):
        assert process.poll() is None, "data add finished before it could be killed"
        assert time.monotonic() < deadline, "data add never started writing blobs"
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert store.datasets.list() == [] or store.datasets.get("raw").latest_version == 0
    blobs = open_blob_store(artifact_root)
    for digest in list(blobs.list_digests()):
        blobs.read_bytes(digest)  # every visible blob is whole: reads verify the digest
    finished = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert finished.returncode == 0, finished.stderr
    assert "created datasets:/raw/1" in finished.stdout
    assert store.datasets.get_latest("raw").file_count == 201


def _add(url: str, root: str, folder: str, name: str, start: Any, results: Any) -> None:
    store = SqlStore(url, artifact_root=root)
    try:
        start.wait(timeout=60)
        result = add(store, folder, name)
        results.put((name, result.version.version, result.created))
    except Exception as exc:  # noqa: BLE001 - reported to the parent  # pragma: no cover
        results.put((name, repr(exc), False))
    finally:
        store.close()


def test_two_processes_adding_overlapping_folders_both_succeed_and_share_blobs(
    store: SqlStore, store_url: str, artifact_root: str, tmp_path: Path
) -> None:
    shared = {f"shared{i}.txt": f"same content {i}\n" * 50 for i in range(300)}
    folders = []
    for side in ("left", "right"):
        folder = tmp_path / side
        folder.mkdir()
        for rel, text in shared.items():
            (folder / rel).write_text(text)
        for i in range(50):
            (folder / f"{side}{i}.txt").write_text(f"{side} only {i}\n")
        (folder / "large.bin").write_bytes(b"L" * 3_000_000)  # a loose blob both store
        folders.append(str(folder))
    start = _SPAWN.Barrier(2)
    results = _SPAWN.Queue()
    processes = [
        _SPAWN.Process(target=_add, args=(store_url, artifact_root, folder, name, start, results))
        for folder, name in zip(folders, ("left", "right"), strict=True)
    ]
    for process in processes:
        process.start()
    collected = sorted(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=30)
    assert collected == [("left", 1, True), ("right", 1, True)]
    left = {e.path: e.digest for e in store.datasets.list_files("left", 1)}
    right = {e.path: e.digest for e in store.datasets.list_files("right", 1)}
    common = set(shared) | {"large.bin"}
    assert all(left[p] == right[p] for p in common)
    blobs = open_blob_store(artifact_root)
    stored = set(blobs.list_digests())
    assert set(left.values()) | set(right.values()) <= stored
    assert len(set(left.values()) | set(right.values())) == len(common) + 100
    assert blobs.read_bytes(left["large.bin"]) == b"L" * 3_000_000
