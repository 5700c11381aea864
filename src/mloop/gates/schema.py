"""The schema gate: the holdout has every column the model's signature and the policy name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mloop.errors import ModelInputError
from mloop.gates.report import GateResult

if TYPE_CHECKING:
    import pandas as pd

    from mloop.gates.policy import Policy
    from mloop.models import Signature


def schema_gate(frame: pd.DataFrame, signature: Signature | None, policy: Policy) -> GateResult:
    """Check the holdout's columns (and their types) against the signature and the policy."""
    from mloop.models.inputs import check_columns, to_columns

    failures: list[str] = []
    needed = list(signature.input_names) if signature is not None else []
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        failures.append(
            f"the holdout lacks signature column(s) {', '.join(missing)} (the model takes "
            f"{', '.join(needed)})"
        )
    roles = [("label", policy.label)]
    roles += [("sensitive attribute", a) for a in policy.sensitive_attributes]
    for role, column in roles:
        if column not in frame.columns:
            failures.append(f"the holdout lacks the {role} column {column}")
    if signature is not None and not missing:
        try:
            check_columns(to_columns(frame[needed], signature), signature)
        except ModelInputError as exc:
            failures.append(f"column {exc.column}: {exc}")
    details = {
        "signature": signature.to_dict() if signature is not None else None,
        "holdout_columns": [str(c) for c in frame.columns],
        "missing": missing,
    }
    if failures:
        return GateResult("schema", "fail", failures[0], tuple(failures), details)
    what = f"all {len(needed)} signature columns" if signature is not None else "no signature;"
    return GateResult(
        "schema", "pass", f"{what} present with their types, label {policy.label}", (), details
    )
