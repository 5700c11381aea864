"""The audit store over `/api/v1/audit`."""

from __future__ import annotations

from typing import Any

from mloop.entities import AuditEvent
from mloop.entities.audit import AuditVerification, check_head
from mloop.storage.rest import codec
from mloop.storage.rest.transport import Transport

_BASE = "/api/v1/audit"


class RestAuditStore:
    """The audit log of a remote `mloop server`.

    Args:
        transport: the HTTP client of the server.
    """

    def __init__(self, transport: Transport) -> None:
        self._http = transport

    def append(
        self,
        *,
        actor: str,
        action: str,
        entity: tuple[str, str],
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """Append an event (with authentication on, the server records its user as actor)."""
        body = {
            "actor": actor,
            "action": action,
            "entity_type": entity[0],
            "entity_id": entity[1],
            "details": details or {},
        }
        return codec.audit_event(self._http.request("POST", _BASE, body=body))

    def list(
        self, *, entity: tuple[str, str] | None = None, limit: int | None = None
    ) -> list[AuditEvent]:
        """Events in order, optionally only those about one entity."""
        params: dict[str, Any] = {}
        if entity is not None:
            params.update(entity_type=entity[0], entity_id=entity[1])
        if limit is not None:
            params["limit"] = limit
        data = self._http.request("GET", _BASE, params=params or None)
        return [codec.audit_event(e) for e in data["events"]]

    def verify(self, *, expect_head: str | None = None) -> AuditVerification:
        """Have the server re-compute the chain on its database (see `SqlAuditStore.verify`).

        Raises:
            InvalidInputError: `expect_head` is not a head hash.
        """
        params = None if expect_head is None else {"expect_head": check_head(expect_head)}
        data = self._http.request("GET", f"{_BASE}/verify", params=params)
        return AuditVerification(
            is_intact=bool(data["intact"]),
            checked=int(data["checked"]),
            first_bad_seq=data["first_bad_seq"],
            reason=str(data["reason"]),
            head=str(data["head"]),
            head_seq=int(data["head_seq"]),
        )
