"""`/api/v1/audit`: read the append-only audit log, and append to it."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from pydantic import AfterValidator, Field

from mloop.entities import AuditEvent
from mloop.entities.audit import AuditVerification
from mloop.server.deps import StoreDep, actor_of
from mloop.server.schemas import ERROR_RESPONSES, ApiModel, Key, Text

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=ERROR_RESPONSES)

MAX_DETAILS_BYTES = 64 * 1024


def _storable(details: dict[str, Any]) -> dict[str, Any]:
    # The log stores details as strict JSON: NaN and infinities (which Python's JSON parser
    # lets through) would fail at write time instead of answering 400 here.
    try:
        text = json.dumps(details, allow_nan=False)
    except (ValueError, RecursionError) as exc:
        raise ValueError("details must be JSON without NaN or infinite numbers") from exc
    if len(text) > MAX_DETAILS_BYTES:
        raise ValueError(f"details may hold at most {MAX_DETAILS_BYTES} bytes of JSON")
    return details


class AuditEventOut(ApiModel):
    """One entry of the hash-chained audit log."""

    seq: int
    at_ms: int
    actor: str
    action: str
    entity_type: str
    entity_id: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditEventList(ApiModel):
    """Audit events, oldest first."""

    events: list[AuditEventOut]


class AuditEventIn(ApiModel):
    """An event to append; with authentication on, the actor is the authenticated user."""

    actor: Annotated[Text, Field(max_length=256)] | None = None
    action: Key
    entity_type: Key
    entity_id: Annotated[Text, Field(min_length=1, max_length=256)]
    details: Annotated[
        dict[Annotated[Text, Field(max_length=256)], Any], AfterValidator(_storable)
    ] = Field(default_factory=dict)


class AuditVerificationOut(ApiModel):
    """The outcome of re-computing the hash chain on the server's database."""

    intact: bool
    checked: int
    first_bad_seq: int | None
    reason: str
    head: str
    head_seq: int


def _verification(result: AuditVerification) -> AuditVerificationOut:
    return AuditVerificationOut.model_construct(
        intact=result.is_intact,
        checked=result.checked,
        first_bad_seq=result.first_bad_seq,
        reason=result.reason,
        head=result.head,
        head_seq=result.head_seq,
    )


def _out(event: AuditEvent) -> AuditEventOut:
    return AuditEventOut.model_construct(
        seq=event.seq,
        at_ms=event.at_ms,
        actor=event.actor,
        action=event.action,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        details=event.details,
        prev_hash=event.prev_hash,
        hash=event.hash,
    )


@router.get("")
def list_audit_events(
    store: StoreDep,
    entity_type: Annotated[Text | None, Query(max_length=250)] = None,
    entity_id: Annotated[Text | None, Query(max_length=256)] = None,
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> AuditEventList:
    """Audit events, oldest first; `entity_type` with `entity_id` narrows to one object."""
    entity = (entity_type, entity_id) if entity_type and entity_id else None
    events = store.audit.list(entity=entity, limit=limit)
    return AuditEventList.model_construct(events=[_out(e) for e in events])


@router.post("", status_code=status.HTTP_201_CREATED)
def append_audit_event(body: AuditEventIn, request: Request, store: StoreDep) -> AuditEventOut:
    """Append an event to the log (it cannot be changed or removed afterwards)."""
    event = store.audit.append(
        actor=actor_of(request, body.actor),
        action=body.action,
        entity=(body.entity_type, body.entity_id),
        details=body.details,
    )
    return _out(event)


@router.get("/verify")
def verify_audit_log(
    store: StoreDep,
    expect_head: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9a-fA-F]{64}$",
            description="A head hash taken earlier: verification fails when no event has it.",
        ),
    ] = None,
) -> AuditVerificationOut:
    """Re-compute the whole chain on the server: the first event altered, removed or inserted."""
    return _verification(store.audit.verify(expect_head=expect_head))
