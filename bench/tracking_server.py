"""Benchmark: `mloop server` vs `mlflow server` over HTTP, on SQLite and then on PostgreSQL.

Run with the MLflow environment's Python (it holds both clients; each server runs from its own
environment, as users start them):

    bench/.venv-mlflow/bin/python bench/tracking_server.py [--backends sqlite,postgresql]

Workloads (issue 4), each against a fresh server on a fresh store:
- cold start: from spawning the server to its first answer (`/health`), then to its first API
  answer (an experiment read from the database), and how many processes it runs;
- request p50/p90 on one reused connection (get experiment "0");
- per-call `log_metric` through each fluent API, end to end (mloop batches in the background;
  MLflow sends one request per point, so it runs fewer points and the per-point figure is shown);
- W4: runs with 10 params and 5 metrics each through the fluent APIs;
- history: reading back a 10,000-point metric;
- server CPU per metric point written (batches of 1,000), from the server processes' CPU time.

PostgreSQL needs MLOOP_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test);
each run uses a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
MLOOP_BIN = ROOT / ".venv" / "bin" / "mloop"
MLFLOW_BIN = ROOT / "bench" / ".venv-mlflow" / "bin" / "mlflow"
PG_URL = os.environ.get("MLOOP_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Server:
    tool: str
    url: str
    process: subprocess.Popen[bytes]
    started_s: float
    first_api_s: float = 0.0

    def processes(self) -> list[psutil.Process]:
        parent = psutil.Process(self.process.pid)
        return [parent, *parent.children(recursive=True)]

    def cpu_s(self) -> float:
        total = 0.0
        for proc in self.processes():
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def database(backend: str, folder: Path) -> Iterator[tuple[str, str]]:
    """(mloop URI, MLflow URI) of one fresh database on the backend."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'mloop.db'}", f"sqlite:///{folder / 'mlflow.db'}"
        return
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    options = f"options=-csearch_path%3D{schema}"
    try:
        yield (
            f"{PG_URL}?{options}",
            f"{PG_URL.replace('postgresql://', 'postgresql+psycopg://', 1)}?{options}",
        )
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def server(tool: str, uri: str, folder: Path, workers: int) -> Iterator[Server]:
    port = free_port()
    artifacts = folder / f"{tool}-artifacts"
    if tool == "mloop":
        command = [str(MLOOP_BIN), "server", "--backend-uri", uri, "--artifact-uri", str(artifacts)]
    else:
        command = [
            str(MLFLOW_BIN),
            "server",
            "--backend-store-uri",
            uri,
            "--artifacts-destination",
            str(artifacts),
        ]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    url = f"http://127.0.0.1:{port}"
    # One client, made before the clock starts: a client per poll costs ~25 ms of this process's
    # CPU (an SSL context each), time that is the client's, not the server's. Each request
    # still opens a new connection, so the API answer below may come from any worker.
    probe = httpx.Client(headers={"Connection": "close"})
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    health = "/health"
    deadline = time.monotonic() + 120
    with probe:
        while True:
            try:
                if probe.get(url + health, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{tool} server did not start: {' '.join(command)}")
            time.sleep(0.01)
        started = Server(tool, url, process, time.perf_counter() - start)
        # The first answer that needs the API's routes and the database, not only /health.
        probe.get(url + _experiment_path(tool), timeout=30).raise_for_status()
        started.first_api_s = time.perf_counter() - start
    try:
        yield started
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _experiment_path(tool: str) -> str:
    if tool == "mloop":
        return "/api/v1/experiments/0"
    return "/api/2.0/mlflow/experiments/get?experiment_id=0"


def request_latency(srv: Server, count: int = 500) -> dict[str, float]:
    path = _experiment_path(srv.tool)
    with httpx.Client(base_url=srv.url) as http:
        http.get(path)
        samples = sorted(timed(lambda: http.get(path).raise_for_status()) for _ in range(count))
    return {"p50_ms": samples[count // 2] * 1000, "p90_ms": samples[int(count * 0.9)] * 1000}


def fluent(srv: Server) -> Any:
    if srv.tool == "mlflow":
        import mlflow

        mlflow.set_tracking_uri(srv.url)
        return mlflow
    import mloop

    mloop.set_tracking_uri(srv.url)
    return mloop


def log_each(srv: Server, points: int) -> dict[str, float]:
    module = fluent(srv)
    start = time.perf_counter()
    module.start_run()
    for i in range(points):
        module.log_metric("loss", 1.0 / (i + 1), step=i)
    module.end_run()
    seconds = time.perf_counter() - start
    return {"points": points, "seconds": seconds, "ms_per_point": seconds / points * 1000}


def many_runs(srv: Server, runs: int) -> dict[str, float]:
    module = fluent(srv)
    params = {f"p{j}": str(j) for j in range(10)}
    metrics = {f"m{j}": j / 10 for j in range(5)}
    start = time.perf_counter()
    for _ in range(runs):
        module.start_run()
        module.log_params(params)
        module.log_metrics(metrics)
        module.end_run()
    seconds = time.perf_counter() - start
    return {"runs": runs, "seconds": seconds, "ms_per_run": seconds / runs * 1000}


def batches_and_history(srv: Server, points: int) -> dict[str, float]:
    """Log `points` in batches of 1,000 (server CPU measured), then read the history back."""
    if srv.tool == "mlflow":
        from mlflow import MlflowClient
        from mlflow.entities import Metric as MlflowMetric

        client: Any = MlflowClient(srv.url)
        run_id = client.create_run("0").info.run_id
        batch: list[Any] = [
            MlflowMetric("h", float(i), 1_700_000_000_000 + i, i) for i in range(points)
        ]

        def log(part: list[Any]) -> None:
            client.log_batch(run_id, metrics=part)

        def read() -> Any:
            return client.get_metric_history(run_id, "h")
    else:
        from mloop.entities import Metric
        from mloop.storage.rest import RestStore

        store = RestStore(srv.url)
        run_id = store.runs.create("0", run_name="history").run_id
        batch = [Metric("h", float(i), 1_700_000_000_000 + i, i) for i in range(points)]

        def log(part: list[Any]) -> None:
            store.runs.log_batch(run_id, metrics=part)

        def read() -> Any:
            return store.runs.get_metric_history(run_id, "h")

    cpu_before = srv.cpu_s()
    start = time.perf_counter()
    for offset in range(0, points, 1000):
        log(batch[offset : offset + 1000])
    log_s = time.perf_counter() - start
    cpu_s = srv.cpu_s() - cpu_before
    read()
    reads = sorted(timed(read) for _ in range(5))
    assert len(read()) == points
    return {
        "batch_log_s": log_s,
        "server_cpu_ms_per_point": cpu_s / points * 1000,
        "history_ms": reads[len(reads) // 2] * 1000,
    }


def run_tool(tool: str, backend: str, opts: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"bench-{tool}-"))
    try:
        with database(backend, folder) as (mloop_uri, mlflow_uri):
            uri = mloop_uri if tool == "mloop" else mlflow_uri
            with server(tool, uri, folder, opts.workers) as srv:
                result: dict[str, Any] = {
                    "cold_start_s": srv.started_s,
                    "first_api_answer_s": srv.first_api_s,
                    "processes": len(srv.processes()),
                }
                result.update(request_latency(srv))
                each = opts.points if tool == "mloop" else opts.mlflow_points
                result["log_each"] = log_each(srv, each)
                runs = opts.runs if tool == "mloop" else opts.mlflow_runs
                result["many_runs"] = many_runs(srv, runs)
                result.update(batches_and_history(srv, opts.history_points))
                return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def compile_package() -> None:
    """Write mloop's bytecode first, as installing a wheel does (pip compiles every module).

    mloop is installed editable, and with PYTHONDONTWRITEBYTECODE set (as on this machine) no
    process ever writes its `.pyc`: each server process would compile ~60 modules from source
    at start, a cost a normal installation (and MLflow, installed from wheels) never pays. The
    package compiled is the one the bench imports (`src/mloop`, or another tree on PYTHONPATH).
    """
    import mloop

    source = Path(mloop.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(source)], check=True)


def worker(tool: str, backend: str, opts: argparse.Namespace) -> None:
    print(json.dumps(run_tool(tool, backend, opts)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--tools", default="mloop,mlflow")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--mlflow-points", type=int, default=300)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--mlflow-runs", type=int, default=30)
    parser.add_argument("--history-points", type=int, default=10_000)
    parser.add_argument("--worker", nargs=2, metavar=("TOOL", "BACKEND"))
    parser.add_argument("--json")
    opts = parser.parse_args()
    if opts.worker:
        tool, backend = opts.worker
        worker(tool, backend, opts)
        return
    compile_package()
    from machine import speed_probe  # bench/machine.py, beside this script

    probe_before = speed_probe()
    print(f"machine speed probe before: {probe_before:.1f} ms (bench/machine.py)", flush=True)
    results: dict[str, dict[str, Any]] = {}
    for backend in opts.backends.split(","):
        for tool in opts.tools.split(","):
            # A fresh process per tool and backend: neither client's state leaks into the other.
            args = list(sys.argv[1:])
            out = subprocess.run(
                [sys.executable, __file__, *args, "--worker", tool, backend],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                print(f"{tool}/{backend} failed:\n{out.stderr[-3000:]}")
                continue
            results[f"{tool}/{backend}"] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{tool}/{backend}: {results[f'{tool}/{backend}']}", flush=True)
    probe_after = speed_probe()
    print(f"machine speed probe after: {probe_after:.1f} ms", flush=True)
    if opts.json:
        machine = {"speed_probe_ms": [probe_before, probe_after]}
        Path(opts.json).write_text(json.dumps({**results, "machine": machine}, indent=2))
    print_table(results, opts.backends.split(","))


def print_table(results: dict[str, dict[str, Any]], backends: list[str]) -> None:
    rows: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
        ("cold start (s)", lambda r: r["cold_start_s"], "<= 1 s"),
        ("spawn to first API answer (s)", lambda r: r.get("first_api_answer_s"), ""),
        ("server processes", lambda r: r["processes"], ""),
        ("request p50 on a reused connection (ms)", lambda r: r["p50_ms"], "<= 1 ms"),
        ("request p90 (ms)", lambda r: r["p90_ms"], ""),
        ("per-call log_metric, per point (ms)", lambda r: r["log_each"]["ms_per_point"], ""),
        (
            "per-call log_metric, 10,000 points end to end (s)",
            lambda r: r["log_each"]["ms_per_point"] * 10,
            "<= 0.5 s",
        ),
        ("W4 per run (ms)", lambda r: r["many_runs"]["ms_per_run"], ""),
        ("W4 1,000 runs (s)", lambda r: r["many_runs"]["ms_per_run"], "<= 2 s"),
        ("history of 10,000 points (ms)", lambda r: r["history_ms"], "<= 20 ms"),
        (
            "server CPU per point, batches of 1,000 (ms)",
            lambda r: r["server_cpu_ms_per_point"],
            "<= 0.2 ms",
        ),
    ]
    for backend in backends:
        print(f"\n### {backend}\n")
        print("| workload | MLflow 3.17.2 | mloop | MLflow / mloop | target |")
        print("|---|---|---|---|---|")
        mlflow = results.get(f"mlflow/{backend}")
        mine = results.get(f"mloop/{backend}")
        for name, get, target in rows:
            a = get(mlflow) if mlflow else None
            b = get(mine) if mine else None
            ratio = f"{a / b:.1f}x" if a and b else "-"
            print(f"| {name} | {_fmt(a)} | {_fmt(b)} | {ratio} | {target} |")


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"


if __name__ == "__main__":
    main()
