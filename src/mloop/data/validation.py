"""Validate a table against a schema: presence, types, column rules and cross-column checks.

Every rule runs as a few vectorised Arrow compute calls over a whole column; only the first few
failing rows of each broken rule are turned into Python values, as examples.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mloop.data.checks import Finding, Severity, find
from mloop.data.expressions import ExpressionCheck
from mloop.data.jsonable import jsonable
from mloop.data.quality import profile_quality
from mloop.data.results import Example, ValidationResult, Violation
from mloop.data.schema import ColumnSchema, Schema, load_schema
from mloop.data.tables import Column, LogicalType, Table

DEFAULT_MAX_EXAMPLES = 5


def validate(
    data: object,
    schema: Schema | str | Path | Mapping[str, Any],
    *,
    quality: bool = True,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
) -> ValidationResult:
    """Validate a table against a schema.

    Args:
        data: a pandas or Polars DataFrame, a pyarrow Table, or a Parquet/CSV/Arrow file path.
        schema: a `Schema`, the path of a schema file, or a schema document (a mapping).
        quality: also compute the data-quality summary (`result.quality`).
        max_examples: failing rows kept as examples per broken rule.

    Returns:
        The result; `result.raise_for_errors()` turns error-severity violations into an
        exception for pipelines.

    Raises:
        InvalidInputError: the data cannot be read as a table.
        SchemaFileError: the schema file or document is not a valid schema.
    """
    table = Table.from_data(data)
    if isinstance(schema, str | Path):
        schema = load_schema(schema)
    elif not isinstance(schema, Schema):
        schema = Schema.from_dict(schema)
    run = _Run(table, max_examples)
    run.check_presence(schema)
    for column_schema in schema.columns:
        if column_schema.name in table.columns:
            run.check_column(column_schema, table.columns[column_schema.name])
    for check in schema.checks:
        run.check_expression(check)
    order = {name: index for index, name in enumerate(schema.column_names)}
    violations = sorted(
        run.violations,
        key=lambda v: (v.severity is not Severity.ERROR, order.get(v.column or "", len(order))),
    )
    return ValidationResult(
        row_count=table.row_count,
        column_count=len(table.columns),
        rules_checked=run.rules_checked,
        violations=tuple(violations),
        quality=profile_quality(table) if quality else None,
    )


class _Run:
    """Collects violations while the rules of one schema run over one table."""

    def __init__(self, table: Table, max_examples: int) -> None:
        self.table = table
        self.max_examples = max_examples
        self.violations: list[Violation] = []
        self.rules_checked = 0

    def check_presence(self, schema: Schema) -> None:
        declared = set(schema.column_names)
        for column in schema.columns:
            self.rules_checked += 1
            if column.required and column.name not in self.table.columns:
                self.add(
                    Violation(
                        rule="missing_column",
                        severity=Severity.ERROR,
                        message=f"the column is missing (expected {column.type.value})",
                        column=column.name,
                        columns=(column.name,),
                    )
                )
        if schema.extra_columns == "ignore":
            return
        for name in self.table.column_names:
            if name not in declared:
                self.add(
                    Violation(
                        rule="extra_column",
                        severity=Severity(schema.extra_columns),
                        message="the schema does not declare this column",
                        column=name,
                        columns=(name,),
                    )
                )

    def check_column(self, expected: ColumnSchema, column: Column) -> None:
        self.rules_checked += 1
        type_finding, comparable = _type_finding(expected.type, column)
        if type_finding is not None:
            self.add_finding(type_finding, rule="type", severity=Severity.ERROR, column=column)
        for rule in expected.rules:
            if rule.types is not None and not comparable:
                continue  # value rules mean nothing on values of another type
            self.rules_checked += 1
            finding = rule.evaluate(column)
            if finding is not None:
                self.add_finding(finding, rule=rule.kind, severity=rule.severity, column=column)

    def check_expression(self, check: ExpressionCheck) -> None:
        names = check.columns
        if any(name not in self.table.columns for name in names):
            return  # a missing column is reported on its own
        self.rules_checked += 1
        try:
            finding = check.evaluate(self.table)
        except (pa.ArrowException, ValueError) as exc:
            message = f"could not be evaluated on these column types: {exc}"
            self.add(
                Violation("expression", check.severity, message, None, tuple(names), check.name)
            )
            return
        if finding is None:
            return
        rows = self.example_rows(finding.failing)
        values = {name: self.table.columns[name].values.take(rows).to_pylist() for name in names}
        examples = tuple(
            Example(int(row), jsonable({name: values[name][i] for name in names}))
            for i, row in enumerate(rows)
        )
        self.add(
            Violation(
                rule="expression",
                severity=check.severity,
                message=finding.message,
                columns=tuple(names),
                check=check.name,
                failing_rows=finding.failing_rows,
                failing_rate=self.rate(finding.failing_rows),
                examples=examples,
            )
        )

    def add_finding(
        self, finding: Finding, *, rule: str, severity: Severity, column: Column
    ) -> None:
        rows = self.example_rows(finding.failing)
        values = column.values.take(rows).to_pylist()
        self.add(
            Violation(
                rule=rule,
                severity=severity,
                message=finding.message,
                column=column.name,
                columns=(column.name,),
                failing_rows=finding.failing_rows,
                failing_rate=self.rate(finding.failing_rows),
                examples=tuple(
                    Example(int(row), jsonable(value))
                    for row, value in zip(rows, values, strict=True)
                ),
            )
        )

    def add(self, violation: Violation) -> None:
        self.violations.append(violation)

    def example_rows(self, failing: pa.ChunkedArray) -> pa.Array:
        """Positions of the first failing rows, reading no more chunks than needed."""
        found: list[np.ndarray[Any, Any]] = []
        offset = wanted = 0
        for chunk in failing.chunks:
            if wanted >= self.max_examples:
                break
            positions = np.flatnonzero(chunk.to_numpy(zero_copy_only=False))
            positions = positions[: self.max_examples - wanted] + offset
            found.append(positions)
            wanted += len(positions)
            offset += len(chunk)
        rows = np.concatenate(found) if found else np.array([], dtype=np.int64)
        return pa.array(rows, pa.int64())

    def rate(self, count: int) -> float:
        return count / self.table.row_count if self.table.row_count else 0.0


def _type_finding(expected: LogicalType, column: Column) -> tuple[Finding | None, bool]:
    """Whether the column's values fit the expected type.

    Returns:
        A finding when they do not (None when they do), and whether value rules can still run.
    """
    actual = column.logical_type
    if actual == expected or expected is LogicalType.OTHER or actual is LogicalType.EMPTY:
        return None, True
    if expected is LogicalType.FLOAT and actual is LogicalType.INTEGER:
        return None, True
    if expected is LogicalType.INTEGER and actual is LogicalType.FLOAT:
        # pandas stores integer columns with missing values as floats: accept whole numbers.
        values = column.values
        fractional = pc.or_(pc.invert(pc.is_finite(values)), pc.not_equal(pc.floor(values), values))
        finding = find(
            pc.and_not(fractional, column.missing),
            "{values} not whole numbers (expected integer, found float)",
        )
        return finding, True
    # An all-missing column finds nothing here: with no value there is no wrong type.
    message = f"expected {expected.value}, found {actual.value} ({column.values.type})"
    return find(pc.invert(column.missing), "{values} of the wrong type: " + message), False
