"""Load: 50 concurrent clients logging 200 batches each through one server on PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest

from mloop.entities import Metric
from mloop.storage.rest import RestStore
from tests.cli.test_server import start_server, stop_server

CLIENTS = 50
BATCHES = 200
POINTS = 10
RUNS = 10


@pytest.mark.slow
@pytest.mark.postgres
def test_fifty_clients_lose_and_duplicate_nothing(
    backend: str, store_url: str, artifact_root: str
) -> None:
    if backend != "postgresql":
        pytest.skip("the load test runs on PostgreSQL")
    env = {"MLOOP_TRACKING_URI": store_url, "MLOOP_ARTIFACT_URI": artifact_root}
    process, url = start_server(env, "--workers", "2")
    setup = RestStore(url)
    run_ids = [setup.runs.create("0", run_name=f"load-{i}").run_id for i in range(RUNS)]
    errors: list[BaseException] = []

    def client(index: int) -> None:
        # Five clients share each run, logging disjoint steps, so writes to one run interleave.
        store = RestStore(url)
        run_id = run_ids[index % RUNS]
        try:
            for batch in range(BATCHES):
                base = (index * BATCHES + batch) * POINTS
                points = [
                    Metric("m", float(base + i), 1000 + index, base + i) for i in range(POINTS)
                ]
                store.runs.log_batch(run_id, metrics=points)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    start = time.perf_counter()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        elapsed = time.perf_counter() - start
        assert not errors, errors[:3]
        per_run = CLIENTS // RUNS * BATCHES * POINTS
        for run_id in run_ids:
            history = setup.runs.get_metric_history_columns(run_id, "m")
            assert len(history) == per_run
            assert len(set(history.steps.tolist())) == per_run
            assert history.values.tolist() == history.steps.astype(float).tolist()
        # About 55 s on a busy 2-core machine; far longer means requests are stalling.
        assert elapsed < 120
    finally:
        setup.close()
        assert stop_server(process)
