"""Many writers at once on one store: nothing lost, nothing duplicated, no lock errors."""

from __future__ import annotations

import multiprocessing
import queue
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from mloop.entities import RunStatus
from mloop.storage.sql.store import SqlStore
from tests.storage.sql import writers
from tests.storage.sql.rows import metric_rows, scalar
from tests.storage.sql.writers import SHARED_KEY, Plan

pytestmark = pytest.mark.slow

_SPAWN = multiprocessing.get_context("spawn")


def _run_processes(target: Callable[..., None], arguments: list[dict[str, Any]]) -> list[Any]:
    """Start one spawned process per argument set behind a shared barrier; collect results."""
    start = _SPAWN.Barrier(len(arguments))
    results = _SPAWN.Queue()
    processes = [
        _SPAWN.Process(target=target, kwargs={**kwargs, "start": start, "results": results})
        for kwargs in arguments
    ]
    for process in processes:
        process.start()
    try:
        collected = [results.get(timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    return collected


def _run_threads(target: Callable[..., None], arguments: list[dict[str, Any]]) -> list[Any]:
    """Like `_run_processes` with threads: cheap to start, and each opens its own store."""
    start = threading.Barrier(len(arguments))
    results: queue.Queue[Any] = queue.Queue()
    threads = [
        threading.Thread(target=target, kwargs={**kwargs, "start": start, "results": results})
        for kwargs in arguments
    ]
    for thread in threads:
        thread.start()
    collected = [results.get(timeout=120) for _ in threads]
    for thread in threads:
        thread.join(timeout=30)
    return collected


def _check_counts(store: SqlStore, own: list[str], shared: str, plan: Plan) -> None:
    """Every point, param and tag each writer logged is there exactly once."""
    writers_count = len(own)
    last = plan.batches - 1
    for writer, run_id in enumerate(own):
        run = store.runs.get(run_id)
        assert metric_rows(store, run_id) == plan.batches * plan.own_points
        assert run.params == {"writer": str(writer), "plan": "v1"}
        assert run.tags == {"progress": str(last)}
        # the latest point of key m{k} is the last batch's highest point p with p % keys == k
        expected_latest = {
            f"m{p % plan.metric_keys}": float(last * 1000 + p) for p in range(plan.own_points)
        }
        assert run.metrics == expected_latest
    run = store.runs.get(shared)
    per_writer = plan.batches * plan.shared_points
    assert metric_rows(store, shared) == writers_count * (per_writer + plan.batches)
    for writer in range(writers_count):
        assert len(store.runs.get_metric_history(shared, f"w{writer}")) == per_writer
        assert all(run.tags[f"w{writer}.b{b}"] == "done" for b in range(plan.batches))
    assert len(run.tags) == writers_count * plan.batches + 1
    assert run.params == {"shared": "same for everyone"}
    assert run.metrics[SHARED_KEY] == float((writers_count - 1) * 10_000 + last)
    assert scalar(store, "SELECT count(*) FROM metric_keys") == plan.metric_keys + writers_count + 1


def _many_writers(
    store: SqlStore,
    url: str,
    artifact_root: str,
    count: int,
    *,
    run: Callable[[Callable[..., None], list[dict[str, Any]]], list[Any]],
) -> None:
    plan = Plan()
    shared = store.runs.create("0", run_name="shared").run_id
    own = [uuid.uuid4().hex for _ in range(count)]
    arguments = [
        {
            "url": url,
            "artifact_root": artifact_root,
            "writer": writer,
            "own_run_id": run_id,
            "shared_run_id": shared,
            "plan": plan,
        }
        for writer, run_id in enumerate(own)
    ]
    failures = [(w, error) for w, error in run(writers.write, arguments) if error]
    assert failures == []
    _check_counts(store, own, shared, plan)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_8_processes_logging_to_one_sqlite_file_lose_nothing(
    store: SqlStore, store_url: str, artifact_root: str
) -> None:
    _many_writers(store, store_url, artifact_root, 8, run=_run_processes)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_16_writers_on_their_own_connections_to_postgresql_lose_nothing(
    store: SqlStore, store_url: str, artifact_root: str
) -> None:
    # Threads, each with its own store and so its own connection: PostgreSQL sees 16 concurrent
    # sessions, as from 16 processes, without 16 interpreters to start.
    _many_writers(store, store_url, artifact_root, 16, run=_run_threads)


def test_threads_sharing_one_store_lose_nothing(store: SqlStore) -> None:
    plan = Plan(batches=15)
    count = 8
    shared = store.runs.create("0", run_name="shared").run_id
    own = [store.runs.create("0", run_name=f"t{i}").run_id for i in range(count)]
    start = threading.Barrier(count)

    def work(writer: int) -> None:
        start.wait()
        for batch in range(plan.batches):
            store.runs.log_batch(own[writer], **writers.own_batch(plan, writer, batch))
            store.runs.log_batch(shared, **writers.shared_batch(plan, writer, batch))
        store.runs.update(own[writer], status=RunStatus.FINISHED)

    with ThreadPoolExecutor(count) as pool:
        for future in [pool.submit(work, w) for w in range(count)]:
            future.result(timeout=120)
    _check_counts(store, own, shared, plan)
    assert {store.runs.get(r).status for r in own} == {RunStatus.FINISHED}


def test_two_processes_creating_one_fresh_store_both_succeed(
    empty_url: Callable[[], str], artifact_root: str
) -> None:
    for _ in range(2):
        url = empty_url()
        arguments = [{"url": url, "artifact_root": artifact_root} for _ in range(2)]
        results = _run_processes(writers.create, arguments)
        assert results == [("ok", ["Default"]), ("ok", ["Default"])]
        store = SqlStore(url, artifact_root=artifact_root)
        try:
            assert scalar(store, "SELECT count(*) FROM experiments") == 1
            assert scalar(store, "SELECT count(*) FROM alembic_version") == 1
        finally:
            store.close()
