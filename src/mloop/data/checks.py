"""Built-in column rules: not null, unique, range, allowed values, regex, length, missing rate.

Each rule is a typed dataclass that reads itself from a schema file (`from_spec`), writes itself
back (`to_dict`) and checks a column with vectorised Arrow compute calls (`evaluate`), returning
a `Finding` (a mask of failing rows and a message) or None when the column passes.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from mloop.data.schema_file import Spec
from mloop.data.tables import Column, LogicalType


class Severity(enum.StrEnum):
    """How much a broken rule matters: an error fails a pipeline step, a warning only reports."""

    ERROR = "error"
    WARNING = "warning"


SEVERITIES = tuple(severity.value for severity in Severity)


@dataclass(frozen=True)
class Finding:
    """What a rule found wrong with a column.

    Attributes:
        message: what is wrong, for people.
        failing: boolean mask over all rows, true where a row breaks the rule.
        failing_rows: how many rows break it.
    """

    message: str
    failing: pa.ChunkedArray
    failing_rows: int


def find(mask: pa.ChunkedArray | pa.Array, message: str) -> Finding | None:
    """A Finding for the true rows of `mask` (nulls count as passing), or None when there are none.

    `message` may hold `{n}` (the number of failing rows), `{rows}` ("1 row", "2 rows") and
    `{values}` ("1 value", "2 values").
    """
    failing = pc.fill_null(mask, False)
    if isinstance(failing, pa.Array):
        failing = pa.chunked_array([failing])
    count = int(pc.sum(failing).as_py() or 0)
    if count == 0:
        return None
    rows, values = _counted(count, "row"), _counted(count, "value")
    return Finding(message.format(n=count, rows=rows, values=values), failing, count)


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


class ColumnRule(Protocol):
    """What every column rule offers."""

    kind: ClassVar[str]
    types: ClassVar[frozenset[LogicalType] | None]

    @property
    def severity(self) -> Severity:
        """Error or warning."""

    def evaluate(self, column: Column) -> Finding | None:
        """Check a column; None when it passes."""

    def to_dict(self) -> dict[str, Any]:
        """The rule as it is written in a schema file."""


_ANY_TYPE: frozenset[LogicalType] | None = None
_ORDERED = frozenset({LogicalType.INTEGER, LogicalType.FLOAT, LogicalType.DATETIME})
_TEXT = frozenset({LogicalType.STRING})
_DISCRETE = frozenset({LogicalType.INTEGER, LogicalType.STRING, LogicalType.BOOLEAN})


def _severity(spec: Spec) -> Severity:
    return Severity(spec.choice("severity", SEVERITIES, Severity.ERROR.value))


def _dump(kind: str, severity: Severity, **fields: Any) -> dict[str, Any]:
    document = {"rule": kind}
    document.update({key: value for key, value in fields.items() if value is not None})
    document["severity"] = severity.value
    return document


@dataclass(frozen=True)
class NotNullRule:
    """No value may be missing (null, or NaN in a float column)."""

    kind: ClassVar[str] = "not_null"
    types: ClassVar[frozenset[LogicalType] | None] = _ANY_TYPE
    severity: Severity = Severity.ERROR

    @classmethod
    def from_spec(cls, spec: Spec, logical_type: LogicalType) -> NotNullRule:
        """Read the rule from its mapping in a schema file."""
        spec.check_keys({"rule", "severity"})
        return cls(_severity(spec))

    def evaluate(self, column: Column) -> Finding | None:
        """Flag the missing rows."""
        if column.missing_count == 0:
            return None
        return find(column.missing, "{values} missing, but the column is not nullable")

    def to_dict(self) -> dict[str, Any]:
        """The rule as written in a schema file."""
        return _dump(self.kind, self.severity)


@dataclass(frozen=True)
class MaxMissingRateRule:
    """At most this share of the rows may be missing."""

    value: float
    kind: ClassVar[str] = "max_missing_rate"
    types: ClassVar[frozenset[LogicalType] | None] = _ANY_TYPE
    severity: Severity = Severity.ERROR

    @classmethod
    def from_spec(cls, spec: Spec, logical_type: LogicalType) -> MaxMissingRateRule:
        """Read the rule from its mapping in a schema file."""
        spec.check_keys({"rule", "value", "severity"})
        return cls(float(spec.rate("value")), severity=_severity(spec))

    def evaluate(self, column: Column) -> Finding | None:
        """Flag the missing rows when there are too many of them."""
        rate = column.missing_count / column.row_count if column.row_count else 0.0
        if rate <= self.value:
            return None
        return find(
            column.missing,
            f"{{values}} missing ({rate:.2%} of rows), more than the allowed {self.value:.2%}",
        )

    def to_dict(self) -> dict[str, Any]:
        """The rule as written in a schema file."""
        return _dump(self.kind, self.severity, value=self.value)


@dataclass(frozen=True)
class UniqueRule:
    """No present value may appear twice (missing values are ignored)."""

    kind: ClassVar[str] = "unique"
    types: ClassVar[frozenset[LogicalType] | None] = _ANY_TYPE
    severity: Severity = Severity.ERROR

    @classmethod
    def from_spec(cls, spec: Spec, logical_type: LogicalType) -> UniqueRule:
        """Read the rule from its mapping in a schema file."""
        spec.check_keys({"rule", "severity"})
        return cls(_severity(spec))

    def evaluate(self, column: Column) -> Finding | None:
        """Flag every row whose value appears more than once."""
        if column.distinct_count == column.row_count - column.missing_count:
            return None
        values, counts = column.value_counts
        repeated = values.filter(pa.array(counts > 1))
        return find(
            pc.and_not(pc.is_in(column.values, value_set=repeated), column.missing),
            f"{{rows}} share {len(repeated)} repeated values, but the column must be unique",
        )

    def to_dict(self) -> dict[str, Any]:
        """The rule as written in a schema file."""
        return _dump(self.kind, self.severity)


Bound = int | float | dt.datetime | dt.date


def _bound(spec: Spec, key: str, logical_type: LogicalType) -> Bound | None:
    if logical_type is not LogicalType.DATETIME:
        value: Bound | None = spec.number(key, None)
        return value
    value = spec.get(key, None)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise spec.error(key, f"expected an ISO date or time, got {value!r}") from exc
    if value is not None and not isinstance(value, dt.date):
        raise spec.error(key, f"expected an ISO date or time, got {value!r}")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return value


def _scalar(bound: Bound, arrow_type: pa.DataType) -> pa.Scalar:
    if isinstance(bound, dt.date) and pa.types.is_timestamp(arrow_type):
        if not isinstance(bound, dt.datetime):
            bound = dt.datetime.combine(bound, dt.time())
        # A naive bound on a zone-aware column is read as UTC.
        return pa.scalar(bound).cast(arrow_type)
    if isinstance(bound, dt.datetime) and pa.types.is_date(arrow_type):
        return pa.scalar(bound.date()).cast(arrow_type)
    return pa.scalar(bound)


def _above(low: Bound | None, high: Bound | None) -> bool:
    try:
        return low is not None and high is not None and low > high  # type: ignore[operator]
    except TypeError:  # a zone-aware and a naive time: leave the order to the data
        return False


def _text(bound: Bound | None) -> str:
    return bound.isoformat() if isinstance(bound, dt.date) else repr(bound)


@dataclass(frozen=True)
class RangeRule:
    """Values must lie within [min, max] (both inclusive; either may be left out)."""

    min: Bound | None = None
    max: Bound | None = None
    kind: ClassVar[str] = "range"
    types: ClassVar[frozenset[LogicalType] | None] = _ORDERED
    severity: Severity = Severity.ERROR

    def __post_init__(self) -> None:
        # A date bound means midnight, so a bound read back from its file form compares equal.
        for name in ("min", "max"):
            value = getattr(self, name)
            if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                object.__setattr__(self, name, dt.datetime.combine(value, dt.time()))

    @classmethod
    def from_spec(cls, spec: Spec, logical_type: LogicalType) -> RangeRule:
        """Read the rule from its mapping in a schema file."""
        spec.check_keys({"rule", "min", "max", "severity"})
        low, high = _bound(spec, "min", logical_type), _bound(spec, "max", logical_type)
        if low is None and high is None:
            raise spec.error(None, "a range needs `min`, `max` or both")
        if _above(low, high):
            raise spec.error("min", f"min {_text(low)} is above max {_text(high)}")
        return cls(low, high, severity=_severity(spec))

    def evaluate(self, column: Column) -> Finding | None:
        """Flag values below min or above max (NaN counts as missing, infinities as values)."""
        arrow_type = column.values.type
        outside = None
        if self.min is not None:
            outside = pc.less(column.values, _scalar(self.min, arrow_type))
        if self.max is not None:
            above = pc.greater(column.values, _scalar(self.max, arrow_type))
            outside = above if outside is None else pc.or_(outside, above)
        return find(outside, f"{{values}} outside [{_text(self.min)}, {_text(self.max)}]")

    def to_dict(self) -> dict[str, Any]:
        """The rule as written in a schema file."""
        low, high = (v.isoformat() if isinstance(v, dt.date) else v for v in (self.min, self.max))
        return _dump(self.kind, self.severity, min=low, max=high)


@dataclass(frozen=True)
class AllowedValuesRule:
    """Every present value must be one of a listed set."""

    values: tuple[Any, ...]
    kind: ClassVar[str] = "allowed_values"
    types: ClassVar[frozenset[LogicalType] | None] = _DISCRETE
    severity: Severity = Severity.ERROR

    @classmethod
    def from_spec(cls, spec: Spec, logical_type: LogicalType) -> AllowedValuesRule:
        """Read the rule from its mapping in a schema file."""
        spec.check_keys({"rule", "values", "severity"})
        values = spec.items("values")
        expected = {LogicalType.INTEGER: int, LogicalType.STRING: str, LogicalType.BOOLEAN: bool}
        python_type = expected[logical_type]
        for value in values:
            wrong_bool = isinstance(value, bool) and python_type is not bool
            if wrong_bool or not isinstance(value, python_type):
                raise spec.error("values", f"{value!r} is not a {logical_type.value} value")
        return cls(tuple(values), severity=_severity(spec))

    def evaluate(self, column: Column) -> Finding | None:
        """Flag present values outside the set."""
        try:
            allowed = pa.array(list(self.values)).cast(column.values.type)
        except pa.ArrowException:
            allowed = pa.array([str(value) for value in self.values])
            values = pc.cast(column.values, pa.large_string())
        else:
            values = column.values
        outside = pc.and_not(pc.invert(pc.is_in(values, value_set=allowed)), column.missing)
        shown = ", ".join(repr(value) for value in self.values[:10])
        more = f" and {len(self.values) - 10} more" if len(self.values) > 10 else ""
        return find(outside, f"{{values}} not in the allowed set ({shown}{more})")

    def to_dict(self) -> dict[str, Any]:
        """The rule as written in a schema file."""
        return _dump(self.kind, self.severity, values=list(self.values))


@dataclass(frozen=True)
class RegexRule:
    """Every present value must match a regular expression as a whole (RE2 syntax)."""

    pattern: str
    kind: ClassVar[str] = "regex"
    types: ClassVar[frozenset[LogicalType] | None] = _TEXT
    severity: Severity = Severity.ERROR

    @classmethod
    def from_spec(cls, spec: Spec, logical_type: LogicalType) -> RegexRule:
        """Read the rule from its mapping in a schema file."""
        spec.check_keys({"rule", "pattern", "severity"})
        pattern = spec.string("pattern")
        try:
            re.compile(pattern)
            # Arrow runs RE2, which has no look-around or back-references: refuse those here.
            pc.match_substring_regex(pa.array([""]), f"^(?:{pattern})$")
        except (re.error, pa.ArrowException) as exc:
            raise spec.error("pattern", f"not a valid regular expression: {exc}") from exc
        return cls(pattern, severity=_severity(spec))

    def evaluate(self, column: Column) -> Finding | None:
        """Flag present values that do not match."""
        matches = pc.match_substring_regex(column.values, f"^(?:{self.pattern})$")
        return find(pc.invert(matches), f"{{values}} not matching /{self.pattern}/")

    def to_dict(self) -> dict[str, Any]:
        """The rule as written in a schema file."""
        return _dump(self.kind, self.severity, pattern=self.pattern)


@dataclass(frozen=True)
class LengthRule:
    """Text values must have between min and max characters (inclusive)."""

    min: int | None = None
    max: int | None = None
    kind: ClassVar[str] = "length"
    types: ClassVar[frozenset[LogicalType] | None] = _TEXT
    severity: Severity = Severity.ERROR

    @classmethod
    def from_spec(cls, spec: Spec, logical_type: LogicalType) -> LengthRule:
        """Read the rule from its mapping in a schema file."""
        spec.check_keys({"rule", "min", "max", "severity"})
        low, high = spec.number("min", None), spec.number("max", None)
        if low is None and high is None:
            raise spec.error(None, "a length rule needs `min`, `max` or both")
        return cls(low, high, severity=_severity(spec))

    def evaluate(self, column: Column) -> Finding | None:
        """Flag text whose length is outside the bounds."""
        lengths = pc.utf8_length(column.values)
        low = pc.less(lengths, self.min if self.min is not None else 0)
        outside = low if self.max is None else pc.or_(low, pc.greater(lengths, self.max))
        return find(outside, f"{{values}} with a length outside [{self.min}, {self.max}]")

    def to_dict(self) -> dict[str, Any]:
        """The rule as written in a schema file."""
        return _dump(self.kind, self.severity, min=self.min, max=self.max)


RULES: dict[str, Any] = {
    rule.kind: rule
    for rule in (
        NotNullRule,
        MaxMissingRateRule,
        UniqueRule,
        RangeRule,
        AllowedValuesRule,
        RegexRule,
        LengthRule,
    )
}


def parse_rule(spec: Spec, logical_type: LogicalType) -> ColumnRule:
    """Read one column rule from its mapping in a schema file.

    Raises:
        SchemaFileError: unknown rule, a rule that does not fit the column type, or a bad field.
    """
    kind = spec.choice("rule", tuple(RULES))
    rule_class = RULES[kind]
    if rule_class.types is not None and logical_type not in rule_class.types:
        allowed = ", ".join(sorted(t.value for t in rule_class.types))
        raise spec.error("rule", f"{kind!r} applies to {allowed} columns, not {logical_type.value}")
    rule: ColumnRule = rule_class.from_spec(spec, logical_type)
    return rule
