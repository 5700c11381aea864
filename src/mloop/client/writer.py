"""The background writer: logging calls enqueue, one thread writes batches to the store.

A `log_*` call returns as soon as its item is queued; it is acknowledged when `flush()` returns
(or the run ends). The queue is bounded: when it is full the caller waits (back-pressure), so
nothing is ever dropped. A failed write is kept and raised on the caller's next call or flush.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from mloop.entities import Metric, Param, RunTag
from mloop.errors import MloopError, ParamConflictError, StorageError
from mloop.storage import RunStore

KIND_METRIC = 0
KIND_PARAM = 1
KIND_TAG = 2

DEFAULT_CAPACITY = 200_000
DEFAULT_BATCH_SIZE = 20_000
DEFAULT_LINGER_S = 0.05

Item = tuple[str, int, Any]


class WriteQueue:
    """A bounded queue of metric points, params and tags, drained by a daemon thread.

    Args:
        store: where batches go.
        capacity: items held at most before callers wait.
        batch_size: items taken per drain; one transaction per run in a drain.
        linger_s: how long the writer waits for more items before writing a small batch.
    """

    def __init__(
        self,
        store: RunStore,
        *,
        capacity: int = DEFAULT_CAPACITY,
        batch_size: int = DEFAULT_BATCH_SIZE,
        linger_s: float = DEFAULT_LINGER_S,
    ) -> None:
        self._store = store
        self._capacity = capacity
        self._batch_size = batch_size
        self._linger_s = linger_s
        self._cond = threading.Condition()
        self._items: list[Item] = []
        self._enqueued = 0
        self._written = 0
        self._flushing = 0
        self._errors: list[MloopError] = []
        self._thread: threading.Thread | None = None
        self._closing = False

    def put(self, run_id: str, kind: int, item: Metric | Param | RunTag) -> None:
        """Queue one item; waits while the queue is full.

        Raises:
            MloopError: an earlier write failed (raised once, then cleared). This call's item
                is queued all the same: the error is about earlier items.
        """
        with self._cond:
            while len(self._items) >= self._capacity:
                self._cond.notify_all()
                self._cond.wait()
            self._items.append((run_id, kind, item))
            self._enqueued += 1
            if len(self._items) == 1 or len(self._items) >= self._batch_size:
                if self._thread is None:
                    self._start()
                self._cond.notify_all()
            if self._errors:
                self._raise_errors()

    def put_many(self, items: Sequence[Item]) -> None:
        """Queue several items in order."""
        for run_id, kind, item in items:
            self.put(run_id, kind, item)

    def flush(self, timeout_s: float | None = None) -> None:
        """Wait until everything queued before this call is written.

        Raises:
            MloopError: a write failed since the last check.
            StorageError: the writes did not finish within `timeout_s`.
        """
        with self._cond:
            target = self._enqueued
            self._flushing += 1
            self._cond.notify_all()
            try:
                done = self._cond.wait_for(
                    lambda: self._written >= target or self._thread is None, timeout=timeout_s
                )
            finally:
                self._flushing -= 1
            if self._errors:
                self._raise_errors()
            if not done:
                raise StorageError(
                    f"pending metrics were not written within {timeout_s} s; the store may be "
                    "unreachable or locked"
                )

    def check(self) -> None:
        """Raise a pending write error, if any.

        Raises:
            MloopError: a write failed since the last check.
        """
        with self._cond:
            if self._errors:
                self._raise_errors()

    @property
    def pending(self) -> int:
        """Items queued but not yet written."""
        with self._cond:
            return self._enqueued - self._written

    def after_fork(self) -> None:
        """In a forked child: start empty, with fresh locks; the parent writes its own items."""
        self._cond = threading.Condition()
        self._items = []
        self._enqueued = self._written = self._flushing = 0
        self._errors = []
        self._thread = None
        self._closing = False

    def _raise_errors(self) -> None:
        errors, self._errors = self._errors, []
        first = errors[0]
        if len(errors) > 1:
            first.add_note(f"{len(errors) - 1} more write(s) failed: {errors[1:]}")
        raise first

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="mloop-writer", daemon=True)
        self._thread.start()

    def close(self, timeout_s: float | None = None) -> None:
        """Write everything queued, then stop the writer thread.

        Raises:
            MloopError: a queued write failed.
        """
        try:
            self.flush(timeout_s)
        finally:
            with self._cond:
                self._closing = True
                self._cond.notify_all()
            thread = self._thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=5)

    def _take(self) -> list[Item] | None:
        with self._cond:
            self._cond.wait_for(lambda: bool(self._items) or self._closing)
            if not self._items:
                self._thread = None
                return None
            if len(self._items) < self._batch_size and not self._flushing:
                # Linger: a training loop logs steadily, so a short wait makes far fewer,
                # larger transactions.
                self._cond.wait_for(
                    lambda: len(self._items) >= self._batch_size or self._flushing > 0,
                    timeout=self._linger_s,
                )
            batch = self._items[: self._batch_size]
            del self._items[: self._batch_size]
            self._cond.notify_all()  # wake callers waiting for room
            return batch

    def _loop(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            errors = write_batch(self._store, batch)
            with self._cond:
                self._errors.extend(errors)
                self._written += len(batch)
                self._cond.notify_all()


def write_batch(store: RunStore, batch: Sequence[Item]) -> list[MloopError]:
    """Write queued items grouped by run, one `log_batch` per run; return the errors met.

    A param that conflicts with a stored value is dropped (and reported) and the rest of the
    batch is written, so one bad param never costs the metrics logged beside it.
    """
    by_run: dict[str, tuple[list[Metric], list[Param], list[RunTag]]] = {}
    for run_id, kind, item in batch:
        by_run.setdefault(run_id, ([], [], []))[kind].append(item)
    errors: list[MloopError] = []
    for run_id, (metrics, params, tags) in by_run.items():
        _write_run(store, run_id, (metrics, params, tags), errors.append)
    return errors


def _write_run(
    store: RunStore,
    run_id: str,
    parts: tuple[list[Metric], list[Param], list[RunTag]],
    report: Callable[[MloopError], None],
) -> None:
    metrics, params, tags = parts
    while True:
        try:
            store.log_batch(run_id, metrics=metrics, params=params, tags=tags)
            return
        except ParamConflictError as exc:
            report(exc)
            params = [p for p in params if p.key != exc.key]
        except MloopError as exc:
            report(exc)
            return
        except Exception as exc:  # noqa: BLE001 - an unexpected failure must reach the user
            error = StorageError(f"writing to run {run_id} failed: {exc!r}")
            error.__cause__ = exc
            report(error)
            return
