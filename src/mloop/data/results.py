"""The outcome of validating a table: typed violations, counts, the quality report, a JSON form."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mloop.data.checks import Severity
from mloop.data.quality import QualityReport
from mloop.errors import DataValidationError

RESULT_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Example:
    """One failing row.

    Attributes:
        row: 0-based position of the row in the table (not a pandas index label).
        value: the offending value (JSON-safe); for an expression check, a mapping from each
            column the expression reads to its value in that row.
    """

    row: int
    value: Any


@dataclass(frozen=True)
class Violation:
    """One broken rule.

    Attributes:
        rule: what was checked: `missing_column`, `extra_column`, `type`, `not_null`,
            `unique`, `range`, `allowed_values`, `regex`, `length`, `max_missing_rate` or
            `expression`.
        severity: error or warning.
        message: what is wrong, for people.
        column: the column, or None for a cross-column expression check.
        columns: every column involved (the expression's columns for expression checks).
        check: the name of the expression check, else None.
        failing_rows: how many rows break the rule (0 for table-level findings such as a
            missing column, and for a check that could not be evaluated).
        failing_rate: `failing_rows` over the row count.
        examples: the first few failing rows.
    """

    rule: str
    severity: Severity
    message: str
    column: str | None = None
    columns: tuple[str, ...] = ()
    check: str | None = None
    failing_rows: int = 0
    failing_rate: float = 0.0
    examples: tuple[Example, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (see `docs/data-validation.md`)."""
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "column": self.column,
            "columns": list(self.columns),
            "check": self.check,
            "message": self.message,
            "failing_rows": self.failing_rows,
            "failing_rate": self.failing_rate,
            "examples": [{"row": e.row, "value": e.value} for e in self.examples],
        }


@dataclass(frozen=True)
class ValidationResult:
    """Everything found when validating a table against a schema.

    Attributes:
        row_count: rows in the validated table.
        column_count: columns in the validated table.
        rules_checked: how many rules were evaluated (column presence and type included).
        violations: every broken rule, errors first, then in schema column order.
        quality: the data-quality summary of the table, unless it was turned off.
    """

    row_count: int
    column_count: int
    rules_checked: int
    violations: tuple[Violation, ...]
    quality: QualityReport | None = None

    @property
    def errors(self) -> list[Violation]:
        """The error-severity violations."""
        return [v for v in self.violations if v.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Violation]:
        """The warning-severity violations."""
        return [v for v in self.violations if v.severity is Severity.WARNING]

    @property
    def has_errors(self) -> bool:
        """True when at least one error-severity rule is broken."""
        return bool(self.errors)

    @property
    def has_warnings(self) -> bool:
        """True when at least one warning-severity rule is broken."""
        return bool(self.warnings)

    @property
    def is_valid(self) -> bool:
        """True when no error-severity rule is broken (warnings allowed)."""
        return not self.has_errors

    def summary(self) -> str:
        """One line for people, e.g. `invalid: 2 errors, 1 warning in 1000 rows (40 rules)`."""
        verdict = "valid" if self.is_valid else "invalid"
        errors, warnings = len(self.errors), len(self.warnings)
        return (
            f"{verdict}: {errors} error{'s' * (errors != 1)}, "
            f"{warnings} warning{'s' * (warnings != 1)} in {self.row_count} rows "
            f"({self.rules_checked} rules checked)"
        )

    def raise_for_errors(self) -> ValidationResult:
        """Raise when an error-severity rule is broken; return the result otherwise (chainable).

        Raises:
            DataValidationError: listing the broken error rules; `.result` holds this result.
        """
        if not self.has_errors:
            return self
        lines = [f"data is invalid: {len(self.errors)} error-severity rules broken"]
        lines += [f"  - {_where(v)} {v.rule}: {v.message}" for v in self.errors[:10]]
        if len(self.errors) > 10:
            lines.append(f"  ... and {len(self.errors) - 10} more; see result.errors")
        raise DataValidationError("\n".join(lines), result=self)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: a stable, versioned layout documented in `docs/data-validation.md`."""
        return {
            "format_version": RESULT_FORMAT_VERSION,
            "is_valid": self.is_valid,
            "row_count": self.row_count,
            "column_count": self.column_count,
            "rules_checked": self.rules_checked,
            "error_count": len(self.errors),
            "warning_count": len(self.warnings),
            "violations": [v.to_dict() for v in self.violations],
            "quality": self.quality.to_dict() if self.quality is not None else None,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """`to_dict()` as strict JSON text (no NaN or Infinity literals)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)


def _where(violation: Violation) -> str:
    if violation.column is not None:
        return f"column {violation.column!r}"
    return f"check {violation.check!r}"
