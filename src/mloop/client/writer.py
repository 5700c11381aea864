"""The background writer: logging calls enqueue, one thread writes batches to the store.

A `log_*` call returns as soon as its item is queued; it is acknowledged when `flush()` returns
(or the run ends). The queue is bounded: when it is full the caller waits (back-pressure), so
nothing is ever dropped. A failed write is kept and raised on the caller's next call or flush.

A run's create can be queued too (`start`): it is written before anything logged to the run,
by the writer after the linger period or, for a run that ends sooner, with the run's end in one
`finish` call, so a short run costs the store one transaction (and a server one request).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from mloop.client.batch_writes import (
    KIND_START,
    KIND_TAG,
    Item,
    finish_run,
    write_batch,
)
from mloop.entities import Metric, Param, RunStart, RunStatus, RunTag
from mloop.errors import MloopError, StorageError
from mloop.storage import RunStore

DEFAULT_CAPACITY = 200_000
DEFAULT_BATCH_SIZE = 20_000
DEFAULT_LINGER_S = 0.05
# Empty looks (one per linger period) before the writer sleeps until an item wakes it.
_IDLE_LOOKS = 20


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
        # Callers ending a run write the queue themselves: while one does, the writer thread
        # takes nothing, and only one batch is ever being written at a time.
        self._paused = 0
        self._writing = False
        # Who waits on `_cond`: the writer on an empty queue, callers on a full one.
        self._idle = False
        self._room_waiters = 0
        # Runs whose queued create is not written yet, with how to create them.
        self._unstarted: dict[str, RunStart] = {}
        # Runs created without the files their create was to share (gone): see `take_unshared`.
        self._unshared: list[str] = []

    def start(self, run_id: str, start: RunStart, tags: Sequence[RunTag] = ()) -> None:
        """Queue a run's create, with the tags it starts with, ahead of what is logged to it.

        The create is acknowledged like the other items: it is written by the next batch (or
        with the run's end), and a failure is raised on a later call. Until then `has_unstarted`
        is true and `ensure_started(run_id)` writes it.
        """
        with self._cond:
            self._unstarted[run_id] = start
        self.put_many([(run_id, KIND_START, start), *((run_id, KIND_TAG, t) for t in tags)])

    @property
    def has_unstarted(self) -> bool:
        """Whether a queued create is not written yet."""
        return bool(self._unstarted)

    def take_unshared(self) -> list[str]:
        """Runs created without the files their queued create was to share, since the last call.

        The run whose environment files later runs link may be purged meanwhile: such a run is
        created without the link, and whoever queued it records the files again.
        """
        with self._cond:
            taken, self._unshared = self._unshared, []
            return taken

    def _note_unshared(self, run_id: str) -> None:
        with self._cond:
            self._unshared.append(run_id)

    def ensure_started(self, run_id: str) -> None:
        """Write the queue when the run's create is still in it, so the run exists in the store.

        Raises:
            MloopError: a queued write failed (the create itself, or an earlier one).
        """
        if run_id in self._unstarted:
            self.flush()

    def put(self, run_id: str, kind: int, item: Metric | Param | RunTag | RunStart) -> None:
        """Queue one item; waits while the queue is full.

        Raises:
            MloopError: an earlier write failed (raised once, then cleared). This call's item
                is queued all the same: the error is about earlier items.
        """
        with self._cond:
            while len(self._items) >= self._capacity:
                self._wait_for_room()
            self._items.append((run_id, kind, item))
            self._enqueued += 1
            if self._thread is None:
                self._start()
            elif self._idle or len(self._items) == self._batch_size:
                self._idle = False  # woken once, not by every item until it runs
                self._cond.notify_all()
            if self._errors:
                self._raise_errors()

    def put_many(self, items: Sequence[Item]) -> None:
        """Queue several items in order, as `put` does each, under one hold of the lock.

        Raises:
            MloopError: an earlier write failed (raised once, then cleared); the items are
                queued all the same.
        """
        done = 0
        with self._cond:
            while done < len(items):
                room = self._capacity - len(self._items)
                if room <= 0:
                    self._wait_for_room()
                    continue
                part = items[done : done + room]
                done += len(part)
                before = len(self._items)
                self._items.extend(part)
                self._enqueued += len(part)
                if self._thread is None:
                    self._start()
                elif self._idle or before < self._batch_size <= len(self._items):
                    self._idle = False
                    self._cond.notify_all()
            if self._errors:
                self._raise_errors()

    def _wait_for_room(self) -> None:
        """Wait (holding `_cond`) until the writer has taken items; it is woken first."""
        self._cond.notify_all()
        self._room_waiters += 1
        try:
            self._cond.wait()
        finally:
            self._room_waiters -= 1

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

    def end_run(self, run_id: str, status: RunStatus, *, end_time_ms: int | None = None) -> None:
        """Write everything queued, and end `run_id` with its last items in one store call.

        The caller's thread does the writing (no hand-over to the writer thread): the run's
        items go with its end status in one `finish` (one transaction), other runs' items in
        their own batches. When it returns, everything queued before it and the run's end are
        stored: this is the acknowledgement `flush` gives.

        Raises:
            MloopError: a write failed (this one or an earlier one). The run is ended even when
                its last items failed, unless the store itself failed.
        """
        with self._cond:
            # Pausing needs no notify: the writer checks before it takes anything.
            self._paused += 1
            try:
                self._cond.wait_for(lambda: not self._writing)
            except BaseException:
                self._paused -= 1
                raise
            self._writing = True
            batch, self._items = self._items, []
            if self._room_waiters:
                self._cond.notify_all()
        errors: list[MloopError] = []
        try:
            mine = [item for item in batch if item[0] == run_id]
            others = [item for item in batch if item[0] != run_id] if len(mine) < len(batch) else []
            errors.extend(write_batch(self._store, others, self._note_unshared))
            finish_run(
                self._store,
                run_id,
                mine,
                (status, end_time_ms),
                errors.append,
                unshared=self._note_unshared,
            )
        finally:
            with self._cond:
                self._errors.extend(errors)
                self._written += len(batch)
                self._settle_starts(batch)
                self._writing = False
                self._paused -= 1
                if self._flushing or self._paused or (self._items and not self._idle):
                    # Flushers, other runs' ends, or a writer that skipped items it found
                    # while this one wrote.
                    self._cond.notify_all()
        self.check()

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

    def _settle_starts(self, batch: Sequence[Item]) -> None:
        """Forget the creates of a written batch (written or failed: either way, not queued)."""
        if self._unstarted:
            for run_id, kind, _ in batch:
                if kind == KIND_START:
                    self._unstarted.pop(run_id, None)

    def after_fork(self) -> None:
        """In a forked child: fresh locks and an empty queue; the parent writes its own items.

        Only the creates of runs not written yet are queued again, so what the child logs to
        its parent's runs finds them (a create of a run that exists changes nothing).
        """
        self._cond = threading.Condition()
        self._items = [(run_id, KIND_START, start) for run_id, start in self._unstarted.items()]
        self._enqueued = len(self._items)
        self._written = self._flushing = self._paused = 0
        self._errors = []
        self._thread = None
        self._closing = False
        self._writing = False
        self._idle = False
        self._room_waiters = 0

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

    def _ready(self) -> bool:
        return bool(self._items) and not self._paused and not self._writing

    def _take(self) -> list[Item] | None:
        """The next batch, once it is due; None when the queue is closed and empty.

        A batch is due when it is full, when someone flushes, or when its first item has
        waited about `linger_s`: a training loop logs steadily, so a short wait makes far
        fewer, larger transactions. The writer looks at the queue once per linger period, and
        sleeps until woken only after a second of empty looks, so logging calls rarely wake
        it: waking a thread costs the caller a GIL hand-over, which under load costs more than
        the call itself.
        """
        with self._cond:
            deadline: float | None = None
            empty_looks = 0
            while True:
                if not self._items:
                    if self._closing:
                        self._thread = None
                        return None
                    deadline = None
                    empty_looks += 1
                    if empty_looks <= _IDLE_LOOKS:
                        # While runs come and go, look every linger period rather than be
                        # woken by every first item.
                        self._cond.wait(self._linger_s)
                    else:
                        self._idle = True
                        self._cond.wait()  # `put` wakes an idle writer
                        self._idle = False  # also when woken by something else
                        empty_looks = 0  # woken: logging has started again
                    continue
                empty_looks = 0
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self._linger_s
                due = (
                    now >= deadline
                    or self._flushing > 0
                    or self._closing
                    or len(self._items) >= self._batch_size
                )
                if due and self._ready():
                    break
                # Not due yet, or a run's end is writing: look again at the linger's end.
                self._cond.wait(max(deadline - now, 0.001) if not due else self._linger_s)
            batch = self._items[: self._batch_size]
            del self._items[: self._batch_size]
            self._writing = True
            if self._room_waiters:
                self._cond.notify_all()
            return batch

    def _loop(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            errors: list[MloopError] = []
            try:
                errors = write_batch(self._store, batch, self._note_unshared)
            finally:
                with self._cond:
                    self._errors.extend(errors)
                    self._written += len(batch)
                    self._settle_starts(batch)
                    self._writing = False
                    self._cond.notify_all()
