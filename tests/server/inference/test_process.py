"""`mloop serve` as users run it: child processes, several workers, SIGTERM, what gets imported."""

from __future__ import annotations

import json
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
import pyarrow.dataset as ds
import pytest

import mloop
from tests.client.conftest import FluentEnv
from tests.server.conftest import wait_ready
from tests.server.inference.conftest import Churn
from tests.server.inference.models import SlowModel

URL = re.compile(r"on (http://127\.0\.0\.1:\d+)")
REPO = Path(__file__).resolve().parents[3]


def start_serve(env: FluentEnv, *args: str) -> tuple[subprocess.Popen[str], str]:
    """`mloop serve ARGS` on a free port; returns the process and its URL once it is ready."""
    child_env = env.subprocess_env()
    child_env["PYTHONPATH"] = str(REPO)  # pickled test models live in tests/
    child_env["COLUMNS"] = "300"
    process = subprocess.Popen(
        [sys.executable, "-m", "mloop.cli", "serve", "--port", "0", *args],
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = URL.search(line)
    if found is None:
        process.kill()
        raise AssertionError(f"no URL in the first line: {line!r} {process.stdout.read()}")
    url = found.group(1)
    try:
        wait_ready(url, timeout_s=60, process=process)
    except AssertionError as exc:
        process.kill()
        raise AssertionError(f"{exc}: {process.stdout.read()}") from exc
    return process, url


def stop_serve(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


@pytest.mark.slow
def test_two_workers_answer_without_a_nagle_stall_and_never_load_sklearn_or_pandas(
    churn: Churn, fluent: FluentEnv
) -> None:
    process, url = start_serve(
        fluent,
        "models:/churn@champion",
        "--workers",
        "2",
        "--log-predictions",
        "--log-flush-s",
        "0.1",
    )
    try:
        body = churn.body(slice(0, 1))
        timings = []
        with httpx.Client(base_url=url) as http:
            http.post("/predict", json=body)
            for _ in range(200):
                start = time.perf_counter()
                answer = http.post("/predict", json=body)
                timings.append(time.perf_counter() - start)
                assert answer.status_code == 200
        # A delayed-ACK stall costs ~40 ms a request; a healthy loopback request well under 5.
        assert statistics.median(timings) < 0.01
        assert max(sorted(timings)[: int(len(timings) * 0.9)]) < 0.03
        names = list(churn.columns)
        csv = ",".join(names) + "\n" + ",".join(str(churn.columns[n][0]) for n in names)
        for http_worker in range(6):  # new connections spread over both workers
            with httpx.Client(base_url=url) as http:
                assert http.post("/predict", json=body).status_code == 200, http_worker
                answer = http.post(
                    "/invocations", content=csv, headers={"content-type": "text/csv"}
                )
                assert answer.json()["predictions"] == churn.expected[1][:1].tolist()
        logs = Path(fluent.artifact_root) / "predictions" / "churn"
        deadline = time.monotonic() + 10
        while len(list(logs.rglob("*.parquet"))) < 2:  # both workers wrote their log
            assert time.monotonic() < deadline, "no prediction log written"
            time.sleep(0.05)
        # any worker answers a scrape with the requests of both
        with httpx.Client(base_url=url) as http:
            scrapes = [http.get("/metrics").text for _ in range(4)]
        labels = 'endpoint="predict",model="churn",status="200",version="1"'
        counted = [f"mloop_inference_requests_total{{{labels}}} 207.0" in text for text in scrapes]
        assert all(counted), scrapes[0][:2000]
        workers = psutil.Process(process.pid).children()
        assert len(workers) == 2
        for worker in workers:
            maps = Path(f"/proc/{worker.pid}/maps").read_text()
            # the verified ONNX export serves; neither parsing CSV nor writing the prediction
            # log (Arrow, Parquet) brings in pandas or scikit-learn
            assert "onnxruntime" in maps
            assert "pyarrow" in maps
            assert "/sklearn/" not in maps
            assert "/pandas/" not in maps
            # The target: 150 MB per worker plus the model (a few kB here). Pages the workers
            # share with their parent count once between them (PSS); resident size without the
            # prediction log (pyarrow) was ~121 MB in bench/serving.py, ~167 MB with it.
            memory = worker.memory_full_info()
            assert memory.pss < 150 * 1024 * 1024
    finally:
        assert stop_serve(process) == 0


@pytest.mark.slow
def test_sigterm_drains_requests_in_flight(fluent: FluentEnv) -> None:
    with mloop.start_run():
        example = {"x": np.asarray([1.0])}
        mloop.log_model(
            SlowModel(0.4), "model", input_example=example, registered_model_name="slow"
        )
    process, url = start_serve(fluent, "models:/slow/1", "--trusted")
    answers: list[int] = []
    connected = threading.Barrier(4)

    def call() -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            http.get("/health")  # connected before the requests race the signal
            connected.wait()
            answers.append(http.post("/predict", json={"inputs": {"x": [1.0]}}).status_code)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    connected.wait(timeout=30)
    time.sleep(0.3)  # all three sent; the first is in the model, two queued behind it
    started = time.monotonic()
    code = stop_serve(process)
    for thread in threads:
        thread.join()
    assert answers == [200, 200, 200]
    assert time.monotonic() - started >= 0.6  # it waited for the queue
    assert code in (0, -signal.SIGTERM)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health")


SCRIPT = """
import asyncio, json, sys
import mloop.cli.main
from mloop.server.inference.config import InferenceConfig
from mloop.server.inference.launch import build_app

app = build_app(InferenceConfig(reference=sys.argv[1]))
app.start()
body = json.dumps({"inputs": {f"f{i}": [0.5] for i in range(4)}}).encode()
sent = []

async def call():
    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/predict", "headers": []}
    await app(scope, receive, send)

asyncio.run(call())
app.stop()
print(json.dumps({
    "status": sent[0]["status"],
    "loaded": [m for m in ("sqlalchemy", "sklearn", "pandas") if m in sys.modules],
}))
"""


def test_a_package_folder_is_served_without_the_store_sklearn_or_pandas(
    churn: Churn, fluent: FluentEnv
) -> None:
    result = _run_on_package(SCRIPT, fluent)
    assert result == {"status": 200, "loaded": []}


def _converter_of(process: subprocess.Popen[str]) -> psutil.Process:
    children = psutil.Process(process.pid).children(recursive=True)
    [converter] = [c for c in children if "mloop.serving.predlog_convert" in c.cmdline()]
    return converter


def _spooled_rows(spool: Path) -> int:
    """Rows in the spool's segments, open ones included (read without taking their locks)."""
    import pyarrow as pa

    rows = 0
    for segment in spool.glob("*.*"):
        try:  # a segment being written may be empty, or end in a batch written half
            reader = pa.ipc.open_stream(pa.BufferReader(segment.read_bytes()))
            while True:
                rows += reader.read_next_batch().num_rows
        except (StopIteration, pa.ArrowInvalid, OSError):
            continue  # the batches read so far count; the rest is not written yet
    return rows


def _logged(fluent: FluentEnv) -> list[dict[str, object]]:
    folder = Path(fluent.artifact_root) / "predictions" / "churn"
    if not list(folder.rglob("*.parquet")):
        return []
    rows: list[dict[str, object]] = ds.dataset(folder, partitioning="hive").to_table().to_pylist()
    return rows


def _send(url: str, churn: Churn, ids: range) -> None:
    with httpx.Client(base_url=url) as http:
        for index in ids:
            answer = http.post("/predict", json=churn.body(), headers={"x-request-id": f"r{index}"})
            assert answer.status_code == 200


@pytest.mark.slow
def test_rows_spooled_before_a_kill_9_are_converted_at_the_next_start(
    churn: Churn, fluent: FluentEnv, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    args = ("models:/churn@champion", "--log-predictions", "--log-flush-s", "3600")
    process, url = start_serve(fluent, *args, "--log-spool", str(spool))
    try:
        converter = _converter_of(process)
        _send(url, churn, range(40))
        deadline = time.monotonic() + 20
        while _spooled_rows(spool) < 200:  # 40 requests x 5 rows, in the open segment
            assert time.monotonic() < deadline, _spooled_rows(spool)
            time.sleep(0.05)
        # Both are killed, the converter first, so nothing converts before the restart.
        converter.kill()
    finally:
        process.kill()
        process.wait(timeout=10)
    converter.wait(timeout=10)  # reaped once its parent is gone
    assert _logged(fluent) == []
    assert [p.suffix for p in spool.iterdir()] == [".part"]
    process, url = start_serve(fluent, *args, "--log-spool", str(spool))
    try:
        deadline = time.monotonic() + 30
        while len(_logged(fluent)) < 200:  # the new converter converts what it found
            assert time.monotonic() < deadline, len(_logged(fluent))
            time.sleep(0.1)
    finally:
        assert stop_serve(process) in (0, -signal.SIGTERM)
    rows = _logged(fluent)
    assert len(rows) == 200
    assert {r["request_id"] for r in rows} == {f"r{i}" for i in range(40)}
    assert list(spool.iterdir()) == []


@pytest.mark.slow
def test_the_converter_finishes_at_a_graceful_stop_and_never_outlives_a_killed_server(
    churn: Churn, fluent: FluentEnv
) -> None:
    args = ("models:/churn@champion", "--log-predictions", "--log-flush-s", "3600")
    process, url = start_serve(fluent, *args)
    try:
        converter = _converter_of(process)
        _send(url, churn, range(20))
    finally:
        # SIGTERM: what was handed to the log is spooled and converted before the server exits
        code = stop_serve(process)
    assert code in (0, -signal.SIGTERM)
    assert len(_logged(fluent)) == 100
    assert not converter.is_running()
    [spool] = (fluent.workdir / ".mloop" / "spool" / "predictions").iterdir()
    assert list(spool.iterdir()) == []

    process, url = start_serve(fluent, *args)
    try:
        converter = _converter_of(process)
        _send(url, churn, range(20, 30))
        deadline = time.monotonic() + 20
        while _spooled_rows(spool) < 50:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        process.kill()
        process.wait(timeout=10)
    # the server's end closes the converter's stdin: it converts the orphan, then exits
    converter.wait(timeout=30)
    assert len(_logged(fluent)) == 150
    assert list(spool.iterdir()) == []


COLLECTOR = """
import gc, json, sys
from mloop.server.inference.config import InferenceConfig
from mloop.server.inference.launch import build_app

seen = []
for owns in (False, True):
    app = build_app(InferenceConfig(reference=sys.argv[1]), owns_process=owns)
    app.start()
    seen.append([gc.get_threshold()[0], gc.get_freeze_count() > 0])
    app.stop()
print(json.dumps(seen))
"""


def test_only_a_serving_process_of_its_own_tunes_the_garbage_collector(
    churn: Churn, fluent: FluentEnv
) -> None:
    # an app inside another program (a test) leaves it; `mloop serve`'s freezes what start-up
    # built and collects the young generation far less often
    assert _run_on_package(COLLECTOR, fluent) == [[700, False], [50_000, True]]


def _run_on_package(script: str, fluent: FluentEnv) -> Any:
    """The JSON on the last output line of `script`, run on churn v1's package folder."""
    from mloop.client.models import resolve_package_folder

    folder = resolve_package_folder("models:/churn/1")
    done = subprocess.run(
        [sys.executable, "-c", script, str(folder)],
        env=fluent.subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
