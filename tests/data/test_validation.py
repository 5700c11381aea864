"""Validating new data against a schema: what is reported, and the result's forms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mloop.data.checks import Severity
from mloop.data.results import ValidationResult, Violation
from mloop.data.schema import Schema
from mloop.data.validation import validate
from mloop.errors import DataValidationError, InvalidInputError, SchemaFileError

SCHEMA: dict[str, Any] = {
    "version": 1,
    "columns": {
        "id": {"type": "integer", "nullable": False, "unique": True},
        "price": {"type": "float", "checks": [{"rule": "range", "min": 0, "max": 100}]},
        "quantity": {"type": "integer", "checks": [{"rule": "range", "min": 1}]},
        "total": {"type": "float"},
        "country": {
            "type": "string",
            "checks": [
                {"rule": "allowed_values", "values": ["DE", "FR"], "severity": "warning"},
                {"rule": "max_missing_rate", "value": 0.25, "severity": "warning"},
            ],
        },
        "start": {"type": "datetime"},
        "end": {"type": "datetime"},
        "note": {"type": "string", "required": False},
    },
    "checks": [
        {"name": "ordered", "expression": "start <= end"},
        {"name": "total", "expression": "price * quantity == total", "tolerance": 0.01},
    ],
}


def _good() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "price": [10.0, 20.0, 30.0, 40.0],
            "quantity": [1, 2, 3, 4],
            "total": [10.0, 40.0, 90.0, 160.0],
            "country": ["DE", "FR", "DE", None],
            "start": pd.to_datetime(["2024-01-01"] * 4),
            "end": pd.to_datetime(["2024-01-02"] * 4),
        }
    )


def _by_rule(result: ValidationResult) -> dict[tuple[str | None, str], Violation]:
    return {(v.column or v.check, v.rule): v for v in result.violations}


def test_clean_data_is_valid_and_counts_rules():
    result = validate(_good(), SCHEMA)
    assert result.is_valid
    assert not result.has_errors
    assert not result.has_warnings
    assert result.violations == ()
    assert result.row_count == 4
    assert result.rules_checked > 15
    assert result.raise_for_errors() is result


def test_every_broken_rule_is_reported_with_counts_and_examples():
    frame = _good()
    frame.loc[2, "id"] = 1
    frame.loc[1, "price"] = -5.0
    frame.loc[3, "total"] = 1.0
    frame.loc[0, "country"] = "US"
    frame.loc[1, "start"] = pd.Timestamp("2025-01-01")
    result = validate(frame, SCHEMA)
    found = _by_rule(result)
    assert set(found) == {
        ("id", "unique"),
        ("price", "range"),
        ("country", "allowed_values"),
        ("ordered", "expression"),
        ("total", "expression"),
    }
    unique = found[("id", "unique")]
    assert (unique.failing_rows, unique.failing_rate) == (2, 0.5)
    assert [(e.row, e.value) for e in unique.examples] == [(0, 1), (2, 1)]
    assert [(e.row, e.value) for e in found[("price", "range")].examples] == [(1, -5.0)]
    total = found[("total", "expression")]
    # -5 * 2 != 40 on row 1, 40 * 4 != 1 on row 3.
    assert [e.row for e in total.examples] == [1, 3]
    assert total.examples[1].value == {"price": 40.0, "quantity": 4, "total": 1.0}
    assert total.columns == ("price", "quantity", "total")
    assert found[("ordered", "expression")].examples[0].value["start"] == "2025-01-01T00:00:00"
    assert found[("country", "allowed_values")].severity is Severity.WARNING
    assert result.has_errors
    assert result.has_warnings
    assert not result.is_valid
    # Errors come first, warnings after.
    severities = [v.severity for v in result.violations]
    assert severities == sorted(severities, key=lambda s: s is not Severity.ERROR)


def test_missing_extra_and_mistyped_columns():
    frame = _good().drop(columns=["total"])
    frame["price"] = frame["price"].astype(str)
    frame["surprise"] = 1
    result = validate(frame, SCHEMA)
    found = _by_rule(result)
    assert found[("total", "missing_column")].severity is Severity.ERROR
    assert found[("surprise", "extra_column")].severity is Severity.WARNING
    mistyped = found[("price", "type")]
    assert mistyped.failing_rows == 4
    assert "expected float, found string" in mistyped.message
    assert ("price", "range") not in found  # value rules are skipped on the wrong type
    assert ("note", "missing_column") not in found  # optional
    assert ("total", "expression") not in found  # skipped: its column is missing


def test_extra_columns_policy_error_and_ignore():
    frame = _good().assign(extra=1)
    as_error = validate(frame, {**SCHEMA, "extra_columns": "error"})
    assert _by_rule(as_error)[("extra", "extra_column")].severity is Severity.ERROR
    assert validate(frame, {**SCHEMA, "extra_columns": "ignore"}).violations == ()


def test_integers_stored_as_floats_pass_unless_fractional():
    frame = _good()
    frame["quantity"] = [1.0, 2.0, np.nan, 4.0]  # what pandas does to ints with a missing value
    assert validate(frame, SCHEMA).is_valid
    frame["quantity"] = [1.0, 2.5, np.nan, np.inf]
    found = _by_rule(validate(frame, SCHEMA))
    fractional = found[("quantity", "type")]
    assert fractional.failing_rows == 2
    assert [e.row for e in fractional.examples] == [1, 3]
    assert ("total", "expression") in found  # value rules still ran


def test_missing_rate_warning_and_not_null_error():
    frame = _good()
    frame["country"] = [None, None, "DE", None]
    frame["id"] = [1.0, np.nan, 3.0, 4.0]
    found = _by_rule(validate(frame, SCHEMA))
    assert found[("country", "max_missing_rate")].failing_rows == 3
    assert found[("id", "not_null")].examples[0].row == 1


def test_expression_that_cannot_run_on_the_types_is_an_error_not_a_crash():
    frame = _good()
    frame["total"] = ["a", "b", "c", "d"]
    schema = {**SCHEMA, "columns": {**SCHEMA["columns"], "total": {"type": "string"}}}
    violation = _by_rule(validate(frame, schema))[("total", "expression")]
    assert violation.severity is Severity.ERROR
    assert "could not be evaluated" in violation.message


def test_raise_for_errors_carries_the_result():
    frame = _good().drop(columns=["end"])
    result = validate(frame, SCHEMA)
    with pytest.raises(DataValidationError, match="column 'end' missing_column") as caught:
        result.raise_for_errors()
    assert caught.value.result is result
    assert isinstance(caught.value, InvalidInputError)


def test_json_form_is_strict_and_stable():
    frame = _good()
    frame.loc[0, "price"] = np.inf
    result = validate(frame, SCHEMA, max_examples=1)
    document = json.loads(result.to_json())
    assert list(document) == [
        "format_version",
        "is_valid",
        "row_count",
        "column_count",
        "rules_checked",
        "error_count",
        "warning_count",
        "violations",
        "quality",
    ]
    violation = document["violations"][0]
    assert list(violation) == [
        "rule",
        "severity",
        "column",
        "columns",
        "check",
        "message",
        "failing_rows",
        "failing_rate",
        "examples",
    ]
    assert violation["examples"] == [{"row": 0, "value": "inf"}]
    assert document["quality"]["columns"][1]["max"] == "inf"
    assert document["error_count"] == len(result.errors)


def test_schema_may_be_a_path_and_quality_may_be_skipped(tmp_path: Path):
    path = Schema.from_dict(SCHEMA).save(tmp_path / "schema.yaml")
    result = validate(_good(), path, quality=False)
    assert result.is_valid
    assert result.quality is None
    assert validate(_good(), str(path)).quality is not None
    with pytest.raises(SchemaFileError):
        validate(_good(), {"version": 1})


def test_polars_input_validates_like_pandas():
    polars = pytest.importorskip("polars")
    frame = _good()
    frame.loc[1, "price"] = 500.0
    pandas_result = validate(frame, SCHEMA)
    polars_result = validate(polars.from_pandas(frame), SCHEMA)
    assert pandas_result.to_dict() == polars_result.to_dict()
    assert not pandas_result.is_valid


def test_summary_line():
    result = validate(_good().drop(columns=["end"]), SCHEMA)
    assert result.summary() == "invalid: 1 error, 0 warnings in 4 rows (21 rules checked)"
