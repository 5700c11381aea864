"""Each built-in column rule flags exactly the rows that break it."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from mloop.data.checks import (
    AllowedValuesRule,
    LengthRule,
    MaxMissingRateRule,
    NotNullRule,
    RangeRule,
    RegexRule,
    Severity,
    UniqueRule,
)
from mloop.data.tables import Column, Table


def _column(values: list[object], arrow_type: pa.DataType | None = None) -> Column:
    return Table.from_data(pa.table({"c": pa.array(values, arrow_type)})).columns["c"]


def _failing(rule: object, column: Column) -> list[int] | None:
    finding = rule.evaluate(column)  # type: ignore[attr-defined]
    if finding is None:
        return None
    rows = [i for i, flag in enumerate(finding.failing.to_pylist()) if flag]
    assert finding.failing_rows == len(rows)
    return rows


def test_not_null_flags_nulls_and_nan():
    assert _failing(NotNullRule(), _column([1.0, None, float("nan"), 2.0])) == [1, 2]
    assert _failing(NotNullRule(), _column([1, 2])) is None


def test_max_missing_rate_passes_at_the_limit_and_fails_above():
    column = _column([1, None, 3, None])
    assert _failing(MaxMissingRateRule(0.5), column) is None
    finding = MaxMissingRateRule(0.25).evaluate(column)
    assert finding is not None
    assert "50.00% of rows" in finding.message
    assert finding.failing_rows == 2


def test_unique_flags_every_row_of_a_repeated_value_and_ignores_missing():
    assert _failing(UniqueRule(), _column([1, 2, 1, None, None, 3])) == [0, 2]
    assert _failing(UniqueRule(), _column(["a", "b", None, None])) is None
    assert _failing(UniqueRule(), _column([0.5, 1.5, 0.5, float("nan"), float("nan")])) == [0, 2]


def test_range_is_inclusive_and_counts_infinity_but_not_nan():
    column = _column([0.0, 10.0, -0.1, 10.5, float("inf"), float("nan"), None])
    assert _failing(RangeRule(0, 10), column) == [2, 3, 4]
    assert _failing(RangeRule(min=0), column) == [2]
    assert _failing(RangeRule(max=10), _column([1, 11, 10])) == [1]


def test_range_on_dates_and_zone_aware_times():
    dates = _column([dt.date(2023, 12, 31), dt.date(2024, 1, 1)])
    assert _failing(RangeRule(min=dt.date(2024, 1, 1)), dates) == [0]
    times = _column(
        [dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 1, 3)], pa.timestamp("us", tz="UTC")
    )
    assert _failing(RangeRule(max=dt.datetime(2024, 1, 2)), times) == [1]


def test_allowed_values_ignores_missing_and_works_for_ints_and_bools():
    rule = AllowedValuesRule(("DE", "FR"))
    assert _failing(rule, _column(["DE", "US", None, "FR", "de"])) == [1, 4]
    assert _failing(AllowedValuesRule((1, 2)), _column([1.0, 2.0, 3.0])) == [2]
    assert _failing(AllowedValuesRule((True,)), _column([True, False])) == [1]
    # Values that cannot be cast to the column type are compared as text.
    assert _failing(AllowedValuesRule(("1", "x")), _column([1, 2])) == [1]


def test_regex_must_match_the_whole_value():
    rule = RegexRule(r"[a-z]+@[a-z]+\.com")
    column = _column(["a@b.com", "a@b.com.evil", "nope", None])
    assert _failing(rule, column) == [1, 2]


def test_length_bounds():
    column = _column(["", "ab", "abcd", None])
    assert _failing(LengthRule(min=1, max=3), column) == [0, 2]
    assert _failing(LengthRule(max=2), column) == [2]


@pytest.mark.parametrize(
    "rule",
    [
        NotNullRule(Severity.WARNING),
        MaxMissingRateRule(0.2),
        UniqueRule(),
        RangeRule(1, 2),
        AllowedValuesRule(("a",)),
        RegexRule("x"),
        LengthRule(min=1),
    ],
)
def test_every_rule_writes_its_kind_and_severity(rule: object):
    document = rule.to_dict()  # type: ignore[attr-defined]
    assert document["rule"] == rule.kind  # type: ignore[attr-defined]
    assert document["severity"] == rule.severity.value  # type: ignore[attr-defined]
