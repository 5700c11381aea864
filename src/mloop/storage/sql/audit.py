"""SQL implementation of the append-only, hash-chained audit log."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, Row, select, text
from sqlalchemy.engine import Connection

from mloop.entities import AuditEvent
from mloop.entities.audit import AuditVerification, chain_hash, check_head
from mloop.entities.clock import now_ms
from mloop.storage.sql import schema
from mloop.storage.sql.engine import read_transaction, with_retries, write_transaction

_events = schema.audit_events
# Serialises appends on PostgreSQL so two writers never chain onto the same predecessor.
_PG_AUDIT_LOCK = 0x6D6C6F6F7061


def append_event(
    conn: Connection,
    *,
    actor: str,
    action: str,
    entity: tuple[str, str],
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event inside the caller's write transaction, so it commits with the change."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK})
    prev = conn.execute(select(_events.c.hash).order_by(_events.c.seq.desc()).limit(1))
    prev_hash = prev.scalar_one_or_none() or ""
    at_ms = now_ms()
    facts = details or {}
    digest = chain_hash(
        prev_hash, at_ms=at_ms, actor=actor, action=action, entity=entity, details=facts
    )
    seq = conn.execute(
        _events.insert()
        .values(
            at_ms=at_ms,
            actor=actor,
            action=action,
            entity_type=entity[0],
            entity_id=entity[1],
            details=json.dumps(facts, sort_keys=True, allow_nan=False),
            prev_hash=prev_hash,
            hash=digest,
        )
        .returning(_events.c.seq)
    ).scalar_one()
    return AuditEvent(
        seq=int(seq),
        at_ms=at_ms,
        actor=actor,
        action=action,
        entity_type=entity[0],
        entity_id=entity[1],
        details=facts,
        prev_hash=prev_hash,
        hash=digest,
    )


class SqlAuditStore:
    """Reads, appends to and verifies the audit log."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def append(
        self,
        *,
        actor: str,
        action: str,
        entity: tuple[str, str],
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """Append an event in a transaction of its own."""

        def run() -> AuditEvent:
            with write_transaction(self._engine) as conn:
                return append_event(
                    conn, actor=actor, action=action, entity=entity, details=details
                )

        return with_retries(run, what=f"recording {action} in the audit log")

    def list(
        self, *, entity: tuple[str, str] | None = None, limit: int | None = None
    ) -> list[AuditEvent]:
        """Events in order, optionally only those about one entity."""
        query = select(_events).order_by(_events.c.seq)
        if entity is not None:
            query = query.where(
                _events.c.entity_type == entity[0], _events.c.entity_id == entity[1]
            )
        if limit is not None:
            query = query.limit(limit)
        with read_transaction(self._engine) as conn:
            return [_to_entity(row) for row in conn.execute(query)]

    def verify(self, *, expect_head: str | None = None) -> AuditVerification:
        """Re-compute every hash; report the first event that was altered, removed or inserted.

        Args:
            expect_head: the hash of an event known to be in the log (a head printed by an
                earlier verify and kept elsewhere). When no intact event has it, the newest
                events were removed, or the log was rebuilt, since that head was taken.
        """
        if expect_head is not None:
            expect_head = check_head(expect_head)
        prev_hash = ""
        checked = head_seq = 0
        anchored = expect_head is None
        with read_transaction(self._engine) as conn:
            for row in conn.execute(select(_events).order_by(_events.c.seq)):
                reason = _check(row, prev_hash)
                if reason:
                    return AuditVerification(False, checked, row.seq, reason, prev_hash, head_seq)
                prev_hash, head_seq = row.hash, row.seq
                anchored = anchored or row.hash == expect_head
                checked += 1
        if not anchored:
            reason = (
                f"no event has the expected head hash {expect_head}: the newest events were "
                "removed since that head was taken (or the hash is not one this log printed)"
            )
            return AuditVerification(False, checked, None, reason, prev_hash, head_seq)
        return AuditVerification(True, checked, head=prev_hash, head_seq=head_seq)


def _check(row: Row[Any], prev_hash: str) -> str:
    """Why a stored event does not follow from its predecessor, or "" when it does."""
    if row.prev_hash != prev_hash:
        return "its link to the previous event is broken"
    try:
        # A tampered row may no longer even parse; that is a finding, not a crash.
        event = _to_entity(row)
        expected = chain_hash(
            prev_hash,
            at_ms=event.at_ms,
            actor=event.actor,
            action=event.action,
            entity=(event.entity_type, event.entity_id),
            details=event.details,
        )
    except (TypeError, ValueError):
        return "its details are not the JSON object that was recorded"
    if expected != event.hash:
        return "its content does not match its hash"
    return ""


def _to_entity(row: Row[Any]) -> AuditEvent:
    return AuditEvent(
        seq=row.seq,
        at_ms=row.at_ms,
        actor=row.actor,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        details=json.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
