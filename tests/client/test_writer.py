"""The background batch writer (`client/writer.py`) against a real store."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

from mloop.client.batch_writes import KIND_METRIC, KIND_PARAM, KIND_TAG
from mloop.client.writer import WriteQueue
from mloop.entities import Metric, Param, RunTag
from mloop.errors import ParamConflictError, RunNotActiveError, StorageError
from mloop.storage.sql.store import SqlStore


class RecordingRuns:
    """The store's real run store, recording the size of each batch written through it."""

    def __init__(self, store: SqlStore) -> None:
        self._runs = store.runs
        self.batches: list[int] = []

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        self.batches.append(len(metrics) + len(params) + len(tags))
        self._runs.log_batch(run_id, metrics=metrics, params=params, tags=tags)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runs, name)


@pytest.fixture
def run_id(store: SqlStore) -> str:
    return store.runs.create("0", run_name="writer").run_id


def point(step: int, key: str = "loss") -> Metric:
    return Metric(key, float(step), 1_000 + step, step)


def wait_until(condition: Any, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


@contextmanager
def sqlite_write_lock(store_url: str) -> Iterator[None]:
    """Hold the SQLite write lock from a second connection, as another busy process would."""
    conn = sqlite3.connect(store_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def test_flush_acknowledges_every_queued_point(store: SqlStore, run_id: str):
    queue = WriteQueue(store.runs)
    for step in range(2_500):
        queue.put(run_id, KIND_METRIC, point(step))

    queue.flush()

    assert queue.pending == 0
    history = store.runs.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(2_500))


def test_items_are_written_in_batches(store: SqlStore, run_id: str):
    runs = RecordingRuns(store)
    queue = WriteQueue(runs, batch_size=100)
    queue.put_many([(run_id, KIND_METRIC, point(step)) for step in range(1_000)])

    queue.flush()

    assert sum(runs.batches) == 1_000
    assert max(runs.batches) <= 100
    assert len(runs.batches) < 100  # far fewer transactions than points
    assert len(store.runs.get_metric_history(run_id, "loss")) == 1_000


def test_metrics_params_and_tags_of_several_runs_are_written(store: SqlStore, run_id: str):
    other = store.runs.create("0", run_name="other").run_id
    queue = WriteQueue(store.runs)
    queue.put(run_id, KIND_PARAM, Param("lr", "0.1"))
    queue.put(run_id, KIND_TAG, RunTag("team", "a"))
    queue.put(run_id, KIND_TAG, RunTag("team", "b"))
    queue.put(other, KIND_METRIC, point(1, "acc"))

    queue.flush()

    first = store.runs.get(run_id)
    assert (first.params, first.tags["team"]) == ({"lr": "0.1"}, "b")
    assert store.runs.get(other).metrics == {"acc": 1.0}


def test_flush_of_an_empty_queue_returns_at_once(store: SqlStore):
    queue = WriteQueue(store.runs)

    queue.flush(timeout_s=1)

    assert queue.pending == 0


def test_a_full_queue_makes_callers_wait_and_loses_nothing(
    backend: str, store_url: str, store: SqlStore, run_id: str
):
    if backend != "sqlite":
        pytest.skip("holds the SQLite write lock")
    queue = WriteQueue(store.runs, capacity=10, batch_size=5, linger_s=0.001)
    queued = 0

    def produce() -> None:
        nonlocal queued
        for step in range(200):
            queue.put(run_id, KIND_METRIC, point(step))
            queued += 1

    with sqlite_write_lock(store_url):
        producer = threading.Thread(target=produce)
        producer.start()
        wait_until(lambda: queue.pending >= 10)
        time.sleep(0.3)
        # The writer holds one batch and waits for the lock; the queue is full; the caller waits.
        assert queued <= 10 + 5 + 1
        assert producer.is_alive()
    producer.join(timeout=60)
    queue.flush()

    assert not producer.is_alive()
    assert queued == 200
    assert [m.step for m in store.runs.get_metric_history(run_id, "loss")] == list(range(200))


def test_many_items_past_the_capacity_are_queued_in_parts_and_all_written(
    backend: str, store_url: str, store: SqlStore, run_id: str
):
    if backend != "sqlite":
        pytest.skip("holds the SQLite write lock")
    queue = WriteQueue(store.runs, capacity=10, batch_size=5, linger_s=0.001)
    done = threading.Event()

    def produce() -> None:
        queue.put_many([(run_id, KIND_METRIC, point(step)) for step in range(200)])
        done.set()

    with sqlite_write_lock(store_url):
        producer = threading.Thread(target=produce)
        producer.start()
        wait_until(lambda: queue.pending >= 10)
        time.sleep(0.3)
        # One call, more items than the queue holds: it waits for room, part by part.
        assert queue.pending <= 10 + 5
        assert not done.is_set()
    producer.join(timeout=60)
    queue.flush()

    assert done.is_set()
    assert [m.step for m in store.runs.get_metric_history(run_id, "loss")] == list(range(200))


def test_pending_counts_items_not_yet_written(
    backend: str, store_url: str, store: SqlStore, run_id: str
):
    if backend != "sqlite":
        pytest.skip("holds the SQLite write lock")
    queue = WriteQueue(store.runs)
    with sqlite_write_lock(store_url):
        queue.put_many([(run_id, KIND_METRIC, point(step)) for step in range(7)])
        assert queue.pending == 7
        with pytest.raises(StorageError, match=r"within 0\.2 s"):
            queue.flush(timeout_s=0.2)
        assert queue.pending == 7
    queue.flush()

    assert queue.pending == 0
    assert len(store.runs.get_metric_history(run_id, "loss")) == 7


def test_a_write_error_is_raised_on_the_next_flush_only_once(store: SqlStore, run_id: str):
    queue = WriteQueue(store.runs)
    store.runs.delete(run_id, actor="test")
    queue.put(run_id, KIND_METRIC, point(0))

    with pytest.raises(RunNotActiveError) as caught:
        queue.flush()

    assert caught.value.run_id == run_id
    queue.flush()
    queue.check()


def test_a_write_error_is_raised_on_the_next_put_only_once(store: SqlStore, run_id: str):
    live = store.runs.create("0", run_name="live").run_id
    queue = WriteQueue(store.runs)
    store.runs.delete(run_id, actor="test")
    queue.put(run_id, KIND_METRIC, point(0))
    wait_until(lambda: queue.pending == 0)

    with pytest.raises(RunNotActiveError):
        queue.put(live, KIND_METRIC, point(1))  # reports the earlier failure, queues its own
    queue.put(live, KIND_METRIC, point(2))
    queue.flush()  # the error was raised once only

    assert [m.step for m in store.runs.get_metric_history(live, "loss")] == [1, 2]


def test_several_write_errors_are_raised_together(store: SqlStore):
    gone = [store.runs.create("0", run_name=f"gone-{i}").run_id for i in range(2)]
    queue = WriteQueue(store.runs)
    for run_id in gone:
        store.runs.delete(run_id, actor="test")
        queue.put(run_id, KIND_METRIC, point(0))

    with pytest.raises(RunNotActiveError) as caught:
        queue.flush()

    assert "1 more write(s) failed" in " ".join(caught.value.__notes__)
    queue.flush()


def test_a_conflicting_param_drops_only_itself_and_the_rest_is_written(
    store: SqlStore, run_id: str
):
    store.runs.log_batch(run_id, params=[Param("lr", "0.1")])
    queue = WriteQueue(store.runs, linger_s=1.0)  # lingering keeps the items in one batch
    queue.put(run_id, KIND_PARAM, Param("lr", "0.2"))
    queue.put(run_id, KIND_PARAM, Param("depth", "3"))
    queue.put(run_id, KIND_TAG, RunTag("team", "a"))
    queue.put_many([(run_id, KIND_METRIC, point(step)) for step in range(10)])

    with pytest.raises(ParamConflictError) as caught:
        queue.flush()

    assert caught.value.key == "lr"
    run = store.runs.get(run_id)
    assert run.params == {"lr": "0.1", "depth": "3"}
    assert run.tags["team"] == "a"
    assert len(store.runs.get_metric_history(run_id, "loss")) == 10


def test_close_writes_everything_and_stops_the_writer_thread(store: SqlStore, run_id: str):
    queue = WriteQueue(store.runs, linger_s=0.01)
    for step in range(100):
        queue.put(run_id, KIND_METRIC, Metric("m", float(step), 1000 + step, step))
    writer = queue._thread
    assert writer is not None
    queue.close()
    assert len(store.runs.get_metric_history(run_id, "m")) == 100
    writer.join(timeout=5)
    assert not writer.is_alive()


def test_the_call_that_reports_an_earlier_error_still_queues_its_own_item(
    store: SqlStore, run_id: str
):
    queue = WriteQueue(store.runs, linger_s=0.01)
    queue.put(run_id, KIND_PARAM, Param("p", "1"))
    queue.flush()
    queue.put(run_id, KIND_PARAM, Param("p", "2"))  # conflicts in the writer
    with pytest.raises(ParamConflictError):
        queue.flush()
    queue.put(run_id, KIND_PARAM, Param("p", "3"))  # conflicts too
    time.sleep(0.3)  # let the writer fail
    with pytest.raises(ParamConflictError):
        queue.put(run_id, KIND_METRIC, Metric("after", 1.0, 1000, 0))
    queue.flush()
    assert [m.value for m in store.runs.get_metric_history(run_id, "after")] == [1.0]
