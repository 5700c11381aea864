"""SQL implementation of the validation reports kept for model versions."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection, Row

from mloop.entities.clock import now_ms
from mloop.entities.gates import StoredValidation
from mloop.errors import InvalidInputError
from mloop.storage.sql.audit import append_event
from mloop.storage.sql.engine import read_transaction, with_retries, write_transaction
from mloop.storage.sql.registry_rows import model_row, version_row
from mloop.storage.sql.schema_gates import validation_reports
from mloop.storage.sql.schema_registry import model_versions, registered_models

_reports = validation_reports
_COLUMNS = select(
    _reports,
    registered_models.c.name.label("model_name"),
    model_versions.c.version.label("version_number"),
).select_from(
    _reports.join(model_versions, _reports.c.version_id == model_versions.c.id).join(
        registered_models, model_versions.c.model_id == registered_models.c.id
    )
)


def _entity(row: Row[Any]) -> StoredValidation:
    return StoredValidation(
        id=int(row.id),
        name=row.model_name,
        version=int(row.version_number),
        policy_digest=row.policy_digest,
        inputs_digest=row.inputs_digest,
        holdout=row.holdout,
        passed=bool(row.passed),
        report_digest=row.report_digest,
        html_digest=row.html_digest,
        actor=row.actor,
        created_at_ms=int(row.created_at_ms),
        gates=json.loads(row.gates),
    )


def _check_text(value: str, field: str, limit: int) -> None:
    if len(value) > limit or "\x00" in value:
        raise InvalidInputError(
            f"{field} must be at most {limit} characters without NUL, got {len(value)}",
            field=field,
        )


class SqlValidationReportStore:
    """Validation reports of model versions in a SQLite or PostgreSQL database.

    Args:
        engine: the database engine.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

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
        """Record a validation of `name/version` and audit it (`model_version.validate`).

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
            InvalidInputError: a field is too long.
        """
        _check_text(holdout, "holdout", 1000)
        _check_text(actor, "actor", 256)
        for value, field in ((policy_digest, "policy_digest"), (inputs_digest, "inputs_digest")):
            _check_text(value, field, 64)

        def run() -> StoredValidation:
            with write_transaction(self._engine) as conn:
                model = model_row(conn, name, lock=True)
                row = version_row(conn, model.id, name, version)
                inserted = conn.execute(
                    _reports.insert()
                    .values(
                        version_id=row.id,
                        policy_digest=policy_digest,
                        inputs_digest=inputs_digest,
                        holdout=holdout,
                        passed=passed,
                        gates=json.dumps(gates),
                        report_digest=report_digest,
                        html_digest=html_digest,
                        actor=actor,
                        created_at_ms=now_ms(),
                    )
                    .returning(_reports.c.id)
                ).scalar_one()
                append_event(
                    conn,
                    actor=actor,
                    action="model_version.validate",
                    entity=("model_version", f"{name}/{version}"),
                    details={
                        "passed": passed,
                        "gates": gates,
                        "policy_digest": policy_digest,
                        "holdout": holdout,
                        "report_digest": report_digest,
                    },
                )
                return _one(conn, _reports.c.id == inserted)

        return with_retries(run, what=f"recording a validation of {name}/{version}")

    def list(self, name: str, version: int) -> list[StoredValidation]:
        """The validations of `name/version`, newest first.

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError: no such model or version.
        """
        with read_transaction(self._engine) as conn:
            row = version_row(conn, model_row(conn, name).id, name, version)
            rows = conn.execute(
                _COLUMNS.where(_reports.c.version_id == row.id).order_by(_reports.c.id.desc())
            ).all()
            return [_entity(r) for r in rows]

    def find_latest(self, name: str, version: int) -> StoredValidation | None:
        """The newest validation of `name/version`, or None."""
        found = self.list(name, version)
        return found[0] if found else None

    def find_reusable(
        self, name: str, version: int, *, policy_digest: str, inputs_digest: str
    ) -> StoredValidation | None:
        """The newest validation of `name/version` with this policy on these inputs, or None."""
        with read_transaction(self._engine) as conn:
            row = version_row(conn, model_row(conn, name).id, name, version)
            found = conn.execute(
                _COLUMNS.where(
                    _reports.c.version_id == row.id,
                    _reports.c.policy_digest == policy_digest,
                    _reports.c.inputs_digest == inputs_digest,
                )
                .order_by(_reports.c.id.desc())
                .limit(1)
            ).first()
            return _entity(found) if found is not None else None


def _one(conn: Connection, where: Any) -> StoredValidation:
    return _entity(conn.execute(_COLUMNS.where(where)).one())
