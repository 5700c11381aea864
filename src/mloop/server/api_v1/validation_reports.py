"""`/api/v1/models/{name}/versions/{version}/validations`: validation reports of a version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from mloop.server.deps import StoreDep, actor_of
from mloop.server.schemas import ERROR_RESPONSES, Text
from mloop.server.schemas_gates import (
    ValidationCreate,
    ValidationList,
    ValidationOut,
    from_validation,
)

router = APIRouter(prefix="/api/v1", tags=["validation"], responses=ERROR_RESPONSES)

NamePath = Annotated[str, Path(description="The registered model's name.")]
VersionPath = Annotated[int, Path(ge=1, lt=2**31, description="The version number.")]
DigestQuery = Annotated[Text | None, Query(max_length=64)]
ActorQuery = Annotated[
    str | None,
    Query(max_length=256, description="Who acts (recorded in the audit log without auth)."),
]
_PATH = "/models/{name}/versions/{version}/validations"


@router.post(_PATH, status_code=status.HTTP_201_CREATED)
def create_validation(
    name: NamePath,
    version: VersionPath,
    *,
    body: ValidationCreate,
    request: Request,
    store: StoreDep,
    actor: ActorQuery = None,
) -> ValidationOut:
    """Record a validation of the version (audited as `model_version.validate`)."""
    created = store.validation_reports.create(
        name,
        version,
        policy_digest=body.policy_digest,
        inputs_digest=body.inputs_digest,
        holdout=body.holdout,
        passed=body.passed,
        gates=dict(body.gates),
        report_digest=body.report_digest,
        html_digest=body.html_digest,
        actor=actor_of(request, actor),
    )
    return from_validation(created)


@router.get(_PATH)
def list_validations(
    name: NamePath,
    version: VersionPath,
    store: StoreDep,
    policy_digest: DigestQuery = None,
    inputs_digest: DigestQuery = None,
) -> ValidationList:
    """The version's validations, newest first; with both digests, only a reusable one."""
    if policy_digest is not None and inputs_digest is not None:
        found = store.validation_reports.find_reusable(
            name, version, policy_digest=policy_digest, inputs_digest=inputs_digest
        )
        return ValidationList(validations=[from_validation(found)] if found else [])
    listed = store.validation_reports.list(name, version)
    return ValidationList(validations=[from_validation(v) for v in listed])
