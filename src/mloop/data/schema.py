"""The data schema: typed columns with their rules, cross-column checks, and its file form.

A schema file is YAML (or JSON, by suffix) with a `version`, a `columns` mapping and optional
`checks`; `docs/data-validation.md` describes every field. `load_schema` checks the whole file
and names the file, line and field of the first problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mloop.data.checks import ColumnRule, NotNullRule, UniqueRule, parse_rule
from mloop.data.expressions import ExpressionCheck
from mloop.data.schema_file import Spec, read_document, write_document
from mloop.data.tables import LogicalType

SCHEMA_VERSION = 1
EXTRA_COLUMN_POLICIES = ("error", "warning", "ignore")
_TYPES = tuple(t.value for t in LogicalType if t is not LogicalType.EMPTY)
_STATS_KEYS = ("missing_rate", "distinct_count", "min", "max", "mean", "std", "quantiles")


@dataclass(frozen=True)
class ColumnStats:
    """What a column looked like in the reference the schema was inferred from; never checked.

    Attributes:
        missing_rate: share of missing rows.
        distinct_count: number of distinct present values.
        min: smallest value (numbers; ISO text for dates and times).
        max: largest value.
        mean: average (numbers only).
        std: standard deviation (numbers only).
        quantiles: quantiles by name (`p01`, `p50` ...), numbers only.
    """

    missing_rate: float = 0.0
    distinct_count: int | None = None
    min: float | str | None = None
    max: float | str | None = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The stats as written in a schema file (empty fields left out)."""
        document = {key: getattr(self, key) for key in _STATS_KEYS}
        return {key: value for key, value in document.items() if value not in (None, {})}

    @classmethod
    def from_spec(cls, spec: Spec) -> ColumnStats:
        """Read stats from their mapping in a schema file."""
        spec.check_keys(set(_STATS_KEYS))
        quantiles = spec.child("quantiles").data if spec.has("quantiles") else {}
        return cls(
            missing_rate=float(spec.rate("missing_rate", 0.0)),
            distinct_count=spec.number("distinct_count", None),
            min=spec.get("min", None),
            max=spec.get("max", None),
            mean=spec.number("mean", None),
            std=spec.number("std", None),
            quantiles=dict(quantiles),
        )


@dataclass(frozen=True)
class ColumnSchema:
    """One expected column.

    Attributes:
        name: column name.
        type: logical type; integers are accepted where floats are expected, and floats with
            no fractional part where integers are (pandas turns integer columns with missing
            values into floats).
        nullable: whether values may be missing (false adds an error-severity `not_null` rule).
        required: whether the column must be present.
        unique: whether present values must be distinct (adds an error-severity `unique` rule).
        checks: further rules, each with its own severity.
        description: free text for people.
        reference: what the column looked like in the reference, when inferred.
    """

    name: str
    type: LogicalType
    nullable: bool = True
    required: bool = True
    unique: bool = False
    checks: tuple[ColumnRule, ...] = ()
    description: str | None = None
    reference: ColumnStats | None = None

    @property
    def rules(self) -> list[ColumnRule]:
        """Every rule the column is checked against, shorthands (`nullable`, `unique`) first."""
        rules: list[ColumnRule] = []
        if not self.nullable:
            rules.append(NotNullRule())
        if self.unique:
            rules.append(UniqueRule())
        return rules + list(self.checks)

    def to_dict(self) -> dict[str, Any]:
        """The column as written in a schema file."""
        document: dict[str, Any] = {"type": self.type.value}
        if self.description:
            document["description"] = self.description
        document["nullable"] = self.nullable
        if not self.required:
            document["required"] = False
        if self.unique:
            document["unique"] = True
        if self.checks:
            document["checks"] = [rule.to_dict() for rule in self.checks]
        if self.reference is not None:
            document["reference"] = self.reference.to_dict()
        return document

    @classmethod
    def from_spec(cls, name: str, spec: Spec) -> ColumnSchema:
        """Read a column from its mapping in a schema file."""
        spec.check_keys(
            {"type", "description", "nullable", "required", "unique", "checks", "reference"}
        )
        logical_type = LogicalType(spec.choice("type", _TYPES))
        return cls(
            name=name,
            type=logical_type,
            nullable=spec.boolean("nullable", True),
            required=spec.boolean("required", True),
            unique=spec.boolean("unique", False),
            checks=tuple(parse_rule(rule, logical_type) for rule in spec.children("checks")),
            description=spec.string("description", None),
            reference=ColumnStats.from_spec(spec.child("reference"))
            if spec.has("reference")
            else None,
        )


@dataclass(frozen=True)
class Schema:
    """What a table must look like: its columns, their rules and cross-column checks.

    Attributes:
        columns: the expected columns, in order.
        checks: cross-column expression checks.
        extra_columns: what a column the schema does not declare is: `error`, `warning` or
            `ignore`.
        description: free text for people.
        reference_rows: number of rows of the reference the schema was inferred from.
        version: the schema file format version.
    """

    columns: tuple[ColumnSchema, ...]
    checks: tuple[ExpressionCheck, ...] = ()
    extra_columns: str = "warning"
    description: str | None = None
    reference_rows: int | None = None
    version: int = SCHEMA_VERSION

    @property
    def column_names(self) -> list[str]:
        """The declared column names, in order."""
        return [column.name for column in self.columns]

    def column(self, name: str) -> ColumnSchema:
        """The declared column called `name`.

        Raises:
            KeyError: the schema declares no such column.
        """
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The schema as written in a schema file (stable key order)."""
        document: dict[str, Any] = {"version": self.version}
        if self.description:
            document["description"] = self.description
        if self.reference_rows is not None:
            document["reference_rows"] = self.reference_rows
        document["extra_columns"] = self.extra_columns
        document["columns"] = {column.name: column.to_dict() for column in self.columns}
        if self.checks:
            document["checks"] = [check.to_dict() for check in self.checks]
        return document

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], *, source: str | None = None) -> Schema:
        """Read a schema from its document form (as loaded from YAML or JSON).

        Raises:
            SchemaFileError: a field is missing, unknown or wrong; the message names it.
        """
        spec = Spec.root(document, source=source)
        spec.check_keys(
            {"version", "description", "reference_rows", "extra_columns", "columns", "checks"}
        )
        version = spec.number("version")
        if version != SCHEMA_VERSION:
            raise spec.error(
                "version",
                f"this mloop reads schema version {SCHEMA_VERSION}, the file has {version!r}; "
                "upgrade mloop or re-infer the schema",
            )
        columns_spec = spec.child("columns")
        columns = tuple(
            ColumnSchema.from_spec(str(name), columns_spec.child(name))
            for name in columns_spec.data
        )
        if not columns:
            raise spec.error("columns", "a schema needs at least one column")
        known = {column.name for column in columns}
        return cls(
            columns=columns,
            checks=tuple(ExpressionCheck.from_spec(c, known) for c in spec.children("checks")),
            extra_columns=spec.choice("extra_columns", EXTRA_COLUMN_POLICIES, "warning"),
            description=spec.string("description", None),
            reference_rows=spec.number("reference_rows", None),
        )

    def save(self, path: str | Path) -> Path:
        """Write the schema as YAML, or JSON when the path ends in `.json`; returns the path."""
        target = Path(path)
        write_document(self.to_dict(), target)
        return target


def load_schema(path: str | Path) -> Schema:
    """Read and check a schema file (YAML, or JSON by suffix).

    Args:
        path: the file.

    Returns:
        The schema.

    Raises:
        SchemaFileError: the file is missing, not YAML/JSON, or breaks the schema format; the
            message names the file, the line (YAML) and the field.
    """
    source = Path(path)
    return Schema.from_dict(read_document(source), source=str(source))


def save_schema(schema: Schema, path: str | Path) -> Path:
    """Write a schema as YAML, or JSON when the path ends in `.json`; returns the path."""
    return schema.save(path)
