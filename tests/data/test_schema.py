"""The schema file format: round trips, and errors that name the file, line and field."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest

from mloop.data.checks import AllowedValuesRule, RangeRule, RegexRule, Severity
from mloop.data.expressions import ExpressionCheck
from mloop.data.schema import ColumnSchema, ColumnStats, Schema, load_schema, save_schema
from mloop.data.tables import LogicalType
from mloop.errors import InvalidInputError, SchemaFileError

HAND_WRITTEN = """\
version: 1
description: orders
extra_columns: error
columns:
  order_id: {type: integer, nullable: false, unique: true}
  country:
    type: string
    checks:
      - {rule: allowed_values, values: [NO, DE, SE], severity: warning}
      - {rule: max_missing_rate, value: 0.1}
  email:
    type: string
    required: false
    checks:
      - {rule: regex, pattern: '[^@]+@[^@]+'}
      - {rule: length, max: 100}
  price: {type: float, checks: [{rule: range, min: 0}]}
  start: {type: datetime, checks: [{rule: range, min: 2020-01-01, max: '2030-01-01T00:00:00'}]}
  end: {type: datetime}
checks:
  - {name: ordered, expression: start <= end}
  - {expression: "`price` * 2 > 0", severity: warning, tolerance: 0.5}
"""


def _write(tmp_path: Path, text: str, name: str = "schema.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_hand_written_yaml_loads_into_typed_rules(tmp_path: Path):
    schema = load_schema(_write(tmp_path, HAND_WRITTEN))
    assert schema.column_names == ["order_id", "country", "email", "price", "start", "end"]
    assert schema.extra_columns == "error"
    order_id = schema.column("order_id")
    assert [rule.kind for rule in order_id.rules] == ["not_null", "unique"]
    country = schema.column("country")
    # YAML 1.1 would read NO as false; the schema loader keeps it as text.
    assert country.checks[0] == AllowedValuesRule(("NO", "DE", "SE"), severity=Severity.WARNING)
    assert country.checks[1].severity is Severity.ERROR
    assert not schema.column("email").required
    assert isinstance(schema.column("email").checks[0], RegexRule)
    start_range = schema.column("start").checks[0]
    assert start_range == RangeRule(dt.datetime(2020, 1, 1), dt.datetime(2030, 1, 1))
    assert schema.checks[0].name == "ordered"
    assert schema.checks[1].columns == ["price"]
    assert schema.checks[1].tolerance == 0.5


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_schema_round_trips_through_yaml_and_json(tmp_path: Path, suffix: str):
    schema = Schema(
        columns=(
            ColumnSchema(
                "age",
                LogicalType.INTEGER,
                nullable=False,
                checks=(RangeRule(0, 120, severity=Severity.WARNING),),
                reference=ColumnStats(missing_rate=0.0, min=1, max=99, quantiles={"p50": 40.0}),
            ),
            ColumnSchema(
                "when", LogicalType.DATETIME, checks=(RangeRule(min=dt.date(2024, 1, 1)),)
            ),
            ColumnSchema("name", LogicalType.STRING, required=False, unique=True),
        ),
        checks=(ExpressionCheck("age >= 0", name="positive"),),
        description="people",
        reference_rows=10,
    )
    path = save_schema(schema, tmp_path / f"s{suffix}")
    loaded = load_schema(path)
    assert loaded.to_dict() == schema.to_dict()
    assert loaded.column("age") == schema.column("age")
    if suffix == ".json":
        assert json.loads(path.read_text())["version"] == 1


@pytest.mark.parametrize(
    ("text", "line", "field", "fragment"),
    [
        ("version: 1\ncolumns:\n  a: {type: number}\n", 3, "columns.a.type", "expected one of"),
        (
            "version: 1\ncolumns:\n  a:\n    type: integer\n    nulable: true\n",
            5,
            "columns.a.nulable",
            "unknown key",
        ),
        (
            "version: 1\ncolumns:\n  a:\n    type: integer\n    checks:\n"
            "      - {rule: range, min: low}\n",
            6,
            "columns.a.checks[0].min",
            "expected a number",
        ),
        (
            "version: 1\ncolumns:\n  a:\n    type: integer\n    checks:\n"
            "      - {rule: regex, pattern: 'x'}\n",
            6,
            "columns.a.checks[0].rule",
            "applies to string",
        ),
        (
            "version: 1\ncolumns:\n  a: {type: string, checks: [{rule: regex, pattern: '(?=x)'}]}"
            "\n",
            3,
            "columns.a.checks[0].pattern",
            "not a valid regular expression",
        ),
        (
            "version: 1\ncolumns:\n  a: {type: integer}\nchecks:\n  - expression: a <= b\n",
            5,
            "checks[0].expression",
            "does not declare",
        ),
        (
            "version: 1\ncolumns:\n  a: {type: integer}\nchecks:\n"
            "  - expression: a.__class__ == 1\n",
            5,
            "checks[0].expression",
            "Attribute is not allowed",
        ),
        ("version: 2\ncolumns:\n  a: {type: integer}\n", 1, "version", "upgrade mloop"),
        (
            "version: 1\ncolumns:\n  a: {type: integer}\n  a: {type: float}\n",
            4,
            "a",
            "appears twice",
        ),
        ("version: 1\ncolumns: {a: {type: integer}\n", 3, "schema", "not valid YAML"),
        (
            "version: 1\ncolumns:\n  a: {type: integer, checks: [{rule: range, min: 5, max: 1}]}\n",
            3,
            "columns.a.checks[0].min",
            "above max",
        ),
        (
            "version: 1\ncolumns:\n"
            "  a: {type: string, checks: [{rule: allowed_values, values: [1]}]}\n",
            3,
            "columns.a.checks[0].values",
            "not a string value",
        ),
    ],
)
def test_bad_yaml_names_the_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, fragment: str
):
    path = _write(tmp_path, text)
    with pytest.raises(SchemaFileError, match=fragment) as caught:
        load_schema(path)
    assert caught.value.line == line
    assert caught.value.field == field or (field == "schema" and caught.value.field == "")
    assert str(path) in caught.value.message
    assert f"line {line}" in caught.value.message


def test_bad_json_names_the_field_and_line(tmp_path: Path):
    path = _write(
        tmp_path, '{"version": 1, "columns": {"a": {"type": "integer", "unique": "yes"}}}', "s.json"
    )
    with pytest.raises(SchemaFileError, match="expected true or false") as caught:
        load_schema(path)
    assert caught.value.field == "columns.a.unique"
    broken = _write(tmp_path, '{"version": 1,\n "columns": }', "b.json")
    with pytest.raises(SchemaFileError, match="not valid JSON") as caught:
        load_schema(broken)
    assert caught.value.line == 2


def test_missing_file_and_non_mapping_documents_are_invalid_input(tmp_path: Path):
    with pytest.raises(InvalidInputError, match="cannot read the file"):
        load_schema(tmp_path / "absent.yaml")
    with pytest.raises(SchemaFileError, match="must be a mapping"):
        load_schema(_write(tmp_path, "- 1\n- 2\n"))
    with pytest.raises(SchemaFileError, match="is required"):
        Schema.from_dict({"version": 1})
    with pytest.raises(SchemaFileError, match="at least one column"):
        Schema.from_dict({"version": 1, "columns": {}})


def test_schema_column_lookup_raises_key_error_for_unknown_names():
    schema = Schema.from_dict({"version": 1, "columns": {"a": {"type": "float"}}})
    assert schema.column("a").type is LogicalType.FLOAT
    with pytest.raises(KeyError):
        schema.column("b")


def test_the_schema_example_in_the_docs_loads(tmp_path: Path):
    docs = Path(__file__).parents[2] / "docs" / "data-validation.md"
    example = docs.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    schema = load_schema(_write(tmp_path, example))
    assert schema.column("country").checks[0] == AllowedValuesRule(
        ("DE", "FR", "NO"), severity=Severity.WARNING
    )
    assert [check.name for check in schema.checks] == ["dates in order", "total adds up"]
