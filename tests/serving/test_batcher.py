"""The batcher: concurrent requests merged into one call, answers split back, overload refused."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np
import pytest

from mloop.serving.batcher import Batcher, BatchOptions, ServingOverloadedError, next_wait
from mloop.serving.latency import LatencyModel


class Model:
    """A model that doubles its input and records each call's size (sleeping `delay_s`)."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.calls: list[int] = []
        self.threads: set[str] = set()

    def __call__(self, columns: dict[str, Any]) -> Any:
        self.calls.append(len(columns["x"]))
        self.threads.add(threading.current_thread().name)
        if self.delay_s:
            time.sleep(self.delay_s)
        return columns["x"] * 2


def _columns(values: list[float]) -> dict[str, Any]:
    return {"x": np.asarray(values, dtype=np.float64)}


def test_concurrent_requests_share_calls_and_each_gets_its_own_rows() -> None:
    model = Model(delay_s=0.01)
    batcher = Batcher(model, name="m/1", options=BatchOptions(max_batch_rows=64))

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(batcher.predict(_columns([i, i + 0.5]), 2) for i in range(40))
        )

    answers = asyncio.run(main())
    for i, answer in enumerate(answers):
        assert answer.tolist() == [2 * i, 2 * i + 1]
    assert sum(model.calls) == 80
    assert len(model.calls) < 40  # merged
    assert max(model.calls) <= 64
    # a 10 ms model runs on the batcher's thread, not on the event loop
    assert any(name.startswith("mloop-model-") for name in model.threads)


def test_without_batching_each_request_runs_alone() -> None:
    model = Model()
    batcher = Batcher(model, name="m/1", options=BatchOptions(enabled=False))

    async def main() -> list[Any]:
        return await asyncio.gather(*(batcher.predict(_columns([i]), 1) for i in range(10)))

    assert [a.tolist() for a in asyncio.run(main())] == [[2 * i] for i in range(10)]
    assert model.calls == [1] * 10


def test_a_full_queue_is_refused_with_a_retry_delay() -> None:
    model = Model(delay_s=0.05)
    options = BatchOptions(enabled=False, max_queue_s=0.1)
    batcher = Batcher(model, name="slow/1", options=options)
    batcher.warm(_columns([1.0]), 1, times=2)

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(batcher.predict(_columns([i]), 1) for i in range(10)), return_exceptions=True
        )

    results = asyncio.run(main())
    refused = [r for r in results if isinstance(r, ServingOverloadedError)]
    served = [r for r in results if not isinstance(r, Exception)]
    assert refused
    assert served
    assert all(r.retry_after_s >= 1 for r in refused)
    assert "slow/1 is overloaded" in str(refused[0])
    assert len(model.calls) == 3 + len(served)  # warm-up, then only the admitted requests


def test_a_model_error_reaches_every_request_of_its_batch() -> None:
    def broken(columns: dict[str, Any]) -> Any:
        raise RuntimeError("boom")

    batcher = Batcher(broken, name="m/1")

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(batcher.predict(_columns([1.0]), 1) for _ in range(3)), return_exceptions=True
        )

    assert all(isinstance(r, RuntimeError) for r in asyncio.run(main()))


def test_warming_fits_the_latency_model() -> None:
    batcher = Batcher(Model(delay_s=0.002), name="m/1")
    batcher.warm(_columns([1.0]), 1, times=3)
    assert batcher.latency.samples == 3
    assert batcher.latency.expected_s(1) == pytest.approx(0.002, abs=0.003)


def test_an_idle_model_waits_for_company_only_while_it_pays() -> None:
    latency = LatencyModel()
    for _ in range(5):
        latency.observe(1, 0.004)  # 4 ms a call, whatever its size: all overhead
    options = BatchOptions(max_batch_rows=8, max_latency_s=0.010)
    assert next_wait(latency, options, 1, 0.0) is None  # no arrival rate known yet
    for step in range(10):
        latency.arrived(step * 0.001)  # a request every millisecond
    assert next_wait(latency, options, 1, 0.0) == pytest.approx(0.001)
    # the oldest request's latency bound: 4 ms waited + 1 ms gap + 4 ms call < 10 ms, 6 ms not
    assert next_wait(latency, options, 2, 0.004) == pytest.approx(0.001)
    assert next_wait(latency, options, 2, 0.006) is None
    assert next_wait(latency, options, 8, 0.0) is None  # the batch is full
    cheap = LatencyModel()
    for _ in range(5):
        cheap.observe(1, 0.0002)  # a call costs less than the wait for the next request
    for step in range(10):
        cheap.arrived(step * 0.001)
    assert next_wait(cheap, options, 1, 0.0) is None


def test_requests_arriving_a_little_apart_share_calls_and_get_their_own_answers() -> None:
    model = Model(delay_s=0.004)
    options = BatchOptions(max_batch_rows=64, max_latency_s=0.05)
    batcher = Batcher(model, name="m/1", options=options)
    batcher.warm(_columns([1.0]), 1, times=3)

    async def main() -> list[Any]:
        tasks = []
        for i in range(12):
            tasks.append(asyncio.create_task(batcher.predict(_columns([i]), 1)))
            await asyncio.sleep(0.0005)
        return await asyncio.gather(*tasks)

    answers = asyncio.run(main())
    assert [a.tolist() for a in answers] == [[2 * i] for i in range(12)]
    calls = model.calls[4:]  # after the warm-up
    assert sum(calls) == 12
    assert len(calls) < 12
