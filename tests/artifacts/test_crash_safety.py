"""A writer killed mid-blob leaves nothing visible; concurrent writers share blobs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mloop.artifacts import LocalBlobStore, digest_bytes, open_blob_store
from tests.artifacts.test_blobs import _objects

_KILLED_WRITER = """
import os, sys, time
from pathlib import Path
from mloop.artifacts import open_blob_store

store = open_blob_store(sys.argv[1])
marker = Path(sys.argv[2])

def chunks():
    for _ in range(3):
        yield os.urandom(1 << 20)
    marker.touch()  # half written: the parent kills us now
    time.sleep(120)
    yield b"never reached"

store.put_stream(chunks())
"""

_ADDER = """
import json, sys
from mloop.artifacts import open_blob_store

store = open_blob_store(sys.argv[1])
paths = json.loads(sys.argv[2])
infos = store.put_files(paths, workers=4)
print(json.dumps([i.digest for i in infos]))
"""


def _python(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_writer_killed_mid_blob_leaves_no_visible_blob(blob_uri: str, tmp_path: Path) -> None:
    marker = tmp_path / "half-written"
    writer = _python(_KILLED_WRITER, blob_uri, str(marker))
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert writer.poll() is None, writer.communicate()
        assert time.monotonic() < deadline, "the writer never got half way"
        time.sleep(0.02)
    os.kill(writer.pid, signal.SIGKILL)
    writer.communicate(timeout=30)
    assert writer.returncode == -signal.SIGKILL

    store = open_blob_store(blob_uri)
    assert list(store.list_digests()) == []
    assert _objects(store, "blobs") == []
    assert _objects(store, "packs") == []
    if isinstance(store, LocalBlobStore):
        # The partial bytes sit under tmp/, where gc sweeps them once old.
        assert len(_objects(store, "tmp")) == 1
        assert store.remove_stale(older_than=time.time() + 1) == 1
    # The next write succeeds.
    info = store.put_bytes(b"after the crash")
    assert store.read_bytes(info.digest) == b"after the crash"


def test_two_processes_adding_overlapping_files_both_succeed_and_share_blobs(
    blob_uri: str, tmp_path: Path
) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    paths: list[str] = []
    for i in range(240):
        small = folder / f"f{i:03}.txt"
        small.write_text(f"file {i}\n" * (i + 1))
        paths.append(str(small))
    for i in range(2):
        large = folder / f"large{i}.bin"
        large.write_bytes(os.urandom(600_000))
        paths.append(str(large))
    # Each takes two thirds of the files; the middle third (and one large file) overlaps.
    first = paths[:160] + paths[-2:]
    second = paths[80:]
    writers = [_python(_ADDER, blob_uri, json.dumps(part)) for part in (first, second)]
    outputs = [w.communicate(timeout=120) for w in writers]
    for writer, (_, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
    digests = [json.loads(out) for out, _ in outputs]
    expected = {p: digest_bytes(Path(p).read_bytes()) for p in paths}
    assert digests[0] == [expected[p] for p in first]
    assert digests[1] == [expected[p] for p in second]

    store = open_blob_store(blob_uri)
    assert set(store.list_digests()) == set(expected.values())
    for name, digest in expected.items():
        assert store.read_bytes(digest) == Path(name).read_bytes()
    # The large file both stored lives once, under its digest.
    shared_large = expected[paths[-1]]
    assert _objects(store, "blobs").count(f"blobs/{shared_large[:2]}/{shared_large[2:]}") == 1
