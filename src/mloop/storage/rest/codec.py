"""Entities to and from the JSON of `/api/v1`; non-finite floats travel as strings."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from mloop.entities import (
    AuditEvent,
    Experiment,
    LifecycleStage,
    Metric,
    Param,
    Run,
    RunInput,
    RunStatus,
    RunTag,
)


def encode_float(value: float) -> float | str:
    """A float as JSON can carry it: NaN and infinities become "NaN", "Infinity", "-Infinity"."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def decode_float(value: float | str) -> float:
    """The inverse of `encode_float` (float() reads "NaN" and "Infinity" as they are)."""
    return float(value)


def experiment(data: dict[str, Any]) -> Experiment:
    """An experiment from its JSON."""
    return Experiment(
        experiment_id=data["experiment_id"],
        name=data["name"],
        artifact_location=data["artifact_location"],
        lifecycle_stage=LifecycleStage(data["lifecycle_stage"]),
        created_at_ms=data["created_at_ms"],
        updated_at_ms=data["updated_at_ms"],
        tags=data["tags"],
    )


def run(data: dict[str, Any]) -> Run:
    """A run from its JSON."""
    return Run(
        run_id=data["run_id"],
        experiment_id=data["experiment_id"],
        run_name=data["run_name"],
        status=RunStatus(data["status"]),
        start_time_ms=data["start_time_ms"],
        end_time_ms=data["end_time_ms"],
        lifecycle_stage=LifecycleStage(data["lifecycle_stage"]),
        artifact_uri=data["artifact_uri"],
        user_id=data["user_id"],
        parent_run_id=data["parent_run_id"],
        params=data["params"],
        metrics={k: float(v) for k, v in data["metrics"].items()},
        tags=data["tags"],
        inputs=tuple(
            RunInput(i["name"], i["digest"], i["source"], i["context"]) for i in data["inputs"]
        ),
    )


def audit_event(data: dict[str, Any]) -> AuditEvent:
    """An audit event from its JSON."""
    return AuditEvent(
        seq=data["seq"],
        at_ms=data["at_ms"],
        actor=data["actor"],
        action=data["action"],
        entity_type=data["entity_type"],
        entity_id=data["entity_id"],
        details=data["details"],
        prev_hash=data["prev_hash"],
        hash=data["hash"],
    )


def batch(
    metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> dict[str, Any]:
    """The body of a log-batch request."""
    return {
        "metrics": [
            {
                "key": m.key,
                "value": m.value if math.isfinite(m.value) else encode_float(m.value),
                "timestamp_ms": m.timestamp_ms,
                "step": m.step,
            }
            for m in metrics
        ],
        "params": [{"key": p.key, "value": p.value} for p in params],
        "tags": [{"key": t.key, "value": t.value} for t in tags],
    }


def run_input(item: RunInput) -> dict[str, str]:
    """A dataset reference as JSON."""
    return {
        "name": item.name,
        "digest": item.digest,
        "source": item.source,
        "context": item.context,
    }
