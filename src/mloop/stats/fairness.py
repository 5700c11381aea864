"""Group fairness metrics across a sensitive attribute, with per-group tables.

Definitions follow fairlearn: demographic parity compares selection rates (share predicted
positive); equalised odds takes the larger of the true-positive-rate and false-positive-rate gaps;
equal opportunity compares true positive rates only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mloop.errors import InvalidInputError


@dataclass(frozen=True)
class GroupRates:
    """Rates of one group of the sensitive attribute.

    Attributes:
        group: the attribute value (as text).
        count: rows in the group.
        selection_rate: share of rows predicted positive.
        true_positive_rate: recall among rows whose label is positive (NaN without any).
        false_positive_rate: share predicted positive among negative rows (NaN without any).
    """

    group: str
    count: int
    selection_rate: float
    true_positive_rate: float
    false_positive_rate: float


@dataclass(frozen=True)
class FairnessReport:
    """Fairness gaps across the groups of a sensitive attribute.

    Attributes:
        groups: per-group rates, ordered by group.
        demographic_parity_difference: max - min selection rate.
        demographic_parity_ratio: min / max selection rate (1.0 when all rates are 0).
        equal_opportunity_difference: max - min true positive rate.
        equalized_odds_difference: the larger of the TPR and FPR gaps.
    """

    groups: tuple[GroupRates, ...]
    demographic_parity_difference: float
    demographic_parity_ratio: float
    equal_opportunity_difference: float
    equalized_odds_difference: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN becomes None)."""
        data = asdict(self)
        data["groups"] = [
            {key: _json_float(value) for key, value in group.items()} for group in data["groups"]
        ]
        return {key: _json_float(value) for key, value in data.items()}


def _json_float(value: Any) -> Any:
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _gap(values: npt.NDArray[np.float64]) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.max() - finite.min()) if finite.size else float("nan")


def fairness_report(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    sensitive: npt.ArrayLike,
    *,
    positive: Any = 1,
) -> FairnessReport:
    """Per-group rates and the fairness gaps between groups.

    Args:
        y_true: true labels.
        y_pred: predicted labels.
        sensitive: the sensitive attribute per row (e.g. sex, age band).
        positive: the favourable label.

    Returns:
        The report; gaps are NaN when no group has the rows to define the rate.

    Raises:
        InvalidInputError: the inputs differ in length or are empty.
    """
    truth = np.asarray(y_true).ravel()
    pred = np.asarray(y_pred).ravel()
    attribute = np.asarray(sensitive).ravel()
    if not truth.size == pred.size == attribute.size:
        raise InvalidInputError(
            f"y_true, y_pred and sensitive differ in length "
            f"({truth.size}, {pred.size}, {attribute.size})",
            field="sensitive",
        )
    if truth.size == 0:
        raise InvalidInputError("no rows to score", field="y_true")
    names, codes = np.unique(attribute.astype(str), return_inverse=True)
    k = names.size
    is_pos = (truth == positive).astype(np.float64)
    selected = (pred == positive).astype(np.float64)
    count = np.bincount(codes, minlength=k).astype(np.float64)
    positives = np.bincount(codes, weights=is_pos, minlength=k)
    negatives = count - positives
    selected_all = np.bincount(codes, weights=selected, minlength=k)
    true_pos = np.bincount(codes, weights=selected * is_pos, minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        selection = selected_all / count
        tpr = np.where(positives > 0, true_pos / positives, np.nan)
        fpr = np.where(negatives > 0, (selected_all - true_pos) / negatives, np.nan)
    groups = tuple(
        GroupRates(str(names[i]), int(count[i]), float(selection[i]), float(tpr[i]), float(fpr[i]))
        for i in range(k)
    )
    top = float(selection.max())
    return FairnessReport(
        groups=groups,
        demographic_parity_difference=_gap(selection),
        demographic_parity_ratio=float(selection.min() / top) if top > 0 else 1.0,
        equal_opportunity_difference=_gap(tpr),
        equalized_odds_difference=float(np.nanmax([_gap(tpr), _gap(fpr)]))
        if not (np.isnan(_gap(tpr)) and np.isnan(_gap(fpr)))
        else float("nan"),
    )
