"""The adaptive micro-batcher: concurrent requests to one model merged into one call.

Requests queue while the model is busy; when it is free, everything queued (up to
`max_batch_rows`) runs as one batch, so batches grow with load and cost nothing at low load.
When the model is idle, the batcher may also wait a little for more requests, in the spirit of
BentoML: with latency = a * rows + b fitted over recent batches, it waits one expected
inter-arrival gap at a time while that gap is shorter than the fixed cost `b` a separate batch
would pay and the oldest request still meets `max_latency_s`. A request that arrives to a queue
that could not be served within `max_queue_s` is refused at once (`ServingOverloadedError`, an
HTTP 503 with Retry-After) instead of growing an unbounded queue.

Batches whose expected latency is tiny (ONNX Runtime on a small model: tens of microseconds)
run on the event loop itself; slower ones run on a dedicated thread, so the loop keeps parsing
the next requests meanwhile. Everything here runs on one event loop; nothing is thread-safe.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.errors import MloopError
from mloop.serving.latency import LatencyModel

if TYPE_CHECKING:
    import numpy as np

    from mloop.models.inputs import Columns

# A batch expected to finish faster than this runs on the event loop (a thread hop costs more).
INLINE_BELOW_S = 0.002


class ServingOverloadedError(MloopError):
    """The server's queue for a model is full; the client should retry after `retry_after_s`.

    Attributes:
        retry_after_s: whole seconds after which a retry is likely to be served.
    """

    def __init__(self, model: str, retry_after_s: int) -> None:
        super().__init__(
            f"model {model} is overloaded: its queue would not be served within its latency "
            f"bound; retry after {retry_after_s} s or add workers (mloop serve --workers)"
        )
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """How requests to one model are merged.

    Attributes:
        enabled: merge concurrent requests; off, each request runs alone (still queued).
        max_batch_rows: the largest batch, in rows (one request is never split).
        max_latency_s: the most a request may wait for others to join its batch.
        max_queue_s: refuse requests when the queue ahead would take longer than this.
        max_queue_rows: refuse requests when this many rows are already queued.
    """

    enabled: bool = True
    max_batch_rows: int = 256
    max_latency_s: float = 0.005
    max_queue_s: float = 2.0
    max_queue_rows: int = 65_536


BatchHook = Callable[[int, int, float], None]
"""Called after each batch with (requests, rows, seconds): metrics hang here."""

ResultHook = Callable[["Columns", Any, list[tuple[Any, int, float]]], None]
"""Called after each batch with its merged columns, its output and, per request in order,
(tag, rows, seconds from arrival to answer): the prediction log hangs here, once per batch."""


@dataclass(slots=True)
class _Pending:
    columns: Columns
    rows: int
    future: asyncio.Future[Any]
    arrived: float
    tag: Any = None


class Batcher:
    """Merges concurrent requests to one model into batches.

    Args:
        run: runs the model on checked, merged columns; returns one output row per input row
            (a 1-D array, or 2-D with one row per input row).
        name: the model version, for error messages.
        options: batching knobs.
        on_batch: called after each batch (requests, rows, seconds).
        on_result: called after each batch with its inputs and outputs (see `ResultHook`).
    """

    def __init__(
        self,
        run: Callable[[Columns], Any],
        *,
        name: str,
        options: BatchOptions | None = None,
        on_batch: BatchHook | None = None,
        on_result: ResultHook | None = None,
    ) -> None:
        self._run = run
        self.name = name
        self.options = options or BatchOptions()
        self.latency = LatencyModel()
        self._on_batch = on_batch
        self.on_result = on_result
        self._queue: deque[_Pending] = deque()
        self._queued_rows = 0
        self._running = False
        self._executor: ThreadPoolExecutor | None = None
        self._arrival = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._retired = False
        self._task: asyncio.Task[None] | None = None

    @property
    def queued_rows(self) -> int:
        """Rows waiting for the model."""
        return self._queued_rows

    def warm(self, columns: Columns, rows: int, *, times: int = 5) -> None:
        """Run the model on an example a few times, outside any event loop, to fit the latency.

        The first call pays one-time costs (ONNX Runtime's graph preparation, caches), so it is
        not counted.
        """
        self._run(columns)
        for _ in range(times):
            self.latency.observe(rows, self._timed(columns)[1])

    def _timed(self, columns: Columns) -> tuple[Any, float]:
        """The model's output and the time of the call itself (on whichever thread runs it).

        Timing inside the call keeps the thread hop and the wait for the GIL out of the latency
        model; were they counted, a model pushed onto the thread once by a hiccup would look
        slow forever and never come back to the event loop.
        """
        start = time.perf_counter()
        output = self._run(columns)
        return output, time.perf_counter() - start

    async def predict(self, columns: Columns, rows: int, *, tag: Any = None) -> Any:
        """The model's output for one request's checked columns, batched with others.

        Args:
            columns: the request's checked columns.
            rows: how many rows they hold.
            tag: handed to the result hook with this request's rows (its id, say).

        Raises:
            ServingOverloadedError: the queue is past its bounds.
            MloopError: the model failed on the batch (every request in it gets the error).
        """
        self._admit(rows)
        loop = self._loop = asyncio.get_running_loop()
        now = time.monotonic()
        self.latency.arrived(now)
        pending = _Pending(columns, rows, loop.create_future(), now, tag)
        self._queue.append(pending)
        self._queued_rows += rows
        if self._running:
            self._arrival.set()
        else:
            self._running = True
            self._task = loop.create_task(self._drain())
        return await pending.future

    def _admit(self, rows: int) -> None:
        options = self.options
        queued = self._queued_rows
        if not queued:
            return
        total = queued + rows
        if options.enabled:
            batches = math.ceil(total / max(options.max_batch_rows, 1))
        else:
            batches = len(self._queue) + 1  # every request is a batch of its own
        expected = batches * self.latency.expected_s(math.ceil(total / batches))
        if queued + rows > options.max_queue_rows or expected > options.max_queue_s:
            raise ServingOverloadedError(self.name, max(1, math.ceil(expected)))

    async def _drain(self) -> None:
        try:
            while self._queue:
                await self._gather()
                batch = self._take()
                await self._execute(batch)
        finally:
            self._running = False
            if self._retired:
                self.close()

    async def _gather(self) -> None:
        """Wait for more requests while the latency model says it pays (see the module doc)."""
        if not self.options.enabled:
            return
        oldest = self._queue[0].arrived
        while True:
            wait = next_wait(
                self.latency, self.options, self._queued_rows, time.monotonic() - oldest
            )
            if wait is None:
                return
            self._arrival.clear()
            try:
                await asyncio.wait_for(self._arrival.wait(), timeout=wait)
            except TimeoutError:
                return  # nobody came within the expected gap: waiting longer is a bet, not a plan

    def _take(self) -> list[_Pending]:
        options = self.options
        batch = [self._queue.popleft()]
        rows = batch[0].rows
        if options.enabled:
            while self._queue and rows + self._queue[0].rows <= options.max_batch_rows:
                item = self._queue.popleft()
                batch.append(item)
                rows += item.rows
        self._queued_rows -= rows
        return batch

    async def _execute(self, batch: list[_Pending]) -> None:
        rows = sum(p.rows for p in batch)
        merged = batch[0].columns if len(batch) == 1 else _concatenate([p.columns for p in batch])
        try:
            if self.latency.expected_s(rows) < INLINE_BELOW_S:
                output, seconds = self._timed(merged)
            else:
                loop = asyncio.get_running_loop()
                output, seconds = await loop.run_in_executor(self._thread(), self._timed, merged)
        except Exception as exc:  # noqa: BLE001 - the model's failure goes to its callers
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(exc)
            return
        self.latency.observe(rows, seconds)
        if self._on_batch is not None:
            self._on_batch(len(batch), rows, seconds)
        _deliver(batch, output)
        if self.on_result is not None:
            done = time.monotonic()
            self.on_result(merged, output, [(p.tag, p.rows, done - p.arrived) for p in batch])

    def _thread(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"mloop-model-{self.name}")
        return self._executor

    def retire(self) -> None:
        """No longer routed to: release the model thread once the queue is empty.

        Safe to call from any thread (the service's watcher swaps versions on its own thread).
        """
        loop = self._loop
        if loop is None or loop.is_closed():
            self._retired = True
            return
        loop.call_soon_threadsafe(self._retire_now)

    def _retire_now(self) -> None:
        self._retired = True
        if not self._running:
            self.close()

    def close(self) -> None:
        """Release the model thread (requests still queued are answered first by the caller)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None


def next_wait(
    latency: LatencyModel, options: BatchOptions, queued_rows: int, waited_s: float
) -> float | None:
    """How long an idle model should wait for one more request before running, or None.

    It waits one expected arrival gap while the batch is not full, that gap is shorter than the
    fixed cost `b` a separate batch would pay (so merging saves more than waiting costs), and
    the oldest request, having waited `waited_s`, still meets `max_latency_s`.
    """
    if queued_rows >= options.max_batch_rows:
        return None
    gap = latency.expected_gap_s()
    if gap is None or gap >= latency.overhead_s:
        return None
    if waited_s + gap + latency.expected_s(queued_rows + 1) > options.max_latency_s:
        return None
    return gap


def _concatenate(parts: list[Columns]) -> Columns:
    import numpy as np

    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def _deliver(batch: list[_Pending], output: Any) -> None:
    if len(batch) == 1:
        if not batch[0].future.done():
            batch[0].future.set_result(output)
        return
    offset = 0
    for pending in batch:
        part: np.ndarray[Any, Any] = output[offset : offset + pending.rows]
        offset += pending.rows
        if not pending.future.done():
            pending.future.set_result(part)
