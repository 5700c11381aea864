"""The validation policy (`mloop-policy.yaml`): its typed form and its schema check.

A policy names the holdout data, the label, the sensitive attributes and the gates. Every error
names the file, the line and the dotted field (`gates.fairness.min_group_recall`), and unknown
keys are refused, so a typo never silently switches a gate off.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from mloop.data.schema_file import Spec, read_document
from mloop.errors import PolicyFileError, SchemaFileError

POLICY_VERSION = 1
CLASSIFICATION_METRICS = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "log_loss",
    "calibration_error",
)
REGRESSION_METRICS = ("mae", "rmse", "r2", "mape")
LOWER_IS_BETTER = frozenset({"log_loss", "calibration_error", "mae", "rmse", "mape"})
"""Metrics where smaller values are better; the others are better when larger."""
PROBABILITY_METRICS = frozenset({"roc_auc", "log_loss", "calibration_error"})
"""Metrics that need the model's predicted probabilities."""
Task = Literal["classification", "regression"]
ApprovalRule = Literal["always", "protected", "never"]


@dataclass(frozen=True)
class MetricThreshold:
    """A bound on one metric of the holdout, overall or in every segment.

    Attributes:
        metric: a name from the drift engine's performance set (`roc_auc`, `recall`, `mae` ...).
        min: the smallest acceptable value, or None.
        max: the largest acceptable value, or None.
        per_segment: a holdout column; when given, each of its values must meet the bound.
    """

    metric: str
    min: float | None = None
    max: float | None = None
    per_segment: str | None = None


@dataclass(frozen=True)
class ChampionGate:
    """Beat the current holder of an alias by a margin, on a paired bootstrap interval.

    Attributes:
        alias: the alias whose holder is the champion (no holder: the gate passes).
        metric: the metric compared.
        margin: how much better the candidate must be; the interval's lower bound of the
            improvement must reach it (0 means "not worse", negative tolerates a small loss).
        confidence: the interval's confidence level.
        resamples: bootstrap resamples.
        seed: the resampling seed, so a validation is reproducible.
    """

    alias: str = "champion"
    metric: str = "roc_auc"
    margin: float = 0.0
    confidence: float = 0.95
    resamples: int = 1000
    seed: int = 0


@dataclass(frozen=True)
class FairnessGate:
    """Limits across the groups of every sensitive attribute (None: not checked).

    Attributes:
        max_demographic_parity_difference: largest gap in selection rate.
        min_demographic_parity_ratio: smallest ratio of lowest to highest selection rate.
        max_equalized_odds_difference: largest of the TPR and FPR gaps.
        max_equal_opportunity_difference: largest gap in true positive rate.
        min_group_recall: the recall every group must reach.
    """

    max_demographic_parity_difference: float | None = None
    min_demographic_parity_ratio: float | None = None
    max_equalized_odds_difference: float | None = None
    max_equal_opportunity_difference: float | None = None
    min_group_recall: float | None = None


@dataclass(frozen=True)
class DriftGate:
    """No significant drift between the training data and the holdout.

    Attributes:
        training_data: the training dataset version; None takes it from the version's run
            lineage (the input logged with context "training").
        alpha: the drift engine's false discovery rate.
        max_drifted_columns: how many columns may drift before the gate fails.
    """

    training_data: str | None = None
    alpha: float = 0.05
    max_drifted_columns: int = 0


@dataclass(frozen=True)
class LatencyGate:
    """A budget for single-row predictions, measured in-process.

    Attributes:
        p95_ms: the 95th percentile may not exceed this many milliseconds.
        rows: single-row predictions timed (holdout rows, after 3 warm-up calls).
    """

    p95_ms: float
    rows: int = 100


@dataclass(frozen=True)
class Policy:
    """A parsed validation policy.

    Attributes:
        holdout: the holdout dataset version (`datasets:/NAME/N`, `NAME@alias` ...).
        label: the label column of the holdout.
        task: "classification" or "regression".
        positive_label: the favourable class (classification).
        sensitive_attributes: holdout columns the fairness gate groups by.
        schema: check the holdout against the model's signature.
        metrics: metric thresholds.
        champion: the beat-the-champion gate, or None.
        fairness: the fairness gate, or None.
        drift: the drift gate, or None.
        latency: the latency budget, or None.
        max_size_mb: the package size limit in megabytes, or None.
        approval: "always" (an approval is required), "protected" (required when the alias to
            take is protected) or "never".
        source: the file it was read from, if any.
    """

    holdout: str
    label: str
    task: Task = "classification"
    positive_label: Any = 1
    sensitive_attributes: tuple[str, ...] = ()
    schema: bool = True
    metrics: tuple[MetricThreshold, ...] = ()
    champion: ChampionGate | None = None
    fairness: FairnessGate | None = None
    drift: DriftGate | None = None
    latency: LatencyGate | None = None
    max_size_mb: float | None = None
    approval: ApprovalRule = "protected"
    source: str | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The policy as plain data (what the digest and the report hold)."""
        data = asdict(self)
        data.pop("source")
        data["sensitive_attributes"] = list(self.sensitive_attributes)
        return data

    @property
    def digest(self) -> str:
        """SHA-256 of the parsed policy: comments, key order and layout do not change it."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read and check a policy file (YAML, or JSON by suffix).

    Raises:
        PolicyFileError: the file is missing, unreadable or breaks the format; the message
            names the file, line and field.
    """
    source = str(path)
    try:
        document = read_document(Path(path))
    except SchemaFileError as exc:
        raise _policy_error(exc) from exc
    return parse_policy(document, source=source)


def parse_policy(document: object, *, source: str | None = None) -> Policy:
    """Check a policy given as a mapping (as read from YAML or JSON).

    Raises:
        PolicyFileError: it breaks the format.
    """
    if not isinstance(document, dict):
        raise PolicyFileError(
            "a policy must be a mapping with `version`, `holdout`, `label` and `gates`, got "
            f"{type(document).__name__}",
            field="",
            path=source,
        )
    try:
        return _parse(Spec(document, "", source))
    except SchemaFileError as exc:
        raise _policy_error(exc) from exc


def _policy_error(exc: SchemaFileError) -> PolicyFileError:
    """The same complaint as a policy error (the shared document reader speaks of schemas)."""
    head = f"{exc.field or 'schema'}: "
    text = str(exc)
    body = text.split(head, 1)[1] if head in text else text
    return PolicyFileError(body, field=exc.field or "", path=exc.path, line=exc.line)


_TOP_KEYS = {
    "version",
    "holdout",
    "label",
    "task",
    "positive_label",
    "sensitive_attributes",
    "gates",
}
_GATE_KEYS = {"schema", "metrics", "champion", "fairness", "drift", "latency", "size", "approval"}


def _parse(spec: Spec) -> Policy:
    spec.check_keys(_TOP_KEYS)
    version = spec.number("version")
    if version != POLICY_VERSION:
        raise spec.error("version", f"expected {POLICY_VERSION}, got {version!r}")
    task = spec.choice("task", ("classification", "regression"), "classification")
    positive = spec.get("positive_label", 1)
    if not isinstance(positive, str | int | bool):
        raise spec.error("positive_label", f"expected a label (text or integer), got {positive!r}")
    sensitive = _names(spec, "sensitive_attributes")
    gates = spec.child("gates") if spec.data.get("gates") is not None else Spec({}, "gates")
    gates.check_keys(_GATE_KEYS)
    fairness = _fairness(gates) if gates.has("fairness") else None
    if fairness is not None and task != "classification":
        raise gates.error("fairness", "fairness gates need `task: classification`")
    if fairness is not None and not sensitive:
        raise spec.error(
            "sensitive_attributes",
            "the fairness gate needs at least one sensitive attribute (a holdout column)",
        )
    metrics = tuple(_metric(item, task) for item in gates.children("metrics"))
    champion = _champion(gates.child("champion"), task) if gates.has("champion") else None
    return Policy(
        holdout=_text(spec, "holdout"),
        label=_text(spec, "label"),
        task=task,
        positive_label=positive,
        sensitive_attributes=sensitive,
        schema=gates.boolean("schema", True),
        metrics=metrics,
        champion=champion,
        fairness=fairness,
        drift=_drift(gates.child("drift")) if gates.has("drift") else None,
        latency=_latency(gates.child("latency")) if gates.has("latency") else None,
        max_size_mb=_size(gates.child("size")) if gates.has("size") else None,
        approval=_approval(gates),
        source=spec.source,
    )


def _text(spec: Spec, key: str) -> str:
    value: str = spec.string(key)
    if not value.strip():
        raise spec.error(key, "must not be empty")
    return value


def _names(spec: Spec, key: str) -> tuple[str, ...]:
    values = spec.items(key, [])
    for value in values:
        if not isinstance(value, str) or not value:
            raise spec.error(key, f"expected a list of column names, got {value!r}")
    return tuple(values)


def _metric_name(spec: Spec, key: str, task: str) -> str:
    known = CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS
    name: str = spec.string(key)
    if name not in known:
        raise spec.error(key, f"unknown {task} metric {name!r}; expected one of {list(known)}")
    return name


def _metric(spec: Spec, task: str) -> MetricThreshold:
    spec.check_keys({"metric", "min", "max", "per_segment"})
    name = _metric_name(spec, "metric", task)
    low, high = spec.number("min", None), spec.number("max", None)
    if low is None and high is None:
        raise spec.error(None, f"metric {name!r} needs `min` or `max` (or both)")
    if low is not None and high is not None and low > high:
        raise spec.error("min", f"min {low} is above max {high}")
    segment = spec.string("per_segment", None)
    return MetricThreshold(name, low, high, segment)


def _champion(spec: Spec, task: str) -> ChampionGate:
    spec.check_keys({"alias", "metric", "margin", "confidence", "resamples", "seed"})
    default = "roc_auc" if task == "classification" else "rmse"
    metric = _metric_name(spec, "metric", task) if spec.has("metric") else default
    confidence = spec.rate("confidence", 0.95)
    if not 0.5 <= confidence < 1:
        raise spec.error("confidence", f"expected a level in [0.5, 1), got {confidence!r}")
    resamples = _integer(spec, "resamples", 1000, low=100, high=100_000)
    return ChampionGate(
        alias=spec.string("alias", "champion"),
        metric=metric,
        margin=float(spec.number("margin", 0.0)),
        confidence=float(confidence),
        resamples=resamples,
        seed=_integer(spec, "seed", 0, low=0, high=2**32 - 1),
    )


def _fairness(gates: Spec) -> FairnessGate:
    spec = gates.child("fairness")
    names = [f.name for f in FairnessGate.__dataclass_fields__.values()]
    spec.check_keys(set(names))
    values = {name: spec.number(name, None) for name in names}
    if all(v is None for v in values.values()):
        raise spec.error(None, f"the fairness gate needs at least one of {names}")
    for name, value in values.items():
        bounded_by_one = name.endswith(("ratio", "recall"))
        if value is not None and (value < 0 or (bounded_by_one and value > 1)):
            raise spec.error(name, f"expected a rate between 0 and 1, got {value!r}")
    return FairnessGate(**{k: float(v) if v is not None else None for k, v in values.items()})


def _drift(spec: Spec) -> DriftGate:
    spec.check_keys({"training_data", "alpha", "max_drifted_columns"})
    alpha = spec.rate("alpha", 0.05)
    if not 0 < alpha < 1:
        raise spec.error("alpha", f"expected a level between 0 and 1, got {alpha!r}")
    return DriftGate(
        training_data=spec.string("training_data", None),
        alpha=float(alpha),
        max_drifted_columns=_integer(spec, "max_drifted_columns", 0, low=0, high=10**6),
    )


def _latency(spec: Spec) -> LatencyGate:
    spec.check_keys({"p95_ms", "rows"})
    budget = spec.number("p95_ms")
    if budget <= 0:
        raise spec.error("p95_ms", f"expected a positive number of milliseconds, got {budget!r}")
    return LatencyGate(float(budget), _integer(spec, "rows", 100, low=5, high=10_000))


def _size(spec: Spec) -> float:
    spec.check_keys({"max_mb"})
    limit = spec.number("max_mb")
    if limit <= 0:
        raise spec.error("max_mb", f"expected a positive number of megabytes, got {limit!r}")
    return float(limit)


def _approval(gates: Spec) -> ApprovalRule:
    if not gates.has("approval"):
        return "protected"
    spec = gates.child("approval")
    spec.check_keys({"required"})
    value = spec.get("required")
    if value is True:
        return "always"
    if value is False:
        return "never"
    if value == "protected":
        return "protected"
    raise spec.error("required", f"expected true, false or 'protected', got {value!r}")


def _integer(spec: Spec, key: str, default: int, *, low: int, high: int) -> int:
    value = spec.number(key, default)
    if not isinstance(value, int) or not low <= value <= high:
        raise spec.error(key, f"expected a whole number from {low} to {high}, got {value!r}")
    return value
