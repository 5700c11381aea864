"""Request and response bodies of the model registry endpoints (`/api/v1/models`)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from mloop.entities import ModelVersion, RegisteredModel
from mloop.entities.gates import (
    MAX_FAILURE_CHARS,
    MAX_OVERRIDE_FAILURES,
    MAX_OVERRIDE_REASON_CHARS,
)
from mloop.server.schemas import ApiModel, Key, RunId, RunInputModel, TagValue, Text

Description = Annotated[Text, Field(max_length=5000)]


class ModelCreate(ApiModel):
    """A new registered model."""

    name: Annotated[Text, Field(min_length=1, max_length=250)]
    description: Description = ""
    tags: dict[Key, TagValue] = Field(default_factory=dict)


class RenameIn(ApiModel):
    """A model's new name."""

    new_name: Annotated[Text, Field(min_length=1, max_length=250)]


class DescriptionIn(ApiModel):
    """A new description."""

    description: Description


class VersionCreate(ApiModel):
    """A new version of a model: where its package is and what produced it."""

    source: Annotated[Text, Field(min_length=1, max_length=1000)]
    run_id: RunId | None = None
    package_digest: Annotated[Text, Field(max_length=128)] = ""
    signature: dict[str, Any] | None = None
    description: Description = ""
    tags: dict[Key, TagValue] = Field(default_factory=dict)


class AliasIn(ApiModel):
    """The version an alias points at."""

    version: Annotated[int, Field(ge=1, lt=2**31)]


class OverrideIn(ApiModel):
    """An admin's promotion of a version despite failing validation gates."""

    version: Annotated[int, Field(ge=1, lt=2**31)]
    reason: Annotated[Text, Field(min_length=1, max_length=MAX_OVERRIDE_REASON_CHARS)]
    failures: list[Annotated[Text, Field(max_length=MAX_FAILURE_CHARS)]] = Field(
        default_factory=list, max_length=MAX_OVERRIDE_FAILURES
    )
    report_digest: Annotated[Text | None, Field(max_length=64)] = None


class OverrideOut(ApiModel):
    """What an override did: the version the alias pointed at before (null: none)."""

    previous: int | None


class ProtectionIn(ApiModel):
    """Whether an alias may only point at approved versions."""

    protected: bool = True


class RegistryTagIn(ApiModel):
    """A tag of a model, or of one of its versions."""

    key: Key
    value: TagValue
    version: Annotated[int, Field(ge=1, lt=2**31)] | None = None


class ApprovalIn(ApiModel):
    """A sign-off of a version."""

    comment: Description = ""


class RegistrySearchIn(ApiModel):
    """A search of models or versions (the search grammar of docs/search.md)."""

    filter: Text | None = None
    order_by: Annotated[list[Annotated[Text, Field(max_length=500)]], Field(max_length=20)] = Field(
        default_factory=list
    )
    # Type and bounds are the store's to check, so the answer is the same error everywhere.
    max_results: Annotated[Any, WithJsonSchema({"type": "integer", "default": 100})] = 100
    page_token: Text | None = None


class ApprovalOut(ApiModel):
    """A recorded sign-off."""

    actor: str
    at_ms: int
    comment: str


class ModelOut(ApiModel):
    """A registered model."""

    name: str
    description: str
    created_at_ms: int
    updated_at_ms: int
    tags: dict[str, str]
    aliases: dict[str, int]
    protected_aliases: list[str]
    latest_version: int


class VersionOut(ApiModel):
    """A model version with its lineage."""

    name: str
    version: int
    source: str
    run_id: str | None
    package_digest: str
    signature: dict[str, Any] | None
    description: str
    user_id: str
    created_at_ms: int
    updated_at_ms: int
    tags: dict[str, str]
    aliases: list[str]
    approvals: list[ApprovalOut]
    datasets: list[RunInputModel]


class ModelPageOut(ApiModel):
    """A page of models."""

    models: list[ModelOut]
    next_page_token: str | None = None


class VersionPageOut(ApiModel):
    """A page of versions."""

    versions: list[VersionOut]
    next_page_token: str | None = None


def from_model(model: RegisteredModel) -> ModelOut:
    """The API form of a registered model."""
    return ModelOut.model_construct(
        name=model.name,
        description=model.description,
        created_at_ms=model.created_at_ms,
        updated_at_ms=model.updated_at_ms,
        tags=model.tags,
        aliases=model.aliases,
        protected_aliases=list(model.protected_aliases),
        latest_version=model.latest_version,
    )


def from_version(version: ModelVersion) -> VersionOut:
    """The API form of a model version."""
    return VersionOut.model_construct(
        name=version.name,
        version=version.version,
        source=version.source,
        run_id=version.run_id,
        package_digest=version.package_digest,
        signature=version.signature,
        description=version.description,
        user_id=version.user_id,
        created_at_ms=version.created_at_ms,
        updated_at_ms=version.updated_at_ms,
        tags=version.tags,
        aliases=list(version.aliases),
        approvals=[
            ApprovalOut.model_construct(actor=a.actor, at_ms=a.at_ms, comment=a.comment)
            for a in version.approvals
        ],
        datasets=[
            RunInputModel.model_construct(
                name=d.name, digest=d.digest, source=d.source, context=d.context
            )
            for d in version.datasets
        ],
    )
