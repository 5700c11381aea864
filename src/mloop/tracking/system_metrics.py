"""Background sampling of CPU and memory use while a run is active."""

from __future__ import annotations

import threading
from collections.abc import Callable

from mloop.entities import Metric
from mloop.entities.clock import now_ms

DEFAULT_INTERVAL_S = 10.0


class SystemMetricsSampler:
    """Samples system and process usage every `interval_s` and hands the points to `sink`.

    Metric keys: `system/cpu_utilization_percentage`, `system/memory_usage_megabytes`,
    `system/memory_usage_percentage`, `system/process_rss_megabytes`; the step counts samples.

    Args:
        sink: receives each sample's metric points (e.g. the client's write queue).
        interval_s: seconds between samples (default: `DEFAULT_INTERVAL_S`, read when the
            sampler is made, so it can be changed at run time).
    """

    def __init__(
        self, sink: Callable[[list[Metric]], None], *, interval_s: float | None = None
    ) -> None:
        import psutil

        self._psutil = psutil
        self._process = psutil.Process()
        self._sink = sink
        self._interval_s = DEFAULT_INTERVAL_S if interval_s is None else interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mloop-system-metrics", daemon=True)
        self._step = 0

    def start(self) -> None:
        """Start sampling; the first sample comes after one interval."""
        self._psutil.cpu_percent(interval=None)  # prime the CPU counter
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling and take one last sample."""
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join(timeout=self._interval_s + 5)

    def sample(self) -> list[Metric]:
        """Take one sample now."""
        stamp = now_ms()
        memory = self._psutil.virtual_memory()
        values = {
            "system/cpu_utilization_percentage": self._psutil.cpu_percent(interval=None),
            "system/memory_usage_megabytes": (memory.total - memory.available) / 2**20,
            "system/memory_usage_percentage": memory.percent,
            "system/process_rss_megabytes": self._process.memory_info().rss / 2**20,
        }
        points = [Metric(key, float(v), stamp, self._step) for key, v in values.items()]
        self._step += 1
        return points

    def _loop(self) -> None:
        while True:
            stopping = self._stop.wait(self._interval_s)
            self._sink(self.sample())
            if stopping:
                return
