"""The latency and size gates: p95 of single-row predictions in-process, the package's bytes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from mloop.gates.report import GateResult

if TYPE_CHECKING:
    import pandas as pd

    from mloop.gates.policy import LatencyGate
    from mloop.models import LoadedModel

_WARMUP = 3
MEGABYTE = 1_000_000
"""Bytes in the megabyte of `gates.size.max_mb`."""


def latency_gate(gate: LatencyGate, model: LoadedModel, features: pd.DataFrame) -> GateResult:
    """Time `gate.rows` single-row predictions (holdout rows, cycled) after a short warm-up."""
    count = min(gate.rows, len(features)) or 1
    singles = [features.iloc[[i % max(len(features), 1)]] for i in range(count)]
    for row in singles[:_WARMUP]:
        model.predict(row)
    timings = np.empty(len(singles))
    for i, row in enumerate(singles):
        started = time.perf_counter()
        model.predict(row)
        timings[i] = (time.perf_counter() - started) * 1000.0
    p50, p95 = (float(v) for v in np.percentile(timings, [50, 95]))
    numbers = f"p95 {p95:.2f} ms (p50 {p50:.2f} ms, {len(singles)} rows, {model.backend})"
    passed = p95 <= gate.p95_ms
    failure = () if passed else (f"{numbers} > budget {gate.p95_ms:g} ms",)
    return GateResult(
        "latency",
        "pass" if passed else "fail",
        f"{numbers}, budget {gate.p95_ms:g} ms",
        failure,
        {
            "p50_ms": p50,
            "p95_ms": p95,
            "max_ms": float(timings.max()),
            "rows": len(singles),
            "budget_ms": gate.p95_ms,
            "backend": model.backend,
        },
    )


def size_gate(max_mb: float, size_bytes: int) -> GateResult:
    """The package's files may total at most `max_mb` megabytes (10^6 bytes)."""
    size_mb = size_bytes / MEGABYTE
    numbers = f"package {size_mb:.3f} MB, limit {max_mb:g} MB"
    passed = size_mb <= max_mb
    return GateResult(
        "size",
        "pass" if passed else "fail",
        numbers,
        () if passed else (f"package {size_mb:.3f} MB > limit {max_mb:g} MB",),
        {"size_bytes": size_bytes, "max_mb": max_mb},
    )
