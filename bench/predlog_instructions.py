"""Instructions per request of prediction logging, counted by callgrind: repeatable under load.

    .venv/bin/python bench/predlog_instructions.py [--small 3600] [--large 8800]

On a shared 2-core machine, requests per second and even CPU time per request swing by 10-20%
between runs (other processes take the server's core and its caches), far more than the few
percent prediction logging costs. Instruction counts do not swing: this script pushes requests
through the inference app in-process (the LR package of bench/serving.py, an MLflow
`dataframe_split` body of one row, 32 concurrent callers, so batches of ~32 as under wrk c32)
under `valgrind --tool=callgrind`, with logging off and on, each at two request counts; the
difference between the counts cancels start-up, leaving the instructions per request.

Under callgrind everything runs ~30x slower, so whatever is timed would shift: batching does
not wait for more requests (`max_latency_s=0`: a batch is what queued meanwhile), and the log's
writer spools every 5,200 rows by count (what 0.5 s holds at ~10,000 requests/s) rather than
every 0.5 s. The converter process runs outside callgrind (as it runs off the server's core).
Not counted: the HTTP parser (the same with logging on and off), cache misses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

CALLERS = 32
WARM_PER_CALLER = 50
SPOOL_ROWS = 5_200


async def drive(package: str, mode: str, requests: int) -> None:
    """Push `requests` (after a warm-up) through the app; logging `off` or `on`."""
    import numpy as np

    from mloop.server.inference.app import InferenceApp
    from mloop.server.inference.config import InferenceConfig
    from mloop.serving.batcher import BatchOptions
    from mloop.serving.predlog import FolderSink, PredictionLog

    log = None
    if mode == "on":
        log = PredictionLog(
            FolderSink(tempfile.mkdtemp(prefix="predlog-")),
            spool_interval_s=1e9,
            flush_interval_s=1e9,
            flush_rows=SPOOL_ROWS,
        )

    def no_store() -> NoReturn:
        raise RuntimeError("a package folder needs no store")

    config = InferenceConfig(reference=package, batching=BatchOptions(max_latency_s=0.0))
    # owns_process: the garbage collector tuned as `mloop serve` tunes it
    app = InferenceApp(config, store=no_store, prediction_log=log, owns_process=True)
    app.start()
    names = [f"x{i}" for i in range(20)]
    values = np.random.default_rng(1).normal(size=(1, 20)).round(4).tolist()
    body = json.dumps({"dataframe_split": {"columns": names, "data": values}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {"type": "http", "method": "POST", "path": "/invocations", "headers": headers}
    message = {"type": "http.request", "body": body, "more_body": False}
    statuses: list[int] = []

    async def receive() -> dict[str, object]:
        return message

    async def send(event: dict[str, object]) -> None:
        if event["type"] == "http.response.start":
            statuses.append(int(event["status"]))  # type: ignore[call-overload]

    async def caller(count: int) -> None:
        for _ in range(count):
            await app(scope, receive, send)

    await asyncio.gather(*(caller(WARM_PER_CALLER) for _ in range(CALLERS)))
    await asyncio.gather(*(caller(requests // CALLERS) for _ in range(CALLERS)))
    if set(statuses) != {200}:
        raise RuntimeError(f"statuses {sorted(set(statuses))}")
    app.stop()


def count(package: str, mode: str, requests: int, out: Path) -> int:
    """Instructions of one driven run under callgrind."""
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--drive",
        mode,
        "--package",
        package,
        "--requests",
        str(requests),
    ]
    # OpenBLAS's idle threads spin for a while under callgrind, which counts their
    # instructions: thousands per request of noise. Nothing here needs them.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    subprocess.run(command, check=True, capture_output=True, env=env)
    match = re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no summary in {out}")
    return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # With the warm-up's 1,600, the small run spools once and the large one twice.
    parser.add_argument("--small", type=int, default=3_616)
    parser.add_argument("--large", type=int, default=8_832)
    parser.add_argument("--package", help="an LR package (default: trained here)")
    parser.add_argument("--drive", choices=("off", "on"), help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        import uvloop

        uvloop.run(drive(args.package, args.drive, args.requests))
        return
    with tempfile.TemporaryDirectory(prefix="predlog-instructions-") as folder:
        package = args.package
        if package is None:
            import serving

            package = str(serving.train(Path(folder), mlflow=False)["lr"]["mloop"])
        per_request = {}
        for mode in ("off", "on"):
            small, large = (
                count(package, mode, n, Path(folder) / f"{mode}.{n}.out")
                for n in (args.small, args.large)
            )
            sent = (args.large // CALLERS - args.small // CALLERS) * CALLERS
            per_request[mode] = (large - small) / sent
            print(f"logging {mode}: {per_request[mode]:,.0f} instructions per request", flush=True)
    cost = per_request["on"] / per_request["off"] - 1
    print(
        f"prediction logging: +{per_request['on'] - per_request['off']:,.0f} instructions per "
        f"request, {cost * 100:.1f}% of the in-process path"
    )


if __name__ == "__main__":
    main()
