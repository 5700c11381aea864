"""The audit event: one entry of the append-only, hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One change recorded in the audit log.

    Attributes:
        seq: position in the log, starting at 1.
        at_ms: when it happened, milliseconds since the epoch.
        actor: who did it (user name, token owner or the local OS user).
        action: what was done, e.g. "run.delete".
        entity_type: the kind of object changed ("run", "model" ...).
        entity_id: its id.
        details: extra facts, JSON-serialisable.
        prev_hash: the hash of the previous event ("" for the first).
        hash: SHA-256 over this event's content and `prev_hash`.
    """

    seq: int
    at_ms: int
    actor: str
    action: str
    entity_type: str
    entity_id: str
    details: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""


def chain_hash(
    prev_hash: str,
    *,
    at_ms: int,
    actor: str,
    action: str,
    entity: tuple[str, str],
    details: dict[str, Any],
) -> str:
    """The SHA-256 that links an event to its predecessor.

    The content is serialised canonically (sorted keys, no spaces), so the same event always
    hashes the same on every backend and any later edit of a stored field changes the hash.

    Args:
        prev_hash: hash of the previous event, "" for the first.
        at_ms: event time.
        actor: who did it.
        action: what was done.
        entity: (entity_type, entity_id).
        details: extra facts.

    Returns:
        64 hex characters.
    """
    payload = json.dumps(
        [prev_hash, at_ms, actor, action, entity[0], entity[1], details],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
