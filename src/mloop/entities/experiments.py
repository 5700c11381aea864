"""The experiment entity: a named group of runs."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class LifecycleStage(enum.StrEnum):
    """Whether an object is live or soft-deleted (restorable until garbage-collected)."""

    ACTIVE = "active"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class Experiment:
    """A named group of runs.

    Attributes:
        experiment_id: decimal string id; "0" is the default experiment named "Default".
        name: unique name.
        artifact_location: URI under which the runs of this experiment keep their artifacts.
        lifecycle_stage: active or deleted.
        created_at_ms: creation time, milliseconds since the epoch.
        updated_at_ms: last change, milliseconds since the epoch.
        tags: experiment tags.
    """

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: LifecycleStage
    created_at_ms: int
    updated_at_ms: int
    tags: dict[str, str] = field(default_factory=dict)
