"""One column's drift assessment, then the decision across all columns.

`assess` runs the tests on a column (phase one, per column, as the data streams by); `decide`
applies the Benjamini-Hochberg correction across every p-value and turns assessments into the
final `DriftReport` (phase two).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from mloop.errors import InvalidInputError
from mloop.monitoring.charts import chart_for
from mloop.monitoring.columns import ColumnKind
from mloop.monitoring.methods import (
    Method,
    MethodValue,
    compute,
    distinct_count,
    evidently_choice,
    ks_and_wasserstein,
)
from mloop.monitoring.results import (
    ColumnDrift,
    ColumnStatus,
    DatasetDrift,
    DriftReport,
    RateChange,
)
from mloop.monitoring.summaries import Summary
from mloop.stats.two_sample import FloatArray, benjamini_hochberg, z_test_proportions

if TYPE_CHECKING:
    from mloop.monitoring.drift import DriftOptions

_FEW_VALUES = 5  # numeric columns with at most this many distinct values are tested as categories


@dataclass(frozen=True)
class Assessment:
    """A column's test results before the cross-column decision.

    Attributes:
        column: the result, with placeholders for what `decide` fills in.
        test_value: the test's p-value and statistic, if a test ran.
        effect_value: the distance, if one was computed.
        missing_p: p-value of the missing-rate change (None without rows).
        infinite_p: p-value of the infinite-rate change (numeric columns only).
        reference_rows: (missing, infinite, all) rows in the reference.
        current_rows: (missing, infinite, all) rows in the current data.
    """

    column: ColumnDrift
    test_value: MethodValue | None
    effect_value: MethodValue | None
    missing_p: float | None
    infinite_p: float | None
    reference_rows: tuple[int, int, int]
    current_rows: tuple[int, int, int]


def _rate(count: int, rows: int, other_count: int, other_rows: int) -> float | None:
    if rows == 0 or other_rows == 0:
        return None
    return z_test_proportions(count, rows, other_count, other_rows).p_value


def _default_methods(
    reference: Summary, current: Summary, options: DriftOptions
) -> tuple[Method, Method, float]:
    distinct = distinct_count(reference, current)
    few = distinct is not None and distinct <= _FEW_VALUES
    if reference.kind is ColumnKind.NUMERIC and not few:
        return Method.KS, Method.WASSERSTEIN, options.numeric_threshold
    test = Method.Z if distinct is not None and distinct <= 2 else Method.CHISQUARE
    return test, Method.JENSENSHANNON, options.categorical_threshold


def _plan(
    reference: Summary,
    current: Summary,
    *,
    evidently: bool,
    method: str | None,
    options: DriftOptions,
) -> tuple[Method | None, Method | None, float]:
    """(test, effect, threshold): which methods run and the effect threshold."""
    chosen = Method(method) if method is not None else None
    if chosen is None and not evidently:
        return _default_methods(reference, current, options)
    if chosen is None:
        chosen = evidently_choice(reference, current)
    if chosen.is_test:
        return chosen, None, options.alpha
    default = (
        options.numeric_threshold
        if reference.kind is ColumnKind.NUMERIC
        else options.categorical_threshold
    )
    return None, chosen, default


def assess(
    name: str,
    reference: Summary,
    current: Summary,
    *,
    evidently: bool,
    method: str | None,
    threshold: float | None,
    options: DriftOptions,
) -> Assessment:
    """Test one column (no decision yet: that needs every column's p-value).

    Raises:
        InvalidInputError: the per-column method does not fit the column's kind.
    """
    missing_p = _rate(reference.missing, reference.rows, current.missing, current.rows)
    infinite_p = None
    if reference.kind is ColumnKind.NUMERIC:
        infinite_p = _rate(reference.infinite, reference.rows, current.infinite, current.rows)
    base = ColumnDrift(
        name,
        reference.kind.value,
        ColumnStatus.NO_DRIFT,
        reference_count=reference.count,
        current_count=current.count,
        alpha=options.alpha,
    )
    rows = (
        (reference.missing, reference.infinite, reference.rows),
        (current.missing, current.infinite, current.rows),
    )
    status, note = _usable(reference, current, options)
    if status is not None:
        column = replace(base, status=status, note=note)
        return Assessment(column, None, None, missing_p, infinite_p, *rows)
    test, effect, effect_threshold = _plan(
        reference, current, evidently=evidently, method=method, options=options
    )
    if method is not None and Method(method).numeric_only and reference.kind != "numeric":
        raise InvalidInputError(
            f"column {name!r} is {reference.kind.value}; {method} needs numbers: pick "
            "chisquare, z, jensenshannon, psi or hellinger",
            field=name,
        )
    if threshold is not None:
        effect_threshold = threshold
    column = replace(
        base,
        test=test.value if test else None,
        effect=effect.value if effect else None,
        threshold=effect_threshold if effect else None,
        alpha=threshold if (test and not effect and threshold is not None) else options.alpha,
        chart=chart_for(reference, current),
    )
    if (test, effect) == (Method.KS, Method.WASSERSTEIN):
        both = ks_and_wasserstein(reference, current)
        return Assessment(column, both[0], both[1], missing_p, infinite_p, *rows)
    test_value = compute(test, reference, current, evidently=evidently) if test else None
    effect_value = compute(effect, reference, current, evidently=evidently) if effect else None
    return Assessment(column, test_value, effect_value, missing_p, infinite_p, *rows)


def _usable(
    reference: Summary, current: Summary, options: DriftOptions
) -> tuple[ColumnStatus | None, str]:
    if reference.kind is ColumnKind.UNSUPPORTED or current.kind is ColumnKind.UNSUPPORTED:
        return ColumnStatus.UNSUPPORTED, "this column type cannot be tested for drift"
    for side, summary in (("reference", reference), ("current", current)):
        if summary.count < options.min_count:
            return (
                ColumnStatus.INSUFFICIENT_DATA,
                f"the {side} has {summary.count} usable values (need {options.min_count}); "
                "missing and infinite values are not used",
            )
    if reference.kind is not current.kind:
        return (
            ColumnStatus.UNSUPPORTED,
            f"the column is {reference.kind.value} in the reference but {current.kind.value} "
            "in the current data; fix the type before testing drift",
        )
    return None, ""


def _verdict(assessment: Assessment, adjusted_p: float) -> tuple[ColumnStatus, str]:
    column = assessment.column
    reasons: list[str] = []
    is_drift = True
    if assessment.test_value is not None:
        alpha = column.alpha or 0.0
        significant = bool(adjusted_p < alpha)  # NaN compares False: not significant
        is_drift = is_drift and significant
        sign = "<" if significant else ">="
        reasons.append(f"{column.test} p={adjusted_p:.3g} {sign} {alpha:g}")
    if assessment.effect_value is not None:
        threshold = column.threshold or 0.0
        large = assessment.effect_value.value >= threshold
        is_drift = is_drift and large
        sign = ">=" if large else "<"
        reasons.append(f"{column.effect} {assessment.effect_value.value:.3g} {sign} {threshold:g}")
    status = ColumnStatus.DRIFT if is_drift else ColumnStatus.NO_DRIFT
    return status, " and ".join(reasons)


def _rate_change(
    counts: tuple[int, int, int, int], p_value: float | None, adjusted: float, options: DriftOptions
) -> RateChange | None:
    if p_value is None:
        return None
    ref_count, ref_rows, cur_count, cur_rows = counts
    ref_rate, cur_rate = ref_count / ref_rows, cur_count / cur_rows
    is_drift = abs(cur_rate - ref_rate) >= options.missing_threshold and adjusted < options.alpha
    return RateChange(
        ref_rate, cur_rate, p_value, float(adjusted), options.missing_threshold, bool(is_drift)
    )


def _finish(assessment: Assessment, adjusted: FloatArray, options: DriftOptions) -> ColumnDrift:
    column = assessment.column
    ref_missing, ref_infinite, ref_rows = assessment.reference_rows
    cur_missing, cur_infinite, cur_rows = assessment.current_rows
    missing = _rate_change(
        (ref_missing, ref_rows, cur_missing, cur_rows), assessment.missing_p, adjusted[1], options
    )
    infinite = _rate_change(
        (ref_infinite, ref_rows, cur_infinite, cur_rows),
        assessment.infinite_p,
        adjusted[2],
        options,
    )
    column = replace(column, missing=missing, infinite=infinite)
    if column.status in (ColumnStatus.INSUFFICIENT_DATA, ColumnStatus.UNSUPPORTED):
        return column
    status, note = _verdict(assessment, float(adjusted[0]))
    test = assessment.test_value
    return replace(
        column,
        status=status,
        note=note,
        p_value=test.value if test else None,
        adjusted_p_value=float(adjusted[0]) if test else None,
        statistic=test.statistic if test else None,
        effect_size=assessment.effect_value.value if assessment.effect_value else None,
    )


def _p_values(assessment: Assessment) -> list[float]:
    test = assessment.test_value
    return [
        test.value if test is not None else np.nan,
        assessment.missing_p if assessment.missing_p is not None else np.nan,
        assessment.infinite_p if assessment.infinite_p is not None else np.nan,
    ]


def _dataset(columns: list[ColumnDrift], options: DriftOptions) -> DatasetDrift:
    tested = sum(c.status in (ColumnStatus.DRIFT, ColumnStatus.NO_DRIFT) for c in columns)
    drifted = sum(c.is_drift for c in columns)
    rate_drifted = sum(c.has_rate_drift for c in columns)
    share = drifted / tested if tested else 0.0
    if options.rule == "fdr":
        is_drift = drifted > 0 or rate_drifted > 0
    else:
        is_drift = tested > 0 and share >= options.drift_share
    return DatasetDrift(
        is_drift, options.rule, drifted, rate_drifted, tested, share, options.drift_share
    )


def decide(
    assessments: list[Assessment],
    *,
    options: DriftOptions,
    reference_rows: int,
    current_rows: int,
) -> DriftReport:
    """Correct p-values across columns, decide each column and the dataset.

    In default mode every p-value (value tests, missing-rate and infinite-rate tests) joins one
    Benjamini-Hochberg family at `options.alpha`; Evidently mode uses raw p-values.

    Returns:
        The report, most severe columns first.
    """
    raw = np.array([_p_values(a) for a in assessments], dtype=np.float64).reshape(-1, 3)
    if options.mode == "evidently":
        adjusted = raw
    else:
        adjusted = benjamini_hochberg(raw.ravel()).reshape(-1, 3)
    columns = [_finish(a, row, options) for a, row in zip(assessments, adjusted, strict=True)]
    columns.sort(key=lambda column: -column.severity)
    return DriftReport(
        options.mode, reference_rows, current_rows, _dataset(columns, options), tuple(columns)
    )
