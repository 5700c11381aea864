"""Benchmark: `mloop serve` vs `mlflow models serve`, same models, same load generator.

Run with mloop's own Python (MLflow runs from its benchmark environment, as users start it):

    bench/setup-serving-env                 # wrk from Debian, the MLflow environment
    .venv/bin/python bench/serving.py [--duration 10] [--only lr_c1,lr_c32,...]

Models: LogisticRegression and a 100-tree RandomForest on 20 generated features, trained once
here; mloop serves its package (verified ONNX export), MLflow the same fitted estimators saved
with `mlflow.sklearn.save_model` and served with `--env-manager local` (no network). Both
servers run one worker pinned to core 0 (`taskset -c 0`); wrk runs pinned to core 1 with a Lua
script that POSTs the same MLflow `dataframe_split` body to `/invocations` on both. Each wrk
run follows a 2 s warm-up on the same server.

Workloads (issue 8's table): LR single row at concurrency 1 (p50), LR at c32 (req/s, p99), RF
single row at c32 (req/s), LR 100-row requests at c8 (rows/s), cold start (spawn to the first
200 answer), resident memory of the server's process tree after the c32 run, alias rollback
under load (mloop only: MLflow does not reload), and the cost of full prediction logging
(mloop's /metrics is always on: logging off vs every request logged). `batch` times the whole
`mloop predict` command against `mlflow models predict` on the same 500,000-row CSV (and mloop on
Parquet, with one and two workers).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "serving"
# This run's trained models and wrk scripts; removed when the run ends.
SCRATCH = OUT / f"scratch-{os.getpid()}"
MLOOP_BIN = ROOT / ".venv" / "bin" / "mloop"
MLFLOW_VENV = ROOT / "bench" / ".venv-mlflow"
SERVER_CORE, WRK_CORE = "0", "1"
FEATURES = [f"x{i}" for i in range(20)]
WORKLOADS = ("lr_c1", "lr_c32", "rf_c32", "lr_rows100", "cold", "rollback", "logging", "batch")
# The figures for MLflow 3.17.2 on this machine and its targets for mloop.
TARGETS = {
    "lr_c1": "p50 <= 1 ms (MLflow 5.9 ms)",
    "lr_c32": ">= 2,000 req/s, p99 <= 30 ms (MLflow 113 req/s, p99 477 ms)",
    "rf_c32": ">= 1,500 req/s (MLflow 42 req/s)",
    "lr_rows100": ">= 50,000 rows/s (MLflow 8,970)",
    "cold": "<= 1.5 s (MLflow 4.7-6.6 s)",
    "rollback": "live in <= 1 s, no failed request",
    "logging": "costs <= 5% throughput",
}

LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[{body}]==]
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {{\\"requests\\": %d, \\"duration_us\\": %d, \\"connect\\": %d, \\"read\\": %d, "
    .. "\\"write\\": %d, \\"status\\": %d, \\"timeout\\": %d, \\"p50_us\\": %d, "
    .. "\\"p90_us\\": %d, \\"p99_us\\": %d, \\"mean_us\\": %.1f}}\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
"""

MLFLOW_SAVE = """
import pickle, sys
import pandas as pd
import mlflow.sklearn
model = pickle.load(open(sys.argv[1], "rb"))
example = pd.read_parquet(sys.argv[2])
# MLflow 3 saves scikit-learn models with skops by default; a forest's tree type must be trusted.
trusted = ["sklearn.tree._tree.Tree"] if "Forest" in type(model).__name__ else None
mlflow.sklearn.save_model(model, sys.argv[3], input_example=example, skops_trusted_types=trusted)
"""


# -- models ---------------------------------------------------------------------------------


def train(folder: Path, *, mlflow: bool = True) -> dict[str, dict[str, Path]]:
    """Fit LR and RF(100) on 20 features; save an mloop package and an MLflow model of each.

    With `mlflow=False` (`--tools mloop`), the MLflow copies are skipped, so the benchmark
    environment of MLflow is not needed.
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    from mloop.models import save_model

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(5_000, 20)), columns=FEATURES)
    labels = (frame.to_numpy() @ rng.normal(size=20) + rng.normal(size=5_000) > 0).astype(int)
    fitted = {
        "lr": LogisticRegression(max_iter=1_000).fit(frame, labels),
        "rf": RandomForestClassifier(100, random_state=0).fit(frame, labels),
    }
    example = frame.head(100)
    example.to_parquet(folder / "example.parquet")
    paths: dict[str, dict[str, Path]] = {}
    for key, model in fitted.items():
        package = save_model(model, folder / f"{key}-mloop", input_example=example)
        verified = package.onnx is not None and package.onnx.verified
        print(f"{key}: mloop package with verified ONNX export: {verified}")
        paths[key] = {"mloop": folder / f"{key}-mloop", "mlflow": folder / f"{key}-mlflow"}
        if not mlflow:
            continue
        (folder / f"{key}.pkl").write_bytes(__import__("pickle").dumps(model))
        subprocess.run(
            [
                str(MLFLOW_VENV / "bin" / "python"),
                "-c",
                MLFLOW_SAVE,
                str(folder / f"{key}.pkl"),
                str(folder / "example.parquet"),
                str(folder / f"{key}-mlflow"),
            ],
            check=True,
        )
    return paths


def body(rows: int) -> str:
    values = np.random.default_rng(rows).normal(size=(rows, 20)).round(6).tolist()
    return json.dumps({"dataframe_split": {"columns": FEATURES, "data": values}})


# -- servers --------------------------------------------------------------------------------


@dataclass
class Server:
    tool: str
    url: str
    process: subprocess.Popen[bytes]
    cold_start_s: float

    def rss_mb(self) -> tuple[float, float]:
        """(whole process tree, largest process) resident memory in MB."""
        parent = psutil.Process(self.process.pid)
        sizes = []
        for proc in [parent, *parent.children(recursive=True)]:
            try:
                sizes.append(proc.memory_info().rss / 1e6)
            except psutil.NoSuchProcess:
                continue
        return sum(sizes), max(sizes)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(tool: str, model: str, port: int, extra: list[str]) -> list[str]:
    if tool == "mloop":
        command = [str(MLOOP_BIN), "serve", model, "--host", "127.0.0.1", "--port", str(port)]
        return [*command, "--workers", "1", *extra]
    return [
        str(MLFLOW_VENV / "bin" / "mlflow"),
        "models",
        "serve",
        "-m",
        model,
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-w",
        "1",
    ]


@contextmanager
def server(
    tool: str, model: str, *, env: dict[str, str] | None = None, extra: list[str] | None = None
) -> Iterator[Server]:
    """Start a server pinned to SERVER_CORE; ready at its first 200 answer to a real request."""
    port = free_port()
    home = Path(tempfile.mkdtemp(prefix=f"serve-{tool}-", dir=OUT))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLOOP_")}
    environment.update({"MLOOP_HOME": str(home / ".mloop"), **(env or {})})
    if tool == "mlflow":  # its CLI starts uvicorn from PATH
        environment["PATH"] = f"{MLFLOW_VENV / 'bin'}:{environment['PATH']}"
    command = ["taskset", "-c", SERVER_CORE, *server_command(tool, model, port, extra or [])]
    url = f"http://127.0.0.1:{port}"
    payload = body(1)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=home
    )
    try:
        cold = _wait_ready(process, f"{url}/invocations", payload, started)
        yield Server(tool, url, process, cold)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(home, ignore_errors=True)


def _wait_ready(process: subprocess.Popen[bytes], url: str, payload: str, started: float) -> float:
    headers = {"Content-Type": "application/json"}
    with httpx.Client(timeout=5) as client:
        while time.perf_counter() - started < 120:
            if process.poll() is not None:
                errors = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"server exited with {process.returncode}: {errors[-2000:]}")
            try:
                if client.post(url, content=payload, headers=headers).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.01)
    raise RuntimeError(f"{url} not ready after 120 s")


# -- load -----------------------------------------------------------------------------------


def wrk_command(url: str, payload: str, connections: int, seconds: float) -> list[str]:
    script = Path(tempfile.mkstemp(suffix=".lua", dir=SCRATCH)[1])
    script.write_text(LUA.format(body=payload), encoding="utf-8")
    return [
        "taskset",
        "-c",
        WRK_CORE,
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]


def parse_wrk(output: str) -> dict[str, float]:
    line = next(x for x in output.splitlines() if x.startswith("WRKJSON "))
    data: dict[str, float] = json.loads(line.removeprefix("WRKJSON "))
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    data["failed"] = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return data


def load(
    url: str, payload: str, connections: int, seconds: float, *, warm: bool = True
) -> dict[str, float]:
    """A warm-up (unless `warm` is False), then the measured wrk run."""
    if warm:
        warm_up(url, payload, connections)
    done = subprocess.run(
        wrk_command(url, payload, connections, seconds), check=True, capture_output=True, text=True
    )
    return parse_wrk(done.stdout)


def warm_up(url: str, payload: str, connections: int) -> None:
    """A 2 s wrk run whose figures are thrown away."""
    subprocess.run(wrk_command(url, payload, connections, 2), check=True, capture_output=True)


# -- workloads ------------------------------------------------------------------------------


def ratio(mloop: float, mlflow: float) -> str:
    return f"{mloop / mlflow:.1f}x" if mlflow else "n/a"


def run_throughput(
    paths: dict[str, dict[str, Path]], tools: list[str], args: Any
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    single, hundred = body(1), body(100)
    for tool in tools:
        figures: dict[str, Any] = {}
        with server(tool, str(paths["lr"][tool])) as srv:
            url = f"{srv.url}/invocations"
            if "lr_c1" in args.only:
                figures["lr_c1"] = load(url, single, 1, args.duration)
            if "lr_c32" in args.only:
                figures["lr_c32"] = load(url, single, 32, args.duration)
                figures["memory_mb"] = srv.rss_mb()
            if "lr_rows100" in args.only:
                figures["lr_rows100"] = load(url, hundred, 8, args.duration)
        if "rf_c32" in args.only:
            with server(tool, str(paths["rf"][tool])) as srv:
                figures["rf_c32"] = load(f"{srv.url}/invocations", single, 32, args.duration)
        results[tool] = figures
        print(f"{tool}: {json.dumps(figures, default=str)}", flush=True)
    return results


def run_cold(paths: dict[str, dict[str, Path]], tools: list[str], repeat: int) -> dict[str, Any]:
    results = {}
    for tool in tools:
        times = []
        for _ in range(repeat):
            with server(tool, str(paths["lr"][tool])) as srv:
                times.append(srv.cold_start_s)
        results[tool] = {"median_s": statistics.median(times), "all_s": times}
        print(f"cold start {tool}: {times}", flush=True)
    return results


def _cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _loaded_cpu(srv: Server, seconds: float) -> dict[str, float]:
    """A c32 wrk run, plus the CPU seconds per request of the server and of its children.

    CPU per request barely moves when other work on the machine takes the server's core away
    (it answers fewer requests, each costing the same), unlike requests per second, so it
    resolves a few-percent effect on a shared machine; the children are the prediction log's
    converter, which runs off the server's core.
    """
    url, payload = f"{srv.url}/invocations", body(1)
    # The warm-up runs before the CPU is read: its requests are not in the measured count.
    warm_up(url, payload, 32)
    server = psutil.Process(srv.process.pid)
    children = {c.pid: c for c in server.children(recursive=True)}
    before = _cpu_s(server), {pid: _cpu_s(c) for pid, c in children.items()}
    figures = load(url, payload, 32, seconds, warm=False)
    server_s = _cpu_s(server) - before[0]
    children_s = 0.0
    for pid, child in children.items():
        with suppress(psutil.NoSuchProcess):
            children_s += _cpu_s(child) - before[1][pid]
    requests = max(figures["requests"], 1)
    figures["server_cpu_us_per_request"] = server_s / requests * 1e6
    figures["children_cpu_us_per_request"] = children_s / requests * 1e6
    return figures


def run_logging(paths: dict[str, dict[str, Path]], seconds: float, rounds: int) -> dict[str, Any]:
    """LR at c32 with prediction logging off, then with every request logged, `rounds` times.

    The rounds alternate, so a change in the machine's load hits both sides; medians are kept.
    Besides requests per second, the server's CPU time per request is compared (see
    `_loaded_cpu`).
    """
    runs: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    for _ in range(rounds):
        for label, extra in (
            ("off", []),
            ("on", ["--log-predictions", "--log-sample-rate", "1.0"]),
        ):
            with server("mloop", str(paths["lr"]["mloop"]), extra=extra) as srv:
                runs[label].append(_loaded_cpu(srv, seconds))
    results: dict[str, Any] = {
        label: {
            "rps": statistics.median(r["rps"] for r in found),
            "p99_us": statistics.median(r["p99_us"] for r in found),
            "failed": sum(r["failed"] for r in found),
            "all_rps": [r["rps"] for r in found],
            "cpu_us": statistics.median(r["server_cpu_us_per_request"] for r in found),
            "all_cpu_us": [r["server_cpu_us_per_request"] for r in found],
            "children_cpu_us": statistics.median(r["children_cpu_us_per_request"] for r in found),
        }
        for label, found in runs.items()
    }
    results["cost"] = 1 - results["on"]["rps"] / results["off"]["rps"]
    results["cpu_cost"] = 1 - results["off"]["cpu_us"] / results["on"]["cpu_us"]
    # Each round's own pair (off, then on right after it), to see whether every round holds.
    results["round_costs"] = [
        1 - on["rps"] / off["rps"] for off, on in zip(runs["off"], runs["on"], strict=True)
    ]
    results["round_cpu_costs"] = [
        1 - off["server_cpu_us_per_request"] / on["server_cpu_us_per_request"]
        for off, on in zip(runs["off"], runs["on"], strict=True)
    ]
    print(f"logging: {json.dumps(results, default=str)}", flush=True)
    return results


def run_rollback(folder: Path, flips: int) -> dict[str, Any]:
    """Serve models:/bench@champion under wrk load; flip the alias between two versions."""
    from sklearn.linear_model import LogisticRegression

    import mloop
    import mloop.client

    store = folder / "rollback"
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir(parents=True)
    env = {
        "MLOOP_TRACKING_URI": f"sqlite:///{store / 'mloop.db'}",
        "MLOOP_ARTIFACT_URI": str(store / "artifacts"),
    }
    mloop.set_tracking_uri(env["MLOOP_TRACKING_URI"], artifact_uri=env["MLOOP_ARTIFACT_URI"])
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(1_000, 20)), columns=FEATURES)
    for sign in (1, -1):  # version 2 predicts the opposite class
        model = LogisticRegression().fit(frame, (sign * frame.x0 > 0).astype(int))
        with mloop.start_run():
            mloop.log_model(
                model, "model", input_example=frame.head(20), registered_model_name="bench"
            )
    mloop.client.set_model_alias("bench", "champion", 1)
    probe = {
        "inputs": [{"name": n, "shape": [1], "datatype": "FP64", "data": [0.5]} for n in FEATURES]
    }
    seconds = flips * 1.5 + 6
    switches = []
    with server("mloop", "models:/bench@champion", env=env) as srv:
        command = wrk_command(f"{srv.url}/invocations", body(1), 8, seconds)
        generator = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        time.sleep(2)
        with httpx.Client(base_url=srv.url, timeout=5) as client:
            for flip in range(flips):
                version = 2 if flip % 2 == 0 else 1
                mloop.client.set_model_alias("bench", "champion", version)
                moved = time.perf_counter()
                while True:
                    answer = client.post("/v2/models/bench/infer", json=probe).json()
                    if answer.get("model_version") == str(version):
                        break
                    if time.perf_counter() - moved > 10:
                        raise RuntimeError(f"version {version} not live after 10 s")
                    time.sleep(0.005)
                switches.append(time.perf_counter() - moved)
                time.sleep(max(0.0, 1.5 - switches[-1]))
        out, _ = generator.communicate(timeout=seconds + 30)
    figures = parse_wrk(out)
    result = {
        "flips": flips,
        "switch_median_s": statistics.median(switches),
        "switch_max_s": max(switches),
        "requests": figures["requests"],
        "failed": figures["failed"],
        "rps": figures["rps"],
    }
    print(f"rollback: {json.dumps(result)}", flush=True)
    return result


def run_batch(paths: dict[str, dict[str, Path]], folder: Path, rows: int) -> dict[str, Any]:
    """`mloop predict` vs `mlflow models predict` on the same CSV (whole commands, start included).

    mloop also reads the same rows from Parquet, and runs the forest on one and on two workers.
    """
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.normal(size=(rows, 20)), columns=FEATURES)
    frame.to_parquet(folder / "batch.parquet")
    frame.to_csv(folder / "batch.csv", index=False)
    mlflow_env = {**os.environ, "PATH": f"{MLFLOW_VENV / 'bin'}:{os.environ['PATH']}"}
    mloop_env = {k: v for k, v in os.environ.items() if not k.startswith("MLOOP_")}
    mloop_env["MLOOP_HOME"] = str(folder / ".mloop")

    def timed(command: list[str], env: dict[str, str]) -> float:
        started = time.perf_counter()
        subprocess.run(command, check=True, env=env, capture_output=True)
        return time.perf_counter() - started

    results: dict[str, Any] = {"rows": rows}
    for key in ("lr", "rf"):
        mloop = [str(MLOOP_BIN), "predict", str(paths[key]["mloop"])]
        runs = {
            "mloop_csv": timed(
                [*mloop, str(folder / "batch.csv"), str(folder / "o.csv"), "--overwrite"], mloop_env
            ),
            "mloop_parquet": timed(
                [*mloop, str(folder / "batch.parquet"), str(folder / "o.parquet"), "--overwrite"],
                mloop_env,
            ),
            "mloop_parquet_w1": timed(
                [
                    *mloop,
                    str(folder / "batch.parquet"),
                    str(folder / "o.parquet"),
                    "--overwrite",
                    "-w",
                    "1",
                ],
                mloop_env,
            ),
            "mloop_parquet_w2": timed(
                [
                    *mloop,
                    str(folder / "batch.parquet"),
                    str(folder / "o.parquet"),
                    "--overwrite",
                    "-w",
                    "2",
                ],
                mloop_env,
            ),
            "mlflow_csv": timed(
                [
                    str(MLFLOW_VENV / "bin" / "mlflow"),
                    "models",
                    "predict",
                    "-m",
                    str(paths[key]["mlflow"]),
                    "-i",
                    str(folder / "batch.csv"),
                    "-t",
                    "csv",
                    "-o",
                    str(folder / "o.json"),
                    "--env-manager",
                    "local",
                ],
                mlflow_env,
            ),
        }
        results[key] = runs
        print(f"batch {key}: {json.dumps(runs)}", flush=True)
    return results


# -- report ---------------------------------------------------------------------------------


def report(results: dict[str, Any]) -> None:
    t = results.get("throughput", {})
    ml, mf = t.get("mloop", {}), t.get("mlflow", {})

    def row(label: str, key: str, field: str, scale: float = 1.0, fmt: str = "{:,.0f}") -> None:
        a = ml.get(key, {}).get(field)
        b = mf.get(key, {}).get(field)
        if a is None and b is None:
            return
        a_text = fmt.format(a * scale) if a is not None else "-"
        b_text = fmt.format(b * scale) if b is not None else "-"
        better = None
        if a and b:
            better = b / a if field.endswith("_us") else a / b
        ratio_text = f"{better:.1f}x" if better else "-"
        print(f"| {label} | {a_text} | {b_text} | {ratio_text} | {TARGETS.get(key, '')} |")

    print("\n| workload | mloop | MLflow 3.17.2 | mloop better by | target |")
    print("|---|---:|---:|---:|---|")
    row("LR 1 row, c1: p50 ms", "lr_c1", "p50_us", 1e-3, "{:.2f}")
    row("LR 1 row, c1: req/s", "lr_c1", "rps")
    row("LR 1 row, c32: req/s", "lr_c32", "rps")
    row("LR 1 row, c32: p99 ms", "lr_c32", "p99_us", 1e-3, "{:.1f}")
    row("RF(100) 1 row, c32: req/s", "rf_c32", "rps")
    row("LR 100 rows, c8: rows/s", "lr_rows100", "rps", 100)
    row("LR 100 rows, c8: p99 ms", "lr_rows100", "p99_us", 1e-3, "{:.1f}")
    if "memory_mb" in ml or "memory_mb" in mf:
        a = ml.get("memory_mb", (0, 0))
        b = mf.get("memory_mb", (0, 0))
        print(
            f"| resident MB, process tree (largest) | {a[0]:.0f} ({a[1]:.0f}) | "
            f"{b[0]:.0f} ({b[1]:.0f}) | {b[0] / a[0]:.1f}x | ~530 MB for MLflow |"
        )
    cold = results.get("cold", {})
    if cold:
        a = cold.get("mloop", {}).get("median_s")
        b = cold.get("mlflow", {}).get("median_s")
        print(
            f"| cold start s (median) | {a or 0:.2f} | {b or 0:.2f} | "
            f"{(b / a) if a and b else 0:.1f}x | {TARGETS['cold']} |"
        )
    failed = sum(
        v.get("failed", 0) for tool in (ml, mf) for v in tool.values() if isinstance(v, dict)
    )
    print(f"\nfailed requests over the throughput runs: {failed:.0f}")
    if "rollback" in results:
        r = results["rollback"]
        print(
            f"rollback: {r['flips']} flips under wrk c8 load, new version live after "
            f"median {r['switch_median_s'] * 1000:.0f} ms, max {r['switch_max_s'] * 1000:.0f} ms; "
            f"{r['requests']:.0f} requests, {r['failed']:.0f} failed ({TARGETS['rollback']})"
        )
    if "batch" in results:
        b = results["batch"]
        print(f"\nbatch, {b['rows']:,} rows x 20 features (seconds, whole command):")
        print(
            "| model | mloop CSV | mloop Parquet (auto) | Parquet 1 worker | 2 workers | "
            "MLflow CSV | MLflow / mloop (CSV) |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for key in ("lr", "rf"):
            r = b[key]
            print(
                f"| {key} | {r['mloop_csv']:.2f} | {r['mloop_parquet']:.2f} | "
                f"{r['mloop_parquet_w1']:.2f} | {r['mloop_parquet_w2']:.2f} | "
                f"{r['mlflow_csv']:.2f} | {r['mlflow_csv'] / r['mloop_csv']:.1f}x |"
            )
    if "logging" in results:
        g = results["logging"]
        print(
            f"prediction logging (every request) at c32: {g['off']['rps']:,.0f} -> "
            f"{g['on']['rps']:,.0f} req/s, cost {g['cost'] * 100:.1f}% ({TARGETS['logging']}); "
            f"server CPU per request {g['off']['cpu_us']:.1f} -> {g['on']['cpu_us']:.1f} us "
            f"(cost {g['cpu_cost'] * 100:.1f}%), converter {g['on']['children_cpu_us']:.1f} us; "
            "per round: throughput "
            + ", ".join(f"{c * 100:.1f}%" for c in g["round_costs"])
            + "; CPU "
            + ", ".join(f"{c * 100:.1f}%" for c in g["round_cpu_costs"])
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated workloads")
    parser.add_argument("--tools", default="mloop,mlflow")
    parser.add_argument("--cold-repeat", type=int, default=3)
    parser.add_argument("--flips", type=int, default=10)
    parser.add_argument("--logging-rounds", type=int, default=2)
    parser.add_argument("--batch-rows", type=int, default=500_000)
    parser.add_argument("--json", type=Path, help="write the raw results here")
    args = parser.parse_args()
    args.only = set(args.only.split(","))
    tools = args.tools.split(",")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: run bench/setup-serving-env")
    if "mlflow" in tools and not (MLFLOW_VENV / "bin" / "mlflow").exists():
        sys.exit("the MLflow environment is missing: run bench/setup-serving-env")
    SCRATCH.mkdir(parents=True, exist_ok=True)
    try:
        run(args, tools)
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)


def run(args: argparse.Namespace, tools: list[str]) -> None:
    from machine import speed_probe  # bench/machine.py, beside this script

    print(f"load average before: {os.getloadavg()}", flush=True)
    probe_before = speed_probe()
    print(f"machine speed probe before: {probe_before:.1f} ms (bench/machine.py)", flush=True)
    paths = train(Path(tempfile.mkdtemp(prefix="models-", dir=SCRATCH)), mlflow="mlflow" in tools)
    results: dict[str, Any] = {"duration_s": args.duration}
    if args.only & {"lr_c1", "lr_c32", "rf_c32", "lr_rows100"}:
        results["throughput"] = run_throughput(paths, tools, args)
    if "cold" in args.only:
        results["cold"] = run_cold(paths, tools, args.cold_repeat)
    if "logging" in args.only:
        results["logging"] = run_logging(paths, args.duration, args.logging_rounds)
    if "rollback" in args.only:
        results["rollback"] = run_rollback(OUT, args.flips)
    if "batch" in args.only:
        results["batch"] = run_batch(paths, OUT, args.batch_rows)
    results["load_average_after"] = os.getloadavg()
    results["speed_probe_ms"] = [probe_before, speed_probe()]
    print(f"load average after: {results['load_average_after']}")
    print(f"machine speed probe after: {results['speed_probe_ms'][1]:.1f} ms")
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
