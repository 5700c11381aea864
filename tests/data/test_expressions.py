"""Cross-column expression checks: what they flag, and what they refuse to run."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

from mloop.data.expressions import ExpressionCheck, parse_expression
from mloop.data.tables import Table


def _rows(expression: str, data: dict[str, Any], **options: object) -> list[int] | None:
    table = Table.from_data(pa.table(data))
    finding = ExpressionCheck(expression, **options).evaluate(table)  # type: ignore[arg-type]
    if finding is None:
        return None
    return [i for i, flag in enumerate(finding.failing.to_pylist()) if flag]


def test_date_order_and_nulls_are_not_judged():
    data = {
        "start": [dt.date(2024, 1, 1), dt.date(2024, 2, 1), None],
        "end": [dt.date(2024, 1, 2), dt.date(2024, 1, 1), dt.date(2024, 1, 1)],
    }
    assert _rows("start <= end", data) == [1]


def test_arithmetic_with_tolerance_and_float_rounding():
    data = {"price": [0.1, 2.0, 3.0], "quantity": [3, 2, 2], "total": [0.3, 4.0, 6.4]}
    # 0.1 * 3 is 0.30000000000000004: equal within the default relative tolerance.
    assert _rows("price * quantity == total", data) == [2]
    assert _rows("price * quantity == total", data, tolerance=0.5) is None
    assert _rows("price * quantity != total", data) == [0, 1]


def test_boolean_logic_functions_chained_comparisons_and_literals():
    data = {"a": [1, 5, -3, None], "b": [2, 2, 2, 2], "status": ["ok", "ok", "bad", "ok"]}
    assert _rows("0 <= a < 5", data) == [1, 2]
    assert _rows("a > 0 and b > 0", data) == [2]
    assert _rows("a > 0 or status == 'bad'", data) is None
    assert _rows("not (a > b)", data) == [1]
    assert _rows("abs(a) <= 3", data) == [1]
    assert _rows("is_null(a) or a / b < 2", data) == [1]
    assert _rows("a // b >= 0 and -a <= 3 and +b ** 2 == 4", data) == [2]


def test_backticks_name_columns_with_spaces_and_dates_compare_with_iso_text():
    data = {"unit price": [1.0, -1.0], "when": [dt.datetime(2019, 1, 1), dt.datetime(2021, 1, 1)]}
    check = ExpressionCheck("`unit price` > 0")
    assert check.columns == ["unit price"]
    assert _rows("`unit price` > 0", data) == [1]
    assert _rows("when >= '2020-01-01'", data) == [0]


def test_literal_only_expression_applies_to_every_row():
    assert _rows("1 > 2", {"a": [1, 2]}) == [0, 1]
    assert _rows("1 < 2", {"a": [1, 2]}) is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("__import__('os').system('true')", "only the functions"),
        ("a.__class__ == 1", "Attribute is not allowed"),
        ("a[0] == 1", "Subscript is not allowed"),
        ("(lambda: 1)() == 1", "only the functions"),
        ("a == None", "literal None is not allowed"),
        ("a + 1", "must be a comparison"),
        ("a in (1, 2)", "not allowed"),
        ("a <= ", "not a valid expression"),
        ("abs(a, b) > 1", "one argument"),
        ("x" * 1001, "at most 1000"),
    ],
)
def test_unsafe_or_malformed_expressions_are_refused(text: str, fragment: str):
    with pytest.raises(ValueError, match=fragment):
        parse_expression(text)


def test_to_dict_keeps_name_tolerance_and_severity():
    check = ExpressionCheck("a == b", name="same", tolerance=0.1)
    assert check.to_dict() == {
        "name": "same",
        "expression": "a == b",
        "tolerance": 0.1,
        "severity": "error",
    }
    assert ExpressionCheck("a == b").to_dict() == {"expression": "a == b", "severity": "error"}
