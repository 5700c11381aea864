"""MLflow 3 logged models: a model an MLflow client logged, with its params, tags and metrics.

mloop's own model packages live in `models/`; these entities exist so the MLflow-compatible API
can store what `mlflow.<flavor>.log_model` creates and read it back.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from mloop.entities.experiments import LifecycleStage


class LoggedModelStatus(enum.StrEnum):
    """Where a logged model's upload is; the names are MLflow's proto enum names."""

    UNSPECIFIED = "LOGGED_MODEL_STATUS_UNSPECIFIED"
    PENDING = "LOGGED_MODEL_PENDING"
    READY = "LOGGED_MODEL_READY"
    UPLOAD_FAILED = "LOGGED_MODEL_UPLOAD_FAILED"


@dataclass(frozen=True, slots=True)
class LoggedModelMetric:
    """One metric point recorded against a logged model.

    Attributes:
        key: metric name.
        value: the value (NaN and infinities kept).
        timestamp_ms: when it was measured, milliseconds since the epoch.
        step: the step it belongs to.
        run_id: the run that logged it ("" when none).
        dataset_name: the dataset it was computed on ("" when none).
        dataset_digest: that dataset's digest ("" when none).
    """

    key: str
    value: float
    timestamp_ms: int
    step: int = 0
    run_id: str = ""
    dataset_name: str = ""
    dataset_digest: str = ""


@dataclass(frozen=True, slots=True)
class LoggedModel:
    """A logged model.

    Attributes:
        model_id: `m-` followed by 32 hex characters.
        experiment_id: the experiment it belongs to.
        name: its name (e.g. "model").
        artifact_location: where its files live.
        created_at_ms: creation time, milliseconds since the epoch.
        updated_at_ms: last change, milliseconds since the epoch.
        status: PENDING until the client finalizes it READY (or UPLOAD_FAILED).
        lifecycle_stage: active or deleted.
        source_run_id: the run that logged it, if any.
        model_type: a free-form type the client gave, if any.
        status_message: why the upload failed, if it did.
        params: params by key.
        tags: tags by key.
        metrics: metric points recorded against it.
    """

    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    created_at_ms: int
    updated_at_ms: int
    status: LoggedModelStatus
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    source_run_id: str | None = None
    model_type: str | None = None
    status_message: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: tuple[LoggedModelMetric, ...] = ()


@dataclass(frozen=True, slots=True)
class LoggedModelLink:
    """A run's use of a logged model: as an input, or as an output it produced at a step."""

    run_id: str
    model_id: str
    is_output: bool
    step: int = 0


class LoggedModelPage(list[LoggedModel]):
    """One page of logged models plus the token of the next page.

    Attributes:
        next_page_token: pass it back to get the next page; None on the last page.
    """

    def __init__(
        self, models: Iterable[LoggedModel] = (), next_page_token: str | None = None
    ) -> None:
        super().__init__(models)
        self.next_page_token = next_page_token
