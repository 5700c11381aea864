from __future__ import annotations

import json
import math

import pytest

from mloop.errors import InvalidInputError
from mloop.stats import fairness_report


def test_fairness_gaps_by_hand() -> None:
    y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    y_pred = [1, 0, 1, 0, 1, 1, 0, 0]
    group = ["a", "a", "a", "a", "b", "b", "b", "b"]
    report = fairness_report(y_true, y_pred, group)
    a, b = report.groups
    assert (a.group, a.count, a.selection_rate) == ("a", 4, 0.5)
    assert (a.true_positive_rate, a.false_positive_rate) == (0.5, 0.5)
    assert (b.selection_rate, b.true_positive_rate, b.false_positive_rate) == (0.5, 1.0, 0.0)
    assert report.demographic_parity_difference == 0.0
    assert report.demographic_parity_ratio == 1.0
    assert report.equal_opportunity_difference == 0.5
    assert report.equalized_odds_difference == 0.5


def test_group_without_positives_gives_nan_rates_in_json_as_null() -> None:
    report = fairness_report([0, 0, 1], [0, 1, 1], ["x", "x", "y"])
    x = report.groups[0]
    assert math.isnan(x.true_positive_rate)
    assert report.demographic_parity_ratio == pytest.approx(0.5)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["groups"][0]["true_positive_rate"] is None
    assert data["equal_opportunity_difference"] == 0.0


def test_fairness_rejects_misaligned_input() -> None:
    with pytest.raises(InvalidInputError, match="differ in length"):
        fairness_report([1], [1, 0], ["a"])
