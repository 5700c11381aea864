"""Benchmark: versioning data through `mloop server` (REST store) against the local store.

    .venv/bin/python bench/datasets_server.py [--small 2000] [--large-mib 64]

One folder of `--small` 4 KiB files plus one `--large-mib` file. Each figure is one run, on a
fresh SQLite store (local) or a fresh server on one (remote, one worker, loopback):
- add: first `mloop.data.add` of the folder (hash, upload what the server lacks, commit);
- re-add after touching one small file (only that blob travels);
- get: materialising the version into an empty folder.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mloop.data.snapshots import add
from mloop.data.transfer import get
from mloop.server.app import create_app
from mloop.server.config import ServerConfig
from mloop.server.runner import BindAddress, bind_socket
from mloop.storage.rest import RestStore
from mloop.storage.sql.store import SqlStore


def _serve(app: Any) -> tuple[str, Callable[[], None]]:
    """The app on uvicorn in a thread, on a free loopback port (as `mloop server` binds it)."""
    import asyncio

    import uvicorn

    sock = bind_socket(BindAddress("127.0.0.1", 0), reuse_port=False)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    while not server.started:
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join()

    return f"http://127.0.0.1:{sock.getsockname()[1]}", stop


def _timed(step: Callable[[], Any]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def _data(root: Path, small: int, large_mib: int) -> Path:
    folder = root / "data"
    for i in range(small):
        target = folder / f"part-{i // 500}" / f"f{i}.bin"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(os.urandom(4096))
    (folder / "large.bin").write_bytes(os.urandom(large_mib << 20))
    return folder


def _run(store: Any, folder: Path, out: Path) -> dict[str, float]:
    first = _timed(lambda: add(store, folder, "bench"))
    (folder / "part-0" / "f0.bin").write_bytes(os.urandom(4096))
    again = _timed(lambda: add(store, folder, "bench"))
    materialise = _timed(lambda: get(store, "bench", out))
    return {"add": first, "re-add after 1 file": again, "get": materialise}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--large-mib", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = _data(root, args.small, args.large_mib)
        local = SqlStore(f"sqlite:///{root / 'local.db'}", artifact_root=str(root / "local-art"))
        figures = {"local": _run(local, folder, root / "out-local")}
        local.close()
        config = ServerConfig(
            backend_uri=f"sqlite:///{root / 'server.db'}", artifact_uri=str(root / "server-art")
        )
        url, stop = _serve(create_app(config))
        remote = RestStore(url)
        try:
            figures["server"] = _run(remote, folder, root / "out-server")
        finally:
            remote.close()
            stop()
    print(f"{args.small} x 4 KiB files + {args.large_mib} MiB file")
    for step in figures["local"]:
        lo, rs = figures["local"][step], figures["server"][step]
        print(f"{step:22s} local {lo:7.3f} s   server {rs:7.3f} s   ratio {rs / lo:5.1f}x")


if __name__ == "__main__":
    main()
