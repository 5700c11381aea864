"""Deployment changes: how long a create, update, rollback and read take, on each store.

The inference server polls `deployments.get` to follow changes, and `mloop deploy rollback` is
the "return in a second" path of issue 8, so these are the latencies that matter. Measured on a
SQLite file, on PostgreSQL (`--postgres URL`), and through a live `mloop server` (one worker,
its own process, on loopback) in front of another SQLite file. There is no anchor tool: MLflow
has no deployment object, and KServe or Seldon roll back by re-applying Kubernetes objects.

    .venv/bin/python bench/deployments.py [--iterations 200] [--postgres postgresql://...]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mloop.storage.protocols import Store
from mloop.storage.sql.store import SqlStore

ROOT = Path(__file__).resolve().parent.parent

SPLIT = {"champion": 90, "challenger": 10}


def _median_ms(action: Callable[[], object], iterations: int) -> float:
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _measure(store: Store, iterations: int) -> dict[str, float]:
    for _ in range(2):
        store.registry.create_version("churn", "s3://bucket/churn", actor="bench")
    store.registry.set_alias("churn", "champion", 1, actor="bench")
    store.registry.set_alias("churn", "challenger", 2, actor="bench")
    deployments = store.deployments
    counter = iter(range(10**9))
    create = _median_ms(
        lambda: deployments.create(f"d-{next(counter)}", "churn", routes=SPLIT, actor="bench"),
        iterations,
    )
    splits = [{"champion": 100}, SPLIT]
    flip = iter(range(10**9))
    update = _median_ms(
        lambda: deployments.update("d-0", routes=splits[next(flip) % 2], actor="bench"),
        iterations,
    )
    rollback = _median_ms(lambda: deployments.rollback("d-0", actor="bench"), iterations)
    get = _median_ms(lambda: deployments.get("d-0"), iterations)
    history = len(deployments.history("d-0"))
    return {"create": create, "update": update, "rollback": rollback, "get": get, "rev": history}


def main() -> None:
    """Measure each store and print a table of medians in milliseconds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--postgres", default=None, help="PostgreSQL URL of an empty database.")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{tmp}/mloop.db"
        store = SqlStore(sqlite_url, artifact_root=f"{tmp}/artifacts")
        results["SQLite file"] = _measure(store, args.iterations)
        store.close()
        if args.postgres:
            store = SqlStore(args.postgres, artifact_root=f"{tmp}/artifacts")
            results["PostgreSQL"] = _measure(store, args.iterations)
            store.close()
        results["server (SQLite)"] = _through_server(tmp, args.iterations)
    print(f"{'store':<18}{'create':>9}{'update':>9}{'rollback':>10}{'get':>8}  (median ms)")
    for name, row in results.items():
        print(
            f"{name:<18}{row['create']:>9.2f}{row['update']:>9.2f}{row['rollback']:>10.2f}"
            f"{row['get']:>8.2f}  ({int(row['rev'])} revisions)"
        )


def _through_server(tmp: str, iterations: int) -> dict[str, float]:
    """Run `mloop server` (one worker, its own process) and measure through the REST store."""
    from mloop.storage.rest import RestStore

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(ROOT / ".venv" / "bin" / "mloop"), "server", "--backend-uri"]
    command += [f"sqlite:///{tmp}/served.db", "--artifact-uri", f"{tmp}/served-artifacts"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    store = RestStore(url)
    try:
        deadline = time.monotonic() + 60
        while not _is_up(url):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("mloop server did not start")
            time.sleep(0.05)
        return _measure(store, iterations)
    finally:
        store.close()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _is_up(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


if __name__ == "__main__":
    main()
