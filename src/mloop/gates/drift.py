"""The drift gate: the training data against the holdout, with the drift engine's default rule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.gates.report import GateResult

if TYPE_CHECKING:
    import pandas as pd

    from mloop.gates.policy import DriftGate
    from mloop.monitoring import DriftReport


def compare(
    gate: DriftGate, training: pd.DataFrame, holdout: pd.DataFrame, columns: list[str]
) -> DriftReport:
    """Drift of `columns` between the training data and the holdout."""
    from mloop.monitoring import DriftOptions, detect_drift

    options = DriftOptions(alpha=gate.alpha, columns=tuple(columns))
    return detect_drift(training[columns], holdout[columns], options=options)


def drift_gate(gate: DriftGate, report: DriftReport, *, training_uri: str) -> GateResult:
    """The verdict: at most `max_drifted_columns` columns drifted."""
    drifted = [c for c in report.columns if c.is_drift]
    rows: list[dict[str, Any]] = [
        {
            "column": c.name,
            "status": c.status.value,
            "test": c.test,
            "adjusted_p_value": c.adjusted_p_value,
            "effect": c.effect,
            "effect_size": c.effect_size,
            "threshold": c.threshold,
        }
        for c in report.columns
    ]
    tested = report.dataset.tested_columns
    summary = (
        f"{len(drifted)} of {tested} columns drifted between {training_uri} and the holdout "
        f"(allowed {gate.max_drifted_columns})"
    )
    failures = tuple(
        f"{c.name} drifted ({c.effect} {c.effect_size:.3f} >= {c.threshold:g}, "
        f"adjusted p {c.adjusted_p_value:.2g})"
        if c.effect_size is not None and c.threshold is not None and c.adjusted_p_value is not None
        else f"{c.name} drifted ({c.note})"
        for c in drifted
    )
    passed = len(drifted) <= gate.max_drifted_columns
    return GateResult(
        "drift",
        "pass" if passed else "fail",
        summary,
        () if passed else failures,
        {
            "training_data": training_uri,
            "alpha": gate.alpha,
            "max_drifted_columns": gate.max_drifted_columns,
            "drifted_columns": [c.name for c in drifted],
            "columns": rows,
        },
    )
