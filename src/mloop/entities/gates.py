"""A stored validation of a model version: which policy, on which data, and whether it passed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mloop.errors import InvalidInputError

MAX_OVERRIDE_REASON_CHARS = 5000
MAX_OVERRIDE_FAILURES = 1000
MAX_FAILURE_CHARS = 4000


@dataclass(frozen=True, slots=True)
class StoredValidation:
    """The row kept for one validation report (the report itself is a blob).

    Attributes:
        id: the row id (increasing).
        name: the registered model's name.
        version: the version number validated.
        policy_digest: SHA-256 of the policy as parsed (comments and layout do not count).
        inputs_digest: SHA-256 over what the evaluated gates depended on besides the policy: the
            model's package, the holdout and training data versions and the champion's package
            (not the target alias or the approvals, which only the approval gate reads).
        holdout: the holdout dataset version validated on, e.g. `datasets:/churn-holdout/3`.
        passed: True when every gate passed.
        gates: gate name -> status ("pass", "fail" or "error"), in evaluation order.
        report_digest: blob digest of the JSON report.
        html_digest: blob digest of the HTML report.
        actor: who ran the validation.
        created_at_ms: when, milliseconds since the epoch.
    """

    id: int
    name: str
    version: int
    policy_digest: str
    inputs_digest: str
    holdout: str
    passed: bool
    report_digest: str
    html_digest: str
    actor: str
    created_at_ms: int
    gates: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Override:
    """An admin's decision to promote a version despite failing validation gates.

    Attributes:
        reason: why (audited with the alias move; required, not blank).
        failures: the failing gates let through, one line each with its numbers.
        report_digest: blob digest of the validation report that failed, if any.
    """

    reason: str
    failures: tuple[str, ...] = ()
    report_digest: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise InvalidInputError("an override needs a reason (--reason '...')", field="reason")
        if len(self.reason) > MAX_OVERRIDE_REASON_CHARS or "\x00" in self.reason:
            raise InvalidInputError(
                f"an override reason must be at most {MAX_OVERRIDE_REASON_CHARS} characters "
                f"without NUL, got {len(self.reason)}",
                field="reason",
            )
        _check_failures(self.failures)
        if self.report_digest is not None and (
            not isinstance(self.report_digest, str) or len(self.report_digest) > 64
        ):
            raise InvalidInputError(
                "report_digest must be a blob digest (64 hex characters)", field="report_digest"
            )

    def audit_details(self, alias: str) -> dict[str, object]:
        """The details of the `model_version.promote_override` audit event."""
        return {
            "alias": alias,
            "reason": self.reason,
            "failures": list(self.failures),
            "report_digest": self.report_digest,
        }


def _check_failures(failures: Sequence[str]) -> None:
    if len(failures) > MAX_OVERRIDE_FAILURES:
        raise InvalidInputError(
            f"an override lists at most {MAX_OVERRIDE_FAILURES} failures, got {len(failures)}",
            field="failures",
        )
    for line in failures:
        if not isinstance(line, str) or len(line) > MAX_FAILURE_CHARS or "\x00" in line:
            raise InvalidInputError(
                f"each failure must be text of at most {MAX_FAILURE_CHARS} characters without NUL",
                field="failures",
            )
