"""Registrations of one model from several processes at once get distinct consecutive versions."""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import traceback
from typing import Any

import pytest

from mloop.storage.sql.store import SqlStore

pytestmark = pytest.mark.slow

_SPAWN = multiprocessing.get_context("spawn")
PROCESSES = 4
PER_PROCESS = 6


def register_many(
    url: str, artifact_root: str, writer: int, start: Any, results: Any
) -> None:  # pragma: no cover - runs in a child process; its results are asserted by the test
    """Register PER_PROCESS versions of "churn" and report the numbers received."""
    try:
        store = SqlStore(url, artifact_root=artifact_root)
        start.wait(timeout=60)
        numbers = [
            store.registry.create_version(
                "churn", f"s3://bucket/w{writer}/{i}", actor=f"w{writer}"
            ).version
            for i in range(PER_PROCESS)
        ]
        store.close()
        results.put(("ok", writer, numbers))
    except Exception:  # noqa: BLE001 - reported to the parent, which fails the test with it
        results.put(("error", writer, traceback.format_exc()))


def test_processes_registering_at_once_get_distinct_consecutive_versions(
    store: SqlStore, store_url: str, artifact_root: str
) -> None:
    start = _SPAWN.Barrier(PROCESSES)
    results = _SPAWN.Queue()
    processes = [
        _SPAWN.Process(
            target=register_many, args=(store_url, artifact_root, writer, start, results)
        )
        for writer in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        collected = [results.get(timeout=180) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    errors = [detail for status, _, detail in collected if status != "ok"]
    assert errors == []
    numbers = sorted(n for _, _, got in collected for n in got)
    total = PROCESSES * PER_PROCESS
    assert numbers == list(range(1, total + 1))
    for _, _, got in collected:
        assert got == sorted(got)  # each writer sees its own versions increase
    page = store.registry.search_versions("name = 'churn'", max_results=total)
    assert sorted(v.version for v in page) == list(range(1, total + 1))
    assert {v.source for v in page} == {
        f"s3://bucket/w{w}/{i}" for w in range(PROCESSES) for i in range(PER_PROCESS)
    }
    assert store.registry.get_model("churn").latest_version == total
    creates = [e for e in store.audit.list() if e.action == "model.create"]
    assert len(creates) == 1  # the model was created exactly once, by whichever came first
    assert store.audit.verify().is_intact


def test_concurrent_alias_moves_form_one_consistent_history(
    store: SqlStore, store_url: str, artifact_root: str
) -> None:
    for _ in range(4):
        store.registry.create_version("churn", "s3://bucket/m", actor="a")
    movers, moves = 4, 8
    start = threading.Barrier(movers)
    failures: list[BaseException] = []

    def move(writer: int) -> None:
        own = SqlStore(store_url, artifact_root=artifact_root)
        try:
            start.wait(timeout=60)
            for i in range(moves):
                own.registry.set_alias(
                    "churn", "champion", (writer + i) % 4 + 1, actor=f"w{writer}"
                )
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            failures.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=move, args=(w,)) for w in range(movers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    events = [e for e in store.audit.list() if e.action == "model.alias.set"]
    assert len(events) == movers * moves
    # Each move saw the target the previous committed move left: the read and the write of an
    # alias move happen under one lock, so no move is lost between two others.
    assert events[0].details["previous"] is None
    for before, after in itertools.pairwise(events):
        assert after.details["previous"] == before.details["version"]
    final = store.registry.get_version_by_alias("churn", "champion").version
    assert final == events[-1].details["version"]
    assert store.audit.verify().is_intact
