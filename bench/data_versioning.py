"""Data versioning: mloop vs DVC on the same generated data, with raw hashing as the limit.

Usage (after `bench/setup-dvc-env`, which puts DVC in bench/.venv-dvc):

    .venv/bin/python bench/data_versioning.py [--files 10000] [--big-mib 1024] [--only add,status]

mloop runs in this process (the operation through its Python API, stores opened beforehand) and
through its CLI (`python -m mloop.cli`, the whole command with interpreter start); DVC runs
through its CLI from bench/.venv-dvc. Every workload starts from fresh folders under
`bench/out/data-versioning/`. Figures are wall-clock seconds, medians of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "data-versioning"
DVC = HERE / ".venv-dvc" / "bin" / "dvc"
MLOOP = [sys.executable, "-m", "mloop.cli"]


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def _small_files(root: Path, count: int, size: int = 4096) -> Path:
    root.mkdir(parents=True)
    for i in range(count):
        sub = root / f"d{i % 100:02d}"
        sub.mkdir(exist_ok=True)
        (sub / f"f{i}.bin").write_bytes(os.urandom(size))
    return root


def _age(root: Path) -> None:
    """Set mtimes in the past, as for any data not written this very second."""
    past = time.time() - 3600
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (past, past))


def _touch_one_percent(root: Path, count: int) -> None:
    """Rewrite 1% of the files, with an mtime older than now (as the other files have)."""
    past = time.time() - 60
    for i in range(0, count, 100):
        path = root / f"d{i % 100:02d}" / f"f{i}.bin"
        path.write_bytes(os.urandom(4096))
        os.utime(path, (past, past))


def _fresh(name: str) -> Path:
    folder = OUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _mloop_env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOOP_")}
    env["MLOOP_HOME"] = str(work / ".mloop")
    return env


def _mloop_store(work: Path) -> Any:
    from mloop.storage import open_store

    home = work / ".mloop"
    home.mkdir(parents=True, exist_ok=True)
    return open_store(f"sqlite:///{home / 'mloop.db'}", artifact_root=str(home / "artifacts"))


def _dvc_repo(work: Path, *, link: bool = False) -> None:
    _run([str(DVC), "init", "--no-scm", "-q"], work)
    _run([str(DVC), "config", "cache.type", "hardlink" if link else "copy"], work)
    _run([str(DVC), "config", "core.analytics", "false"], work)


# -- workloads ------------------------------------------------------------------------------


def limit(files: int) -> dict[str, float]:
    """blake3 over the bytes of the small files, and a stat of each: the physical floor."""
    from blake3 import blake3

    work = _fresh("limit")
    data = _small_files(work / "data", files)
    paths = sorted(p for p in data.rglob("*") if p.is_file())
    blobs = [p.read_bytes() for p in paths]
    hashing = _timed(lambda: [blake3(b).hexdigest() for b in blobs])
    stat = _timed(lambda: [os.stat(p) for p in paths])
    return {"blake3 of the bytes (in memory)": hashing, "stat of every file": stat}


def add_small(files: int) -> dict[str, float]:
    """Add N files of 4 KB, then status unchanged, 1% changed: status and re-add."""
    from mloop.client.datasets import STAT_CACHE_FILE
    from mloop.data.changes import status
    from mloop.data.snapshots import add
    from mloop.data.stat_cache import StatCache

    result: dict[str, float] = {}
    work = _fresh("mloop-api")
    data = _small_files(work / "data", files)
    _age(data)
    store = _mloop_store(work)
    cache = StatCache(work / ".mloop" / STAT_CACHE_FILE)
    result["mloop api: add"] = _timed(lambda: add(store, data, "d", cache=cache))
    result["mloop api: status, nothing changed"] = _timed(
        lambda: status(store, data, "d", cache=cache)
    )
    _touch_one_percent(data, files)
    result["mloop api: status, 1% changed"] = _timed(lambda: status(store, data, "d", cache=cache))
    result["mloop api: re-add, 1% changed"] = _timed(lambda: add(store, data, "d", cache=cache))
    cache.close()
    store.close()

    work = _fresh("mloop-cli")
    data = _small_files(work / "data", files)
    _age(data)
    env = _mloop_env(work)
    result["mloop cli: add"] = _run([*MLOOP, "data", "add", "data", "-n", "d"], work, env)
    status_cmd = [*MLOOP, "data", "status", "data", "-n", "d"]
    result["mloop cli: status, nothing changed"] = _run(status_cmd, work, env)
    _touch_one_percent(data, files)
    result["mloop cli: status, 1% changed"] = _run(status_cmd, work, env)
    result["mloop cli: re-add, 1% changed"] = _run(
        [*MLOOP, "data", "add", "data", "-n", "d"], work, env
    )

    work = _fresh("dvc")
    data = _small_files(work / "data", files)
    _age(data)
    _dvc_repo(work)
    result["dvc: add"] = _run([str(DVC), "add", "-q", "data"], work)
    result["dvc: status, nothing changed"] = _run([str(DVC), "status", "-q"], work)
    _touch_one_percent(data, files)
    result["dvc: status, 1% changed"] = _run([str(DVC), "status"], work)
    result["dvc: re-add, 1% changed"] = _run([str(DVC), "add", "-q", "data"], work)
    return result


def materialise_and_push(files: int) -> dict[str, float]:
    """Materialise N small files (copy, hard link) and push them to a local-folder remote."""
    from mloop.data.snapshots import add
    from mloop.data.transfer import get, push

    result: dict[str, float] = {}
    work = _fresh("mloop-get")
    data = _small_files(work / "data", files)
    store = _mloop_store(work)
    add(store, data, "d")
    result["mloop api: get, copy"] = _timed(lambda: get(store, "d/1", work / "c", link=False))
    result["mloop api: get, hard link"] = _timed(lambda: get(store, "d/1", work / "l"))
    result["mloop api: push to a folder"] = _timed(lambda: push(store, "d", str(work / "remote")))
    store.close()

    for link in (False, True):
        work = _fresh(f"dvc-get-{link}")
        _small_files(work / "data", files)
        _dvc_repo(work, link=link)
        _run([str(DVC), "add", "-q", "data"], work)
        shutil.rmtree(work / "data")
        label = "hard link" if link else "copy"
        result[f"dvc: checkout, {label}"] = _run([str(DVC), "checkout", "-q"], work)
        if not link:
            _run([str(DVC), "remote", "add", "-d", "local", str(work / "remote")], work)
            result["dvc: push to a folder"] = _run([str(DVC), "push", "-q"], work)
    return result


def add_big(mib: int) -> dict[str, float]:
    """Add one large file: mloop (hash and copy in one pass) vs DVC with copy and hard link."""
    from blake3 import blake3

    from mloop.data.snapshots import add

    work = _fresh("big")
    big = work / "data" / "big.bin"
    big.parent.mkdir()
    with big.open("wb") as out:
        for _ in range(mib):
            out.write(os.urandom(1 << 20))
    result = {
        "blake3 of the file (mmap, threads)": _timed(
            lambda: blake3(max_threads=blake3.AUTO).update_mmap(big).hexdigest()
        ),
        "cp": _run(["cp", str(big), str(work / "copy.bin")], work),
    }
    store = _mloop_store(work / "m")
    result["mloop api: add (copy)"] = _timed(lambda: add(store, big, "big"))
    store.close()
    for link in (False, True):
        repo = work / f"dvc-{link}"
        repo.mkdir()
        shutil.copy(big, repo / "big.bin")
        _dvc_repo(repo, link=link)
        label = "hard link" if link else "copy"
        result[f"dvc: add ({label})"] = _run([str(DVC), "add", "-q", "big.bin"], repo)
    return result


def cli_start() -> dict[str, float]:
    """`--version` of each command, interpreter start included."""
    work = _fresh("cli")
    return {
        "mloop --version": _run([*MLOOP, "--version"], work),
        "dvc --version": _run([str(DVC), "--version"], work),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", default="limit,add,get,big,cli")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not DVC.exists():
        sys.exit("DVC is not installed for the benchmark: run bench/setup-dvc-env first")
    workloads = {
        "limit": lambda: limit(args.files),
        "add": lambda: add_small(args.files),
        "get": lambda: materialise_and_push(args.files),
        "big": lambda: add_big(args.big_mib),
        "cli": cli_start,
    }
    samples: dict[str, list[float]] = {}
    for name in args.only.split(","):
        for _ in range(args.repeat):
            for key, value in workloads[name]().items():
                samples.setdefault(key, []).append(value)
                print(f"{key:45s} {value:8.3f} s", flush=True)
    medians = {k: statistics.median(v) for k, v in samples.items()}
    print("\nmedians:")
    for key, value in medians.items():
        print(f"| {key} | {value:.3f} s |")
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": None}, "medians": medians}))
    shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    main()
