"""How fast this machine runs Python right now, to compare figures taken on different days.

The machines these benchmarks run on are shared virtual machines whose speed changes from one
session to the next (and within one). Absolute targets (milliseconds, seconds) move with it, so
each benchmark prints this probe beside its figures: a fixed pure-Python workload (integer
loop, dict and string work, JSON round trips), the median of several tries, in milliseconds.
"""

from __future__ import annotations

import json
import statistics
import time


def _workload() -> int:
    total = 0
    for i in range(300_000):
        total += i * i % 7
    table = {f"key-{i}": i for i in range(50_000)}
    total += sum(len(k) for k in table if table[k] % 3 == 0)
    document = {"run": [{"key": f"m{i}", "value": i / 3, "step": i} for i in range(2_000)]}
    for _ in range(10):
        total += len(json.loads(json.dumps(document))["run"])
    return total


def speed_probe(tries: int = 7) -> float:
    """Milliseconds the fixed workload takes here (median of `tries`); lower is faster."""
    times = []
    for _ in range(tries):
        started = time.perf_counter()
        _workload()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    print(f"machine speed probe: {speed_probe():.1f} ms (bench/machine.py; lower is faster)")
