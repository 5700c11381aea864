"""Writer processes for the concurrency and crash tests (importable under the spawn start method).

Run as `python -m tests.storage.sql.writers URL ARTIFACT_ROOT RUN_ID` it logs batches to one run
forever and prints the index of each batch once `log_batch` has returned (acknowledged).
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from typing import Any

from mloop.entities import Metric, Param, RunTag
from mloop.storage.sql.store import SqlStore

SHARED_KEY = "shared_step"


@dataclass(frozen=True)
class Plan:
    """What each concurrent writer logs, so the test can compute the exact expected counts."""

    batches: int = 25
    own_points: int = 40  # metric points per batch on the writer's own run
    shared_points: int = 5  # metric points per batch on the shared run
    metric_keys: int = 8  # keys the own points cycle through (the same keys in every writer)


def own_batch(plan: Plan, writer: int, batch: int) -> dict[str, Any]:
    """Batch `batch` of `writer` for its own run."""
    return {
        "metrics": [
            Metric(
                f"m{p % plan.metric_keys}", float(batch * 1000 + p), 1_000 + batch, batch * 1000 + p
            )
            for p in range(plan.own_points)
        ],
        "params": [Param("writer", str(writer)), Param("plan", "v1")],
        "tags": [RunTag("progress", str(batch))],
    }


def shared_batch(plan: Plan, writer: int, batch: int) -> dict[str, Any]:
    """Batch `batch` of `writer` for the run every writer shares."""
    step = writer * 10_000 + batch
    return {
        "metrics": [
            *(
                Metric(f"w{writer}", float(p), 1_000 + batch, batch * 100 + p)
                for p in range(plan.shared_points)
            ),
            Metric(SHARED_KEY, float(step), 1_000, step),
        ],
        "params": [Param("shared", "same for everyone")],
        "tags": [RunTag(f"w{writer}.b{batch}", "done"), RunTag("last_writer", str(writer))],
    }


def write(
    url: str,
    artifact_root: str,
    *,
    writer: int,
    own_run_id: str,
    shared_run_id: str,
    plan: Plan,
    start: Any,
    results: Any,
) -> None:
    """Body of one writer: wait for the others, then interleave batches to both runs."""
    try:
        store = SqlStore(url, artifact_root=artifact_root)
        store.runs.create("0", run_id=own_run_id, run_name=f"writer-{writer}")
        start.wait()
        for batch in range(plan.batches):
            store.runs.log_batch(own_run_id, **own_batch(plan, writer, batch))
            store.runs.log_batch(shared_run_id, **shared_batch(plan, writer, batch))
        store.close()
        results.put((writer, ""))
    except BaseException:  # noqa: BLE001 - every failure must reach the test, whatever it is
        results.put((writer, traceback.format_exc()))


def create(url: str, artifact_root: str, *, start: Any, results: Any) -> None:
    """Open (and so create) a store as soon as the other creators are ready."""
    try:
        start.wait()
        store = SqlStore(url, artifact_root=artifact_root)
        names = [e.name for e in store.experiments.list()]
        store.close()
        results.put(("ok", names))
    except BaseException:  # noqa: BLE001 - every failure must reach the test, whatever it is
        results.put(("error", traceback.format_exc()))


def stream(url: str, artifact_root: str, run_id: str) -> None:
    """Log numbered batches forever, printing each index once it is acknowledged."""
    store = SqlStore(url, artifact_root=artifact_root)
    batch = 0
    while True:
        store.runs.log_batch(
            run_id,
            metrics=[Metric(f"k{p}", float(batch), 1_000 + batch, batch) for p in range(20)],
            tags=[RunTag(f"b{batch}", "acked")],
        )
        print(batch, flush=True)
        batch += 1


if __name__ == "__main__":
    stream(*sys.argv[1:4])
