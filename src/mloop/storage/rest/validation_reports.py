"""Validation reports over `/api/v1/models/{name}/versions/{version}/validations`."""

from __future__ import annotations

import builtins
from typing import Any
from urllib.parse import quote

from mloop.entities.gates import StoredValidation
from mloop.entities.registry import validate_model_name
from mloop.storage.rest.transport import Transport


def _path(name: str, version: int) -> str:
    # Checked here: a name with `/` must never address another route.
    return (
        f"/api/v1/models/{quote(validate_model_name(name), safe='')}/versions/{version}/validations"
    )


def _entity(data: dict[str, Any]) -> StoredValidation:
    return StoredValidation(
        id=int(data["id"]),
        name=data["name"],
        version=int(data["version"]),
        policy_digest=data["policy_digest"],
        inputs_digest=data["inputs_digest"],
        holdout=data["holdout"],
        passed=bool(data["passed"]),
        report_digest=data["report_digest"],
        html_digest=data["html_digest"],
        actor=data["actor"],
        created_at_ms=int(data["created_at_ms"]),
        gates=dict(data["gates"]),
    )


class RestValidationReportStore:
    """The validation reports of a remote `mloop server`; the server records the actor.

    Args:
        transport: the HTTP client of the server.
    """

    def __init__(self, transport: Transport) -> None:
        self._http = transport

    def create(
        self,
        name: str,
        version: int,
        *,
        policy_digest: str,
        inputs_digest: str,
        holdout: str,
        passed: bool,
        gates: dict[str, str],
        report_digest: str,
        html_digest: str,
        actor: str,
    ) -> StoredValidation:
        """Record a validation (see `SqlValidationReportStore.create`)."""
        body = {
            "policy_digest": policy_digest,
            "inputs_digest": inputs_digest,
            "holdout": holdout,
            "passed": passed,
            "gates": gates,
            "report_digest": report_digest,
            "html_digest": html_digest,
        }
        data = self._http.request("POST", _path(name, version), body=body, params={"actor": actor})
        return _entity(data)

    def list(self, name: str, version: int) -> builtins.list[StoredValidation]:
        """The validations of `name/version`, newest first."""
        data = self._http.request("GET", _path(name, version))
        return [_entity(v) for v in data["validations"]]

    def find_latest(self, name: str, version: int) -> StoredValidation | None:
        """The newest validation of `name/version`, or None."""
        found = self.list(name, version)
        return found[0] if found else None

    def find_reusable(
        self, name: str, version: int, *, policy_digest: str, inputs_digest: str
    ) -> StoredValidation | None:
        """The newest validation with this policy on these inputs, or None."""
        params = {"policy_digest": policy_digest, "inputs_digest": inputs_digest}
        data = self._http.request("GET", _path(name, version), params=params)
        found = data["validations"]
        return _entity(found[0]) if found else None
