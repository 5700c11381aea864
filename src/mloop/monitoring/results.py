"""Typed drift results and their stable JSON form (schema `mloop.drift/v1`, see docs/drift.md).

A result holds everything a report shows, binned chart data included, so rendering never
recomputes anything and never needs the raw rows.
"""

from __future__ import annotations

import enum
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from mloop.errors import InvalidInputError

SCHEMA = "mloop.drift/v1"


class ColumnStatus(enum.StrEnum):
    """The verdict on one column."""

    DRIFT = "drift"
    NO_DRIFT = "no_drift"
    INSUFFICIENT_DATA = "insufficient_data"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class Chart:
    """Binned reference and current distributions of a column, for display only.

    Attributes:
        kind: "histogram" (labels are bin ranges over `edges`) or "bars" (labels are values).
        labels: one label per bin or category.
        reference: reference share per bin (sums to 1 over present values).
        current: current share per bin.
        edges: bin edges for histograms (len(labels) + 1), empty for bars.
    """

    kind: str
    labels: tuple[str, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]
    edges: tuple[float, ...] = ()


@dataclass(frozen=True)
class RateChange:
    """A change in the share of rows that are missing (or infinite).

    Attributes:
        reference_rate: share in the reference.
        current_rate: share in the current data.
        p_value: two-proportion Z-test p-value.
        adjusted_p_value: after the Benjamini-Hochberg correction (default mode).
        threshold: the smallest absolute change that counts.
        is_drift: the change passes the threshold and is significant.
    """

    reference_rate: float
    current_rate: float
    p_value: float
    adjusted_p_value: float
    threshold: float
    is_drift: bool


@dataclass(frozen=True)
class ColumnDrift:
    """Drift of one column.

    Attributes:
        name: column name.
        kind: "numeric", "categorical" or "unsupported".
        status: the verdict.
        test: hypothesis test used ("ks", "chisquare", "z") or None.
        p_value: the test's p-value.
        adjusted_p_value: the p-value after Benjamini-Hochberg across columns (default mode;
            equal to `p_value` in Evidently mode).
        statistic: the test statistic.
        alpha: significance level (false discovery rate in default mode).
        effect: distance used as effect size ("wasserstein", "jensenshannon", "psi",
            "hellinger") or None.
        effect_size: its value.
        threshold: the effect size at or above which a column can drift.
        reference_count: values the reference contributes (present and finite).
        current_count: values the current data contributes.
        missing: change of the missing-value rate.
        infinite: change of the infinite-value rate (numeric columns).
        chart: binned distributions for the report.
        note: a short explanation of the verdict.
    """

    name: str
    kind: str
    status: ColumnStatus
    test: str | None = None
    p_value: float | None = None
    adjusted_p_value: float | None = None
    statistic: float | None = None
    alpha: float | None = None
    effect: str | None = None
    effect_size: float | None = None
    threshold: float | None = None
    reference_count: int = 0
    current_count: int = 0
    missing: RateChange | None = None
    infinite: RateChange | None = None
    chart: Chart | None = None
    note: str = ""

    @property
    def is_drift(self) -> bool:
        """True when the values drifted (missing-rate drift is reported apart)."""
        return self.status is ColumnStatus.DRIFT

    @property
    def has_rate_drift(self) -> bool:
        """True when the missing or infinite rate changed significantly."""
        return any(rate is not None and rate.is_drift for rate in (self.missing, self.infinite))

    @property
    def score(self) -> float | None:
        """The number Evidently would show: the effect size if any, else the p-value."""
        return self.effect_size if self.effect is not None else self.p_value

    @property
    def severity(self) -> float:
        """Sort key for reports: drifted columns first, larger effects and smaller p first."""
        rank = 2.0 if self.is_drift else (1.0 if self.has_rate_drift else 0.0)
        ratio = 0.0
        if self.effect_size is not None and self.threshold:
            ratio = min(self.effect_size / self.threshold, 1e6)
        elif self.p_value is not None:
            ratio = -math.log10(max(self.p_value, 1e-300))
        return rank * 1e7 + ratio


@dataclass(frozen=True)
class DatasetDrift:
    """The dataset-level verdict.

    Attributes:
        is_drift: the dataset drifted under `rule`.
        rule: "fdr" (any column flagged under Benjamini-Hochberg control) or "share".
        drifted_columns: columns whose values drifted.
        rate_drifted_columns: columns whose missing or infinite rate drifted.
        tested_columns: columns with enough data to test.
        share: drifted_columns / tested_columns.
        drift_share: the share at which the "share" rule fires.
    """

    is_drift: bool
    rule: str
    drifted_columns: int
    rate_drifted_columns: int
    tested_columns: int
    share: float
    drift_share: float


@dataclass(frozen=True)
class MultivariateDrift:
    """A drift test on all columns at once (opt-in).

    Attributes:
        method: "domain_classifier" or "pca_reconstruction".
        score: the classifier's AUC, or the current / reference reconstruction error ratio.
        threshold: the score above which the data drifted.
        p_value: permutation p-value when there is one.
        is_drift: the score passed the threshold.
        columns: the columns used.
    """

    method: str
    score: float
    threshold: float
    p_value: float | None
    is_drift: bool
    columns: tuple[str, ...]


@dataclass(frozen=True)
class DriftReport:
    """Drift between a reference and a current table.

    Attributes:
        mode: "default" (mloop's rule) or "evidently" (Evidently's default choices).
        reference_rows: rows in the reference (or its profile).
        current_rows: rows in the current data.
        dataset: the dataset-level verdict.
        columns: per-column results, most severe first.
        multivariate: results of the opt-in multivariate tests.
        schema: the JSON schema id.
    """

    mode: str
    reference_rows: int
    current_rows: int
    dataset: DatasetDrift
    columns: tuple[ColumnDrift, ...]
    multivariate: tuple[MultivariateDrift, ...] = ()
    schema: str = field(default=SCHEMA)

    @property
    def is_drift(self) -> bool:
        """The dataset-level verdict, or any multivariate test firing."""
        return self.dataset.is_drift or any(m.is_drift for m in self.multivariate)

    def column(self, name: str) -> ColumnDrift:
        """The result for one column.

        Raises:
            KeyError: there is no such column.
        """
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form (non-finite numbers become strings "inf", "-inf" or null)."""
        data = asdict(self)
        data["is_drift"] = self.is_drift
        for column, source in zip(data["columns"], self.columns, strict=True):
            column["is_drift"] = source.is_drift
            column["score"] = source.score
        cleaned: dict[str, Any] = _clean(data)
        return cleaned

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftReport:
        """Read a report written by `to_dict` or `to_json` (e.g. to render it again).

        Raises:
            InvalidInputError: the data is not a `mloop.drift/v1` report.
        """
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise InvalidInputError(
                f"not an mloop drift report (expected schema {SCHEMA!r})", field="report"
            )
        try:
            multivariate = tuple(
                MultivariateDrift(**{**m, "columns": tuple(m["columns"])})
                for m in data["multivariate"]
            )
            return cls(
                str(data["mode"]),
                int(data["reference_rows"]),
                int(data["current_rows"]),
                DatasetDrift(**data["dataset"]),
                tuple(_column_from_dict(column) for column in data["columns"]),
                multivariate,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"malformed drift report: {exc}", field="report") from exc

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def with_multivariate(self, results: tuple[MultivariateDrift, ...]) -> DriftReport:
        """A copy with multivariate results attached."""
        return DriftReport(
            self.mode,
            self.reference_rows,
            self.current_rows,
            self.dataset,
            self.columns,
            self.multivariate + results,
        )


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _number(value: Any) -> Any:
    if value == "inf":
        return math.inf
    if value == "-inf":
        return -math.inf
    return value


def _column_from_dict(data: dict[str, Any]) -> ColumnDrift:
    fields = {k: _number(v) for k, v in data.items() if k not in ("is_drift", "score")}
    fields["status"] = ColumnStatus(fields["status"])
    for key in ("missing", "infinite"):
        if fields[key] is not None:
            fields[key] = RateChange(**{k: _number(v) for k, v in fields[key].items()})
    chart = fields["chart"]
    if chart is not None:
        fields["chart"] = Chart(
            chart["kind"],
            tuple(chart["labels"]),
            tuple(chart["reference"]),
            tuple(chart["current"]),
            tuple(chart["edges"]),
        )
    return ColumnDrift(**fields)
