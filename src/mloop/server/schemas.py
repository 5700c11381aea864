"""Request and response bodies of `/api/v1` shared by several routers: experiments, runs, values.

Every model mirrors an entity of `mloop.entities`; the `from_*` functions convert without
re-validating what the store already checked. Metric values may be NaN or infinite: JSON has no
such numbers, so they travel as the strings "NaN", "Infinity" and "-Infinity" (both ways).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from mloop.entities import Experiment, LifecycleStage, Metric, Run, RunInput, RunStatus
from mloop.entities.validation import (
    MAX_KEY_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PARAM_VALUE_LENGTH,
    MAX_TAG_VALUE_LENGTH,
)

NON_FINITE = ("NaN", "Infinity", "-Infinity")


def _no_nul(text: str) -> str:
    # PostgreSQL text cannot hold NUL; refusing it here keeps it a 400, not a storage error.
    if "\x00" in text:
        raise ValueError("text may not contain NUL characters")
    return text


Text = Annotated[str, AfterValidator(_no_nul)]
Key = Annotated[str, Field(min_length=1, max_length=MAX_KEY_LENGTH), AfterValidator(_no_nul)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH), AfterValidator(_no_nul)]
ParamValue = Annotated[str, Field(max_length=MAX_PARAM_VALUE_LENGTH), AfterValidator(_no_nul)]
TagValue = Annotated[str, Field(max_length=MAX_TAG_VALUE_LENGTH), AfterValidator(_no_nul)]
RunId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
ExperimentId = Annotated[str, Field(pattern=r"^[0-9]{1,19}$")]
Millis = Annotated[int, Field(ge=0, lt=2**63)]
Step = Annotated[int, Field(ge=-(2**63), lt=2**63)]
JsonFloat = Annotated[
    float,
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "enum": list(NON_FINITE)}]}),
]


class ApiModel(BaseModel):
    """Base of every body: unknown fields are refused, non-finite floats travel as strings."""

    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")


class ErrorBody(ApiModel):
    """What went wrong: a stable code, a message for people, the offending values."""

    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorResponse(ApiModel):
    """Every 4xx and 5xx answer."""

    error: ErrorBody


_ERROR_STATUSES = {
    400: "Bad input (the body names the field); nothing was changed.",
    401: "Credentials are missing or wrong (servers started with --auth).",
    403: "The user lacks the role this needs (servers started with --auth).",
    404: "The experiment, run or other object does not exist.",
    409: "The object exists already, or its state does not allow this.",
    413: "The request body is larger than the server accepts.",
    503: "The database is unavailable or locked; retry later.",
}
# The error answers every route documents, by reference: a `"model"` here would have FastAPI
# build a pydantic adapter for each status of each of the ~80 routes at start-up (most of the
# time spent building them). The referenced schemas are added to the document by
# `error_schemas` (`mloop.server.app`), so /openapi.json is what the models would have given.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": text,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }
    for status, text in _ERROR_STATUSES.items()
}


def error_schemas() -> dict[str, Any]:
    """The OpenAPI component schemas `ERROR_RESPONSES` refers to (ErrorResponse, ErrorBody)."""
    schema = ErrorResponse.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    definitions: dict[str, Any] = schema.pop("$defs", {})
    return {"ErrorResponse": schema, **definitions}


# Experiments -------------------------------------------------------------------------------


class ExperimentOut(ApiModel):
    """An experiment."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: LifecycleStage
    created_at_ms: int
    updated_at_ms: int
    tags: dict[str, str]


class ExperimentList(ApiModel):
    """All experiments, by id."""

    experiments: list[ExperimentOut]


class ExperimentCreate(ApiModel):
    """A new experiment."""

    name: Name
    artifact_location: Text | None = None
    tags: dict[Key, TagValue] = Field(default_factory=dict)


class ExperimentRename(ApiModel):
    """A new name for an experiment."""

    name: Name


class TagIn(ApiModel):
    """A tag to set."""

    key: Key
    value: TagValue


def from_experiment(experiment: Experiment) -> ExperimentOut:
    """The API form of an experiment."""
    return ExperimentOut.model_construct(
        experiment_id=experiment.experiment_id,
        name=experiment.name,
        artifact_location=experiment.artifact_location,
        lifecycle_stage=experiment.lifecycle_stage,
        created_at_ms=experiment.created_at_ms,
        updated_at_ms=experiment.updated_at_ms,
        tags=experiment.tags,
    )


# Runs --------------------------------------------------------------------------------------


class RunInputModel(ApiModel):
    """A dataset a run consumed."""

    name: Name
    digest: Annotated[str, Field(min_length=1, max_length=MAX_KEY_LENGTH)]
    source: Annotated[str, Field(max_length=MAX_TAG_VALUE_LENGTH)] = ""
    context: Annotated[str, Field(max_length=MAX_KEY_LENGTH)] = ""


class RunOut(ApiModel):
    """A run with everything logged to it (metrics: the latest value of each)."""

    run_id: str
    experiment_id: str
    run_name: str
    status: RunStatus
    start_time_ms: int
    end_time_ms: int | None
    lifecycle_stage: LifecycleStage
    artifact_uri: str
    user_id: str
    parent_run_id: str | None
    params: dict[str, str]
    metrics: dict[str, JsonFloat]
    tags: dict[str, str]
    inputs: list[RunInputModel]


def from_run(run: Run) -> RunOut:
    """The API form of a run."""
    return RunOut.model_construct(
        run_id=run.run_id,
        experiment_id=run.experiment_id,
        run_name=run.run_name,
        status=run.status,
        start_time_ms=run.start_time_ms,
        end_time_ms=run.end_time_ms,
        lifecycle_stage=run.lifecycle_stage,
        artifact_uri=run.artifact_uri,
        user_id=run.user_id,
        parent_run_id=run.parent_run_id,
        params=run.params,
        metrics=run.metrics,
        tags=run.tags,
        inputs=[_input(i) for i in run.inputs],
    )


def _input(item: RunInput) -> RunInputModel:
    return RunInputModel.model_construct(
        name=item.name, digest=item.digest, source=item.source, context=item.context
    )


def encode_float(value: float) -> float | str:
    """A float as JSON can carry it: non-finite values become "NaN", "Infinity", "-Infinity"."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def metric_entity(key: str, value: float, timestamp_ms: int, step: int) -> Metric:
    """A metric point from API fields."""
    return Metric(key=key, value=value, timestamp_ms=timestamp_ms, step=step)
