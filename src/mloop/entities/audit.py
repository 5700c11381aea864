"""The audit event: one entry of the append-only, hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from mloop.errors import InvalidInputError


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


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """The outcome of re-computing the audit chain.

    Attributes:
        is_intact: True when every event's hash matches its content and predecessor (and the
            expected head, when one was given, is among them).
        checked: how many events were checked.
        first_bad_seq: the first event that does not match, when one does not.
        reason: what was wrong.
        head: the hash of the newest event that checked out ("" for an empty log): publish it
            (or keep it elsewhere) and pass it back as `expect_head` to detect later removal of
            the newest events, which the chain alone cannot show.
        head_seq: the position of that event (0 for an empty log).
    """

    is_intact: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    head: str = ""
    head_seq: int = 0


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


def check_head(head: str) -> str:
    """Check a head hash given to `verify`: the 64 lowercase hex characters verify printed.

    Raises:
        InvalidInputError: it is not a SHA-256 in hex.
    """
    text = head.strip().lower() if isinstance(head, str) else ""
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise InvalidInputError(
            f"expected head {str(head)[:80]!r} is not a head hash; pass the 64 hex characters "
            "`mloop audit verify` printed as the head",
            field="expect_head",
        )
    return text
