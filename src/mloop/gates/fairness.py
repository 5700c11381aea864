"""The fairness gate: limits on group gaps across every sensitive attribute, per-group tables."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mloop.gates.report import GateResult
from mloop.stats.fairness import FairnessReport, fairness_report

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mloop.gates.policy import FairnessGate

# (policy field, report attribute, "max" or "min", label in messages)
_LIMITS = (
    ("max_demographic_parity_difference", "demographic_parity_difference", "max", "DP difference"),
    ("min_demographic_parity_ratio", "demographic_parity_ratio", "min", "DP ratio"),
    ("max_equalized_odds_difference", "equalized_odds_difference", "max", "EO difference"),
    (
        "max_equal_opportunity_difference",
        "equal_opportunity_difference",
        "max",
        "equal-opportunity difference",
    ),
)


def _gap_failures(gate: FairnessGate, attribute: str, report: FairnessReport) -> list[str]:
    failures = []
    for limit_name, measure, kind, label in _LIMITS:
        limit = getattr(gate, limit_name)
        value = getattr(report, measure)
        if limit is None:
            continue
        if math.isnan(value):
            failures.append(f"{attribute}: {label} is undefined (no group has the rows for it)")
        elif (kind == "max" and value > limit) or (kind == "min" and value < limit):
            sign = ">" if kind == "max" else "<"
            failures.append(f"{attribute}: {label} {value:.4f} {sign} {kind} {limit:g}")
    return failures


def _recall_failures(gate: FairnessGate, attribute: str, report: FairnessReport) -> list[str]:
    if gate.min_group_recall is None:
        return []
    return [
        f"{attribute}={group.group}: recall {group.true_positive_rate:.4f} < min "
        f"{gate.min_group_recall:g} ({group.count} rows)"
        for group in report.groups
        if not math.isnan(group.true_positive_rate)
        and group.true_positive_rate < gate.min_group_recall
    ]


def fairness_gate(
    gate: FairnessGate,
    frame: pd.DataFrame,
    truth: np.ndarray[Any, Any],
    predicted: np.ndarray[Any, Any],
    *,
    attributes: tuple[str, ...],
    positive: Any,
) -> GateResult:
    """Check the limits for each sensitive attribute (a holdout column)."""
    missing = [a for a in attributes if a not in frame.columns]
    if missing:
        return GateResult(
            "fairness",
            "error",
            f"the holdout has no sensitive attribute column(s) {missing}",
            (f"sensitive attribute column(s) {missing} are not in the holdout",),
        )
    failures: list[str] = []
    tables: dict[str, Any] = {}
    headline: list[str] = []
    for attribute in attributes:
        report = fairness_report(truth, predicted, frame[attribute].to_numpy(), positive=positive)
        tables[attribute] = report.to_dict()
        failures += _gap_failures(gate, attribute, report)
        failures += _recall_failures(gate, attribute, report)
        headline.append(
            f"{attribute}: DP diff {report.demographic_parity_difference:.3f}, "
            f"DP ratio {report.demographic_parity_ratio:.3f}, "
            f"EO diff {report.equalized_odds_difference:.3f}"
        )
    limits = {name: getattr(gate, name) for name, *_ in _LIMITS}
    limits["min_group_recall"] = gate.min_group_recall
    return GateResult(
        "fairness",
        "fail" if failures else "pass",
        "; ".join(headline),
        tuple(failures),
        {"limits": limits, "attributes": tables},
    )
