"""A stored validation of a model version: which policy, on which data, and whether it passed."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class StoredValidation:
    """The row kept for one validation report (the report itself is a blob).

    Attributes:
        id: the row id (increasing).
        name: the registered model's name.
        version: the version number validated.
        policy_digest: SHA-256 of the policy as parsed (comments and layout do not count).
        inputs_digest: SHA-256 over what the verdict depended on besides the policy: the holdout
            and training data versions, the champion's package and the approval state.
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
