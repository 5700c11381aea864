"""Request and response bodies of the run endpoints: lifecycle, logging, history and search."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mloop.entities import RunStatus
from mloop.entities.validation import MAX_BATCH_METRICS, MAX_BATCH_PARAMS, MAX_BATCH_TAGS
from mloop.server.schemas import (
    ApiModel,
    ExperimentId,
    JsonFloat,
    Key,
    Millis,
    Name,
    ParamValue,
    RunId,
    RunInputModel,
    RunOut,
    Step,
    TagIn,
    TagValue,
    Text,
)

MAX_RUN_INPUTS = 100


class RunCreate(ApiModel):
    """A new run; sending the same `run_id` again returns the run unchanged (safe retries)."""

    experiment_id: ExperimentId
    run_name: Name
    run_id: RunId | None = None
    start_time_ms: Millis | None = None
    user_id: Annotated[str, Field(max_length=256)] = ""
    parent_run_id: RunId | None = None
    tags: Annotated[list[TagIn], Field(max_length=MAX_BATCH_TAGS)] = Field(default_factory=list)
    share_artifacts_run_id: RunId | None = Field(
        default=None,
        description="Link this run's files under `share_artifacts_folder` into the new run, "
        "by digest (the client's environment files, uploaded once per process).",
    )
    share_artifacts_folder: Annotated[str, Field(min_length=1, max_length=1000)] = "environment"


class RunUpdate(ApiModel):
    """A change of status, end time or name; a terminal status without an end time ends it now."""

    status: RunStatus | None = None
    end_time_ms: Millis | None = None
    run_name: Name | None = None


class MetricIn(ApiModel):
    """One metric point (timestamp defaults to the server's clock)."""

    key: Key
    value: JsonFloat
    timestamp_ms: Millis | None = None
    step: Step = 0


class ParamIn(ApiModel):
    """A param; logging the same value again is a no-op, another value is a 400."""

    key: Key
    value: ParamValue


class BatchIn(ApiModel):
    """Metrics, params and tags written in one transaction; re-sending a batch is a no-op."""

    metrics: Annotated[list[MetricIn], Field(max_length=MAX_BATCH_METRICS)] = Field(
        default_factory=list
    )
    params: Annotated[list[ParamIn], Field(max_length=MAX_BATCH_PARAMS)] = Field(
        default_factory=list
    )
    tags: Annotated[list[TagIn], Field(max_length=MAX_BATCH_TAGS)] = Field(default_factory=list)


class FinishIn(BatchIn):
    """A run's last batch and its end, written in one transaction.

    With `experiment_id`, a run that does not exist is created first in the same transaction
    (from `run_name`, `start_time_ms`, `user_id`, `parent_run_id` and the shared artifacts, as
    `POST /api/v1/runs` would, with `tags`): a client that chose the run id deferred its create
    and sends a short run's start and end as one request. For a run that exists they are ignored.
    """

    status: RunStatus = Field(description="FINISHED, FAILED or KILLED.")
    end_time_ms: Millis | None = None
    experiment_id: ExperimentId | None = Field(
        default=None,
        description="Create the run in this experiment when it does not exist; `run_name` is "
        "then required.",
    )
    run_name: Name | None = None
    start_time_ms: Millis | None = None
    user_id: Annotated[str, Field(max_length=256)] = ""
    parent_run_id: RunId | None = None
    share_artifacts_run_id: RunId | None = None
    share_artifacts_folder: Annotated[str, Field(min_length=1, max_length=1000)] = "environment"


class InputsIn(ApiModel):
    """Datasets a run consumed."""

    inputs: Annotated[list[RunInputModel], Field(max_length=MAX_RUN_INPUTS)]


class MetricPoint(ApiModel):
    """One point of a metric history."""

    value: JsonFloat
    timestamp_ms: int
    step: int


class MetricHistoryOut(ApiModel):
    """Every point of one metric, by step then timestamp."""

    key: str
    metrics: list[MetricPoint]


class MetricColumnsOut(ApiModel):
    """Every point of one metric as three equally long columns, by step then timestamp."""

    key: str
    steps: list[int]
    timestamps_ms: list[int]
    values: list[JsonFloat]


class SearchIn(ApiModel):
    """A run search; pass `page_token` from the previous page to get the next one."""

    experiment_ids: Annotated[list[ExperimentId], Field(max_length=1000)] | None = None
    filter: Text | None = None
    order_by: Annotated[list[Annotated[Text, Field(max_length=500)]], Field(max_length=20)] = Field(
        default_factory=list
    )
    params: dict[Key, ParamValue] = Field(default_factory=dict)
    tags: dict[Key, TagValue] = Field(default_factory=dict)
    status: RunStatus | None = None
    include_deleted: bool = False
    max_results: Annotated[int, Field(ge=1)] = 1000
    # No length rule here: the store answers an oversized token with its own typed error.
    page_token: Text | None = None


class RunPageOut(ApiModel):
    """One page of search results; `next_page_token` is null on the last page."""

    runs: list[RunOut]
    next_page_token: str | None = None
