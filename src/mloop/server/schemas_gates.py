"""Request and response bodies of the validation report endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from mloop.entities.gates import StoredValidation
from mloop.server.schemas import ApiModel, Text

Digest = Annotated[Text, Field(min_length=1, max_length=64)]
BlobDigest = Annotated[Text, Field(min_length=1, max_length=128)]
GateName = Annotated[Text, Field(min_length=1, max_length=64)]
Status = Literal["pass", "fail", "error"]


class ValidationCreate(ApiModel):
    """A validation to record (its report and HTML page are already in the blob store)."""

    policy_digest: Digest
    inputs_digest: Digest
    holdout: Annotated[Text, Field(min_length=1, max_length=1000)]
    passed: bool
    gates: Annotated[dict[GateName, Status], Field(max_length=32)]
    report_digest: BlobDigest
    html_digest: BlobDigest


class ValidationOut(ApiModel):
    """A stored validation of a model version."""

    id: int
    name: str
    version: int
    policy_digest: str
    inputs_digest: str
    holdout: str
    passed: bool
    gates: dict[str, str]
    report_digest: str
    html_digest: str
    actor: str
    created_at_ms: int


class ValidationList(ApiModel):
    """Validations of a model version, newest first."""

    validations: list[ValidationOut]


def from_validation(found: StoredValidation) -> ValidationOut:
    """The response body of a stored validation."""
    return ValidationOut(
        id=found.id,
        name=found.name,
        version=found.version,
        policy_digest=found.policy_digest,
        inputs_digest=found.inputs_digest,
        holdout=found.holdout,
        passed=found.passed,
        gates=found.gates,
        report_digest=found.report_digest,
        html_digest=found.html_digest,
        actor=found.actor,
        created_at_ms=found.created_at_ms,
    )
