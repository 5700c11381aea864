"""Benchmark: experiment tracking on SQLite, mloop vs MLflow side by side.

Run (after `bench/setup-mlflow-env`, which makes a venv holding MLflow and mloop):
    bench/.venv-mlflow/bin/python bench/tracking.py [--repeat 3] [--runs-1m 1000000]

Each workload runs in a fresh process (`tracking.py --worker TOOL WORKLOAD DIR`) on a fresh
SQLite store in a temporary folder, `--repeat` times; the table shows medians and the ratio
MLflow / mloop (above 1: mloop is faster or smaller). Workloads, as issue 3 lists them:

- W1  `import` of the package.
- W0  create a fresh store in a fresh process (import + create; create alone is shown too).
- W2  one run, 100 params and 10,000 metric points logged one call at a time, end to end
      including the run's end (and so the flush); the caller's wait per `log_metric` call.
- W3  10,000 points in batches of 1,000 with the clients' `log_batch`.
- W4  1,000 runs with 10 params and 5 metrics each, through the fluent API.
- W5  search those runs: `metrics.m0 > 0.5 and params.p0 = 'a'` by `metrics.m1 DESC`, 100
      results (first call in the process, then the median of warm calls).
- W5b the same search over 1,000,000 runs (mloop only); the store is built by bulk inserts
      into mloop's tables and cached under bench/out/.
- W6  read back a 10,000-point metric history (entities, and columns where mloop has them).
- disk: bytes per stored metric point, from the growth of the .db (+ -wal) after a checkpoint
      and after VACUUM, for `--disk-points` points.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
BENCH_PYTHON = HERE / ".venv-mlflow" / "bin" / "python"
RESULT_MARK = "BENCH-RESULT "
TOOLS = ("mlflow", "mloop")
SLOW = ("W2", "W4")

FILTER = "metrics.m0 > 0.5 and params.p0 = 'a'"
ORDER_BY = ["metrics.m1 DESC"]
SEARCH_RESULTS = 100
WARM_CALLS = 20
BASE_TIME_MS = 1_700_000_000_000
P0_VALUES = ("a", "b", "c", "d")


# Workers: each runs in its own fresh process and prints one JSON result line. ----------------


def _uri(folder: Path, tool: str) -> str:
    return f"sqlite:///{folder / (tool + '.db')}"


def _import(tool: str) -> Any:
    if tool == "mlflow":
        import mlflow

        return mlflow
    import mloop

    return mloop


def _fluent(tool: str, folder: Path) -> Any:
    """The tool's fluent module pointed at a store in `folder`, opened and ready."""
    module = _import(tool)
    if tool == "mlflow":
        module.set_tracking_uri(_uri(folder, tool))
        module.MlflowClient().get_experiment("0")
    else:
        module.set_tracking_uri(_uri(folder, tool), artifact_uri=str(folder / "artifacts"))
        module.MloopClient().get_experiment("0")
    return module


def _client(tool: str, folder: Path) -> Any:
    if tool == "mlflow":
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=_uri(folder, tool))
    from mloop import MloopClient

    return MloopClient(_uri(folder, tool), artifact_uri=str(folder / "artifacts"))


def _metric_type(tool: str) -> Any:
    if tool == "mlflow":
        from mlflow.entities import Metric

        return Metric
    from mloop.entities import Metric

    return Metric


def _points(tool: str, count: int, key: str = "loss") -> list[Any]:
    metric = _metric_type(tool)
    rng = random.Random(6)
    return [metric(key, rng.random(), BASE_TIME_MS + i, i) for i in range(count)]


def _log_batches(tool: str, client: Any, run_id: str, points: list[Any], size: int) -> None:
    for start in range(0, len(points), size):
        client.log_batch(run_id, metrics=points[start : start + size])


def _create_run(tool: str, client: Any) -> str:
    run = client.create_run("0")
    return str(run.info.run_id if tool == "mlflow" else run.run_id)


def w_import(tool: str, folder: Path, opts: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    _import(tool)
    seconds = time.perf_counter() - start
    heavy = [m for m in ("numpy", "pandas", "sqlalchemy", "pyarrow") if m in sys.modules]
    return {"seconds": seconds, "modules": len(sys.modules), "heavy": heavy}


def w_create(tool: str, folder: Path, opts: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    _import(tool)
    imported = time.perf_counter()
    _client(tool, folder).get_experiment("0")
    end = time.perf_counter()
    return {"seconds": end - start, "create_s": end - imported}


def w_log_each(tool: str, folder: Path, opts: dict[str, Any]) -> dict[str, Any]:
    module = _fluent(tool, folder)
    count = opts["points"]
    values = [random.Random(2).random() for _ in range(count)]
    waits = [0] * count
    clock = time.perf_counter_ns
    log_metric = module.log_metric
    start = time.perf_counter()
    module.start_run()
    for i in range(100):
        module.log_param(f"p{i}", f"value-{i}")
    for i in range(count):
        before = clock()
        log_metric("loss", values[i], step=i)
        waits[i] = clock() - before
    logged = time.perf_counter()
    module.end_run()
    end = time.perf_counter()
    waits.sort()
    return {
        "seconds": end - start,
        "logging_s": logged - start,
        "end_run_s": end - logged,
        "p50_us": waits[count // 2] / 1000,
        "p99_us": waits[int(count * 0.99)] / 1000,
        "max_us": waits[-1] / 1000,
    }


def w_log_batch(tool: str, folder: Path, opts: dict[str, Any]) -> dict[str, Any]:
    client = _client(tool, folder)
    run_id = _create_run(tool, client)
    points = _points(tool, opts["points"])
    start = time.perf_counter()
    _log_batches(tool, client, run_id, points, 1000)
    seconds = time.perf_counter() - start
    client.set_terminated(run_id)
    return {"seconds": seconds, "us_per_point": seconds / len(points) * 1e6}


def w_many_runs(tool: str, folder: Path, opts: dict[str, Any]) -> dict[str, Any]:
    module = _fluent(tool, folder)
    rng = random.Random(4)
    runs = [
        (
            {
                "p0": rng.choice(P0_VALUES),
                **{f"p{j}": str(rng.randrange(100)) for j in range(1, 10)},
            },
            {f"m{j}": rng.random() for j in range(5)},
        )
        for _ in range(opts["runs"])
    ]
    start = time.perf_counter()
    for params, metrics in runs:
        module.start_run()
        module.log_params(params)
        module.log_metrics(metrics)
        module.end_run()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "ms_per_run": seconds / len(runs) * 1000}


def _search(tool: str, client: Any) -> list[float]:
    """One search; returns the m1 values of the results, to compare the tools' answers."""
    if tool == "mlflow":
        found = client.search_runs(
            ["0"], filter_string=FILTER, order_by=ORDER_BY, max_results=SEARCH_RESULTS
        )
        return [r.data.metrics["m1"] for r in found]
    found = client.store.runs.search(
        ["0"], filter_string=FILTER, order_by=ORDER_BY, max_results=SEARCH_RESULTS
    )
    return [r.metrics["m1"] for r in found]


def _timed_calls(call: Callable[[], Any], warm_calls: int = WARM_CALLS) -> tuple[Any, float, float]:
    """(first result, first call's seconds, median seconds of the warm calls)."""
    start = time.perf_counter()
    first = call()
    cold = time.perf_counter() - start
    warm = []
    for _ in range(warm_calls):
        start = time.perf_counter()
        call()
        warm.append(time.perf_counter() - start)
    return first, cold, statistics.median(warm)


def w_search(tool: str, folder: Path, opts: dict[str, Any]) -> dict[str, Any]:
    client = _client(tool, folder)
    found, cold, warm = _timed_calls(lambda: _search(tool, client))
    return {"seconds": warm, "cold_s": cold, "results": len(found), "m1": found}


def w_history_setup(tool: str, folder: Path, opts: dict[str, Any]) -> dict[str, Any]:
    client = _client(tool, folder)
    run_id = _create_run(tool, client)
    _log_batches(tool, client, run_id, _points(tool, opts["points"]), 1000)
    client.set_terminated(run_id)
    (folder / "run_id").write_text(run_id)
    return {"seconds": 0.0}


def w_history(tool: str, folder: Path, opts: dict[str, Any]) -> dict[str, Any]:
    client = _client(tool, folder)
    run_id = (folder / "run_id").read_text()
    if tool == "mlflow":
        found, cold, warm = _timed_calls(lambda: client.get_metric_history(run_id, "loss"))
        return {"seconds": warm, "cold_s": cold, "points": len(found)}
    runs = client.store.runs
    found, cold, warm = _timed_calls(lambda: runs.get_metric_history(run_id, "loss"))
    result: dict[str, Any] = {"seconds": warm, "cold_s": cold, "points": len(found)}
    if hasattr(runs, "get_metric_history_columns"):
        columns, cold_c, warm_c = _timed_calls(
            lambda: runs.get_metric_history_columns(run_id, "loss")
        )
        result.update(columns_s=warm_c, columns_cold_s=cold_c, columns_type=type(columns).__name__)
    return result


def w_disk(tool: str, folder: Path, opts: dict[str, Any]) -> dict[str, Any]:
    """Two stores, each with one run: `base` without points, `points` with them."""
    for name, count in (("base", 0), ("points", opts["disk_points"])):
        sub = folder / name
        sub.mkdir()
        client = _client(tool, sub)
        run_id = _create_run(tool, client)
        _log_batches(tool, client, run_id, _points(tool, count), 1000)
        client.set_terminated(run_id)
    return {"seconds": 0.0}


def w_search_1m(tool: str, folder: Path, opts: dict[str, Any]) -> dict[str, Any]:
    from mloop import MloopClient

    store_file = Path(opts["store_1m"])
    client = MloopClient(f"sqlite:///{store_file}", artifact_uri=str(folder / "artifacts"))
    # Few warm calls: each one may take seconds at this size.
    found, cold, warm = _timed_calls(lambda: _search(tool, client), warm_calls=3)
    return {"seconds": warm, "cold_s": cold, "results": len(found)}


WORKERS: dict[str, Callable[[str, Path, dict[str, Any]], dict[str, Any]]] = {
    "W1": w_import,
    "W0": w_create,
    "W2": w_log_each,
    "W3": w_log_batch,
    "W4": w_many_runs,
    "W5": w_search,
    "W5b": w_search_1m,
    "W6-setup": w_history_setup,
    "W6": w_history,
    "disk": w_disk,
}


def worker_main(tool: str, workload: str, folder: Path, opts: dict[str, Any]) -> None:
    os.chdir(folder)  # MLflow puts ./mlruns in the working directory
    result = WORKERS[workload](tool, folder, opts)
    print(RESULT_MARK + json.dumps(result), flush=True)


# The 1M-run store for W5b: bulk inserts straight into mloop's tables. -----------------------


def _rows(count: int, chunk: int) -> Iterator[tuple[list[tuple[Any, ...]], ...]]:
    """Rows of runs, params and latest metrics in chunks, shaped like W4's runs."""
    rng = random.Random(5)
    for first in range(1, count + 1, chunk):
        runs, params, latest = [], [], []
        for pk in range(first, min(first + chunk, count + 1)):
            stamp = BASE_TIME_MS + pk
            runs.append((pk, f"{pk:032x}", f"run-{pk}", stamp, stamp + 1000))
            params.append((pk, "p0", rng.choice(P0_VALUES)))
            params.extend((pk, f"p{j}", str(rng.randrange(100))) for j in range(1, 10))
            latest.extend((pk, j + 1, stamp, rng.random()) for j in range(5))
        yield runs, params, latest


def build_store_1m(path: Path, count: int) -> None:
    """Create an mloop store at `path` holding `count` finished runs in experiment 0.

    Only what the search reads is written: runs, params and the latest value of each metric
    (the metric histories, whose encoding is the store's own business, are left empty).
    """
    from mloop.storage import open_store

    tmp = path.with_suffix(".building")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    open_store(f"sqlite:///{tmp}", artifact_root=str(path.parent / "artifacts")).close()
    db = sqlite3.connect(tmp, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    tables = ("runs", "params", "latest_metrics", "metric_keys")
    marks = ",".join("?" * len(tables))
    indexes = db.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({marks})",
        tables,
    ).fetchall()
    db.execute("BEGIN")
    for name, _ in indexes:  # rebuilt after the load: far faster than updating them per row
        db.execute(f'DROP INDEX "{name}"')
    db.executemany(
        "INSERT INTO metric_keys (id, key) VALUES (?, ?)", [(j + 1, f"m{j}") for j in range(5)]
    )
    for runs, params, latest in _rows(count, 50_000):
        db.executemany(
            "INSERT INTO runs (id, run_uuid, experiment_id, name, status, start_time, end_time,"
            " lifecycle_stage, artifact_uri, user_id) VALUES (?, ?, 0, ?, 'FINISHED', ?, ?,"
            " 'active', 'bench/artifacts', 'bench')",
            runs,
        )
        db.executemany("INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)", params)
        db.executemany(
            "INSERT INTO latest_metrics (run_id, key_id, step, timestamp, value, is_nan)"
            " VALUES (?, ?, 0, ?, ?, 0)",
            latest,
        )
    for _, sql in indexes:
        db.execute(sql)
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    tmp.rename(path)


def schema_digest() -> str:
    """A digest of the DDL of a fresh mloop store: the 1M-run cache is valid for this schema."""
    import hashlib

    from mloop.storage import open_store

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "schema.db"
        open_store(f"sqlite:///{db}", artifact_root=folder).close()
        con = sqlite3.connect(db)
        ddl = sorted(
            r[0] for r in con.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")
        )
        con.close()
    return hashlib.sha256("\n".join(ddl).encode()).hexdigest()[:10]


def store_1m(count: int, python: Path) -> Path:
    """The cached 1M-run store file, built (in the bench venv) when missing."""
    digest = subprocess.run(
        [str(python), __file__, "--schema-digest"], check=True, capture_output=True, text=True
    ).stdout.strip()
    path = OUT / f"tracking-runs-{count}-{digest}.db"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        print(f"building {path.name} ({count:,} runs; cached for later runs) ...", flush=True)
        start = time.perf_counter()
        subprocess.run(
            [str(python), __file__, "--build-1m", str(path), "--runs-1m", str(count)], check=True
        )
        print(f"  built in {time.perf_counter() - start:.0f} s", flush=True)
    return path


# The orchestrator. --------------------------------------------------------------------------


@dataclass
class Settings:
    python: Path
    repeat: int
    mlflow_repeat: int
    opts: dict[str, Any]
    keep: bool


def run_worker(cfg: Settings, tool: str, workload: str, folder: Path) -> dict[str, Any]:
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    env.pop("MLOOP_HOME", None)
    env.pop("MLOOP_TRACKING_URI", None)
    env.pop("MLOOP_ARTIFACT_URI", None)
    command = [str(cfg.python), __file__, "--worker", tool, workload, str(folder)]
    proc = subprocess.run(
        [*command, "--opts", json.dumps(cfg.opts)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return dict(json.loads(line[len(RESULT_MARK) :]))
    sys.exit(f"worker {tool} {workload} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")


def repeats(cfg: Settings, tool: str, workload: str = "") -> int:
    """MLflow's slow workloads (W2, W4) may repeat fewer times (`--mlflow-repeat`)."""
    return cfg.mlflow_repeat if tool == "mlflow" and workload in SLOW else cfg.repeat


def fresh_dir(tool: str, workload: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"bench-tracking-{tool}-{workload}-"))


def drop(cfg: Settings, folder: Path) -> None:
    if not cfg.keep:
        shutil.rmtree(folder, ignore_errors=True)


def simple(cfg: Settings, tools: list[str], workload: str) -> dict[str, list[dict[str, Any]]]:
    """Each repeat in its own process on its own fresh folder; tools alternate."""
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in tools}
    for i in range(max(repeats(cfg, t, workload) for t in tools)):
        for tool in tools:
            if i < repeats(cfg, tool, workload):
                folder = fresh_dir(tool, workload)
                out[tool].append(run_worker(cfg, tool, workload, folder))
                drop(cfg, folder)
    return out


def runs_and_search(cfg: Settings, tools: list[str]) -> dict[str, dict[str, list[Any]]]:
    """W4, then W5 in another fresh process on the store W4 left."""
    out: dict[str, dict[str, list[Any]]] = {"W4": {t: [] for t in tools}, "W5": {}}
    out["W5"] = {t: [] for t in tools}
    for i in range(max(repeats(cfg, t, "W4") for t in tools)):
        for tool in tools:
            if i < repeats(cfg, tool, "W4"):
                folder = fresh_dir(tool, "W4")
                out["W4"][tool].append(run_worker(cfg, tool, "W4", folder))
                out["W5"][tool].append(run_worker(cfg, tool, "W5", folder))
                drop(cfg, folder)
    return out


def history(cfg: Settings, tools: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in tools}
    for i in range(max(repeats(cfg, t) for t in tools)):
        for tool in tools:
            if i < repeats(cfg, tool):
                folder = fresh_dir(tool, "W6")
                run_worker(cfg, tool, "W6-setup", folder)
                out[tool].append(run_worker(cfg, tool, "W6", folder))
                drop(cfg, folder)
    return out


def settled_size(db: Path) -> tuple[int, int]:
    """(bytes of .db + -wal after a checkpoint, bytes after VACUUM)."""

    def size() -> int:
        wal = Path(f"{db}-wal")
        return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpointed = size()
    con.execute("VACUUM")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return checkpointed, size()


def disk(cfg: Settings, tools: list[str]) -> dict[str, list[dict[str, Any]]]:
    points = cfg.opts["disk_points"]
    out: dict[str, list[dict[str, Any]]] = {}
    for tool in tools:
        folder = fresh_dir(tool, "disk")
        run_worker(cfg, tool, "disk", folder)
        base = settled_size(folder / "base" / f"{tool}.db")
        full = settled_size(folder / "points" / f"{tool}.db")
        out[tool] = [
            {
                "seconds": (full[1] - base[1]) / points,
                "checkpointed": (full[0] - base[0]) / points,
            }
        ]
        drop(cfg, folder)
    return out


def median(samples: list[dict[str, Any]], key: str = "seconds") -> float | None:
    values = [s[key] for s in samples if s.get(key) is not None]
    return statistics.median(values) if values else None


def seconds_text(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} µs"


@dataclass
class Row:
    label: str
    mlflow: float | None
    mloop: float | None
    target: str
    met: bool | None
    fmt: Callable[[float | None], str] = seconds_text

    def cells(self) -> list[str]:
        ratio = "-"
        if self.mlflow is not None and self.mloop:
            ratio = f"{self.mlflow / self.mloop:,.1f}x"
        verdict = {True: "met", False: "MISSED", None: "-"}[self.met]
        return [
            self.label,
            self.fmt(self.mlflow),
            self.fmt(self.mloop),
            ratio,
            self.target,
            verdict,
        ]


def _check(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def build_rows(res: dict[str, dict[str, list[dict[str, Any]]]], opts: dict[str, Any]) -> list[Row]:
    def m(workload: str, tool: str, key: str = "seconds") -> float | None:
        return median(res.get(workload, {}).get(tool, []), key)

    def micro(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} µs"

    def per_point(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} B"

    rows = [
        Row("W1 import", m("W1", "mlflow"), m("W1", "mloop"), "<= 0.15 s", None),
        Row("W0 import + create store", m("W0", "mlflow"), m("W0", "mloop"), "<= 0.3 s", None),
        Row(
            "W0 create store (after import)",
            m("W0", "mlflow", "create_s"),
            m("W0", "mloop", "create_s"),
            "",
            None,
        ),
        Row(
            f"W2 {opts['points']:,} x log_metric, end to end",
            m("W2", "mlflow"),
            m("W2", "mloop"),
            "<= 0.15 s",
            None,
        ),
        Row(
            "W2 caller wait per log_metric p50",
            m("W2", "mlflow", "p50_us"),
            m("W2", "mloop", "p50_us"),
            "",
            None,
            micro,
        ),
        Row(
            "W2 caller wait per log_metric p99",
            m("W2", "mlflow", "p99_us"),
            m("W2", "mloop", "p99_us"),
            "<= 10 µs",
            None,
            micro,
        ),
        Row(
            f"W3 {opts['points']:,} points, log_batch of 1,000",
            m("W3", "mlflow"),
            m("W3", "mloop"),
            ">= 50x faster",
            None,
        ),
        Row(
            f"W4 {opts['runs']:,} runs x (10 params, 5 metrics)",
            m("W4", "mlflow"),
            m("W4", "mloop"),
            "<= 1 s",
            None,
        ),
        Row(
            f"W5 search {opts['runs']:,} runs (warm)",
            m("W5", "mlflow"),
            m("W5", "mloop"),
            "<= 5 ms",
            None,
        ),
        Row(
            "W5 search, first call in process",
            m("W5", "mlflow", "cold_s"),
            m("W5", "mloop", "cold_s"),
            "",
            None,
        ),
        Row(
            f"W5b search {opts['runs_1m']:,} runs (warm)",
            None,
            m("W5b", "mloop"),
            "<= 100 ms",
            None,
        ),
        Row("W5b search, first call in process", None, m("W5b", "mloop", "cold_s"), "", None),
        Row(
            f"W6 history of {opts['points']:,} points, entities",
            m("W6", "mlflow"),
            m("W6", "mloop"),
            "",
            None,
        ),
        Row(
            "W6 history as columns",
            m("W6", "mlflow"),
            m("W6", "mloop", "columns_s"),
            "<= 10 ms",
            None,
        ),
        Row(
            "disk per metric point (after VACUUM)",
            m("disk", "mlflow"),
            m("disk", "mloop"),
            "<= 32 B",
            None,
            per_point,
        ),
        Row(
            "disk per metric point (checkpoint only)",
            m("disk", "mlflow", "checkpointed"),
            m("disk", "mloop", "checkpointed"),
            "",
            None,
            per_point,
        ),
    ]
    limits = {0: 0.15, 1: 0.3, 3: 0.15, 5: 10, 7: 1.0, 8: 0.005, 10: 0.1, 13: 0.01, 14: 32}
    for index, limit in limits.items():
        rows[index].met = _check(rows[index].mloop, limit)
    w3 = rows[6]
    if w3.mlflow is not None and w3.mloop:
        w3.met = w3.mlflow / w3.mloop >= 50
    return rows


def markdown(rows: list[Row]) -> str:
    head = ["workload", "MLflow", "mloop", "MLflow/mloop", "target (mloop)", "verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    return "\n".join(lines)


def machine_note() -> str:
    return (
        f"{os.cpu_count()} CPUs ({platform.machine()}), {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, load average "
        f"{os.getloadavg()[0]:.1f}"
    )


def versions(python: Path) -> str:
    code = (
        "import mlflow, mloop, sqlalchemy, sqlite3; print(f'MLflow {mlflow.__version__}, "
        "mloop {mloop.__version__}, SQLAlchemy {sqlalchemy.__version__}, "
        "SQLite {sqlite3.sqlite_version}')"
    )
    return subprocess.run(
        [str(python), "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="repeats per workload (medians)")
    parser.add_argument(
        "--mlflow-repeat", type=int, help="repeats of MLflow's slow W2 and W4 (default --repeat)"
    )
    parser.add_argument("--points", type=int, default=10_000, help="metric points in W2/W3/W6")
    parser.add_argument("--runs", type=int, default=1_000, help="runs in W4/W5")
    parser.add_argument("--runs-1m", type=int, default=1_000_000, help="runs in W5b's store")
    parser.add_argument("--disk-points", type=int, default=100_000, help="points for disk size")
    parser.add_argument("--only", help="comma-separated workloads: W1,W0,W2,W3,W4,W6,W5b,disk")
    parser.add_argument("--tools", default="mlflow,mloop", help="comma-separated tools")
    parser.add_argument("--python", type=Path, help="interpreter with mlflow and mloop")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary stores")
    parser.add_argument(
        "--worker", nargs=3, metavar=("TOOL", "WORKLOAD", "DIR"), help=argparse.SUPPRESS
    )
    parser.add_argument("--opts", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--build-1m", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--schema-digest", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def compile_package(python: Path) -> None:
    """Write mloop's bytecode, as installing a wheel does (pip compiles every module).

    mloop is installed editable from this checkout, whose modules have no `.pyc` until a
    process writes them, and a process never does when PYTHONDONTWRITEBYTECODE is set (as on
    this machine): every fresh process would then compile ~60 of mloop's modules from source
    (~50 ms of W0), while MLflow and the libraries load the bytecode pip wrote. Compiling once
    puts both on the footing of a normal installation.
    """
    source = HERE.parent / "src" / "mloop"
    subprocess.run([str(python), "-m", "compileall", "-q", str(source)], check=True)


def orchestrate(args: argparse.Namespace) -> None:
    python = args.python or (BENCH_PYTHON if BENCH_PYTHON.exists() else Path(sys.executable))
    opts = {
        "points": args.points,
        "runs": args.runs,
        "runs_1m": args.runs_1m,
        "disk_points": args.disk_points,
    }
    cfg = Settings(python, args.repeat, args.mlflow_repeat or args.repeat, opts, args.keep)
    tools = [t for t in args.tools.split(",") if t in TOOLS]
    only = (
        set(args.only.split(","))
        if args.only
        else {"W1", "W0", "W2", "W3", "W4", "W6", "W5b", "disk"}
    )
    print(f"{versions(python)}; {machine_note()}", flush=True)
    compile_package(python)
    res: dict[str, dict[str, list[dict[str, Any]]]] = {}
    started = time.perf_counter()
    for workload in ("W1", "W0", "W2", "W3"):
        if workload in only:
            print(f"{workload} ...", flush=True)
            res[workload] = simple(cfg, tools, workload)
    if "W4" in only or "W5" in only:
        print("W4 + W5 ...", flush=True)
        res.update(runs_and_search(cfg, tools))
        answers = {t: res["W5"][t][0]["m1"] for t in tools}
        if len({json.dumps(a) for a in answers.values()}) > 1:
            print("WARNING: the tools' W5 answers differ", flush=True)
        for samples in res["W5"].values():
            for s in samples:
                s.pop("m1", None)
    if "W6" in only:
        print("W6 ...", flush=True)
        res["W6"] = history(cfg, tools)
    if "disk" in only:
        print("disk ...", flush=True)
        res["disk"] = disk(cfg, tools)
    if "W5b" in only and "mloop" in tools:
        cfg.opts["store_1m"] = str(store_1m(args.runs_1m, python))
        print("W5b ...", flush=True)
        res["W5b"] = simple(cfg, ["mloop"], "W5b")
    table = markdown(build_rows(res, opts))
    print(
        f"\nall workloads: {time.perf_counter() - started:.0f} s; medians of {cfg.repeat} fresh "
        f"processes per workload ({cfg.mlflow_repeat} for MLflow's W2 and W4)\n"
    )
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")
    if args.json:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        args.json.write_text(json.dumps({"at": stamp, "opts": opts, "results": res}, indent=1))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        tool, workload, folder = args.worker
        worker_main(tool, workload, Path(folder), json.loads(args.opts))
    elif args.schema_digest:
        print(schema_digest())
    elif args.build_1m:
        build_store_1m(args.build_1m, args.runs_1m)
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
