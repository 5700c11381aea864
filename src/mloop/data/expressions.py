"""Cross-column expression checks such as `start_date <= end_date` or `price * quantity == total`.

An expression is parsed with Python's `ast` and only an allow-list of nodes is accepted: column
names, literals, arithmetic, comparisons, `and`/`or`/`not` and the functions `abs` and `is_null`.
It is then evaluated node by node with Arrow compute kernels over whole columns; the text is
never passed to `eval`. Column names that are not Python identifiers go in backticks.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from mloop.data.checks import SEVERITIES, Finding, Severity, find
from mloop.data.schema_file import Spec
from mloop.data.tables import Table

MAX_EXPRESSION_LENGTH = 1000
_RELATIVE_TOLERANCE = 1e-9
_BACKTICKED = re.compile(r"`([^`]+)`")

_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: pc.add,
    ast.Sub: pc.subtract,
    ast.Mult: pc.multiply,
    ast.Div: lambda a, b: pc.divide(_as_float(a), _as_float(b)),
    ast.FloorDiv: lambda a, b: pc.floor(pc.divide(_as_float(a), _as_float(b))),
    ast.Pow: lambda a, b: pc.power(_as_float(a), _as_float(b)),
}
_COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Lt: pc.less,
    ast.LtE: pc.less_equal,
    ast.Gt: pc.greater,
    ast.GtE: pc.greater_equal,
    ast.Eq: pc.equal,
    ast.NotEq: pc.not_equal,
}
_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "abs": pc.abs,
    "is_null": lambda a: pc.is_null(a, nan_is_null=True),
}
_BOOLEAN_ROOTS = (ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Call)


def _as_float(value: Any) -> Any:
    return pc.cast(value, pa.float64())


class _Parsed:
    """An allow-listed expression tree and the columns it reads."""

    def __init__(self, text: str) -> None:
        self.aliases: dict[str, str] = {}

        def alias(match: re.Match[str]) -> str:
            name = f"__column_{len(self.aliases)}__"
            self.aliases[name] = match.group(1)
            return name

        self.tree = ast.parse(_BACKTICKED.sub(alias, text).strip(), mode="eval").body
        self.columns: list[str] = []
        for node in _depth_first(self.tree):
            _check_node(node)
            if isinstance(node, ast.Name) and node.id not in _FUNCTIONS:
                column = self.aliases.get(node.id, node.id)
                if column not in self.columns:
                    self.columns.append(column)
        if not isinstance(self.tree, _BOOLEAN_ROOTS):
            raise ValueError("it must be a comparison or a boolean combination of comparisons")


def _depth_first(node: ast.AST) -> Iterator[ast.AST]:
    """Nodes in source order (unlike `ast.walk`), so columns are listed in order of first use."""
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _depth_first(child)


def _check_node(node: ast.AST) -> None:
    """Refuse every node outside the allow-list (attribute access, subscripts, lambdas ...)."""
    allowed = (ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Name, ast.Constant, ast.Call)
    operators: tuple[type[ast.AST], ...] = (
        ast.And,
        ast.Or,
        ast.Not,
        ast.USub,
        ast.UAdd,
        ast.Load,
        *_ARITHMETIC,
        *_COMPARISONS,
    )
    if isinstance(node, operators):
        return
    if not isinstance(node, allowed):
        raise ValueError(f"{type(node).__name__} is not allowed")
    if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str):
        raise ValueError(f"the literal {node.value!r} is not allowed")
    if isinstance(node, ast.Call) and not (
        isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and len(node.args) == 1
        and not node.keywords
    ):
        raise ValueError(f"only the functions {sorted(_FUNCTIONS)} are allowed, with one argument")


class _Evaluator:
    """Evaluates an allow-listed tree over the columns of a table."""

    def __init__(self, parsed: _Parsed, table: Table, tolerance: float) -> None:
        self.parsed = parsed
        self.table = table
        self.tolerance = tolerance

    def value(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            return self.table.columns[self.parsed.aliases.get(node.id, node.id)].values
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.BinOp):
            left, right = self.value(node.left), self.value(node.right)
            return _ARITHMETIC[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp):
            operand = self.value(node.operand)
            if isinstance(node.op, ast.Not):
                return pc.invert(operand)
            return pc.negate(operand) if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BoolOp):
            combine = pc.and_kleene if isinstance(node.op, ast.And) else pc.or_kleene
            result = self.value(node.values[0])
            for operand in node.values[1:]:
                result = combine(result, self.value(operand))
            return result
        if isinstance(node, ast.Call):
            name = node.func.id  # type: ignore[attr-defined]
            return _FUNCTIONS[name](self.value(node.args[0]))
        return self.compare(node)  # type: ignore[arg-type]

    def compare(self, node: ast.Compare) -> Any:
        result = None
        left = self.value(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.value(right_node)
            outcome = self.one_comparison(op, left, right)
            result = outcome if result is None else pc.and_kleene(result, outcome)
            left = right
        return result

    def one_comparison(self, op: ast.cmpop, left: Any, right: Any) -> Any:
        left, right = _coerce_dates(left, right), _coerce_dates(right, left)
        if isinstance(op, ast.Eq | ast.NotEq) and _needs_tolerance(left, right, self.tolerance):
            scale = pc.max_element_wise(pc.abs(_as_float(left)), pc.abs(_as_float(right)))
            limit = pc.add(pc.multiply(scale, _RELATIVE_TOLERANCE), self.tolerance)
            close = pc.less_equal(pc.abs(pc.subtract(_as_float(left), _as_float(right))), limit)
            return close if isinstance(op, ast.Eq) else pc.invert(close)
        return _COMPARISONS[type(op)](left, right)


def _arrow_type(value: Any) -> pa.DataType | None:
    return value.type if isinstance(value, pa.ChunkedArray | pa.Array | pa.Scalar) else None


def _coerce_dates(value: Any, other: Any) -> Any:
    """Read a text literal compared with a date/time column as an ISO date/time."""
    other_type = _arrow_type(other)
    if not isinstance(value, str) or other_type is None:
        return value
    if pa.types.is_timestamp(other_type) or pa.types.is_date(other_type):
        parsed = dt.datetime.fromisoformat(value)
        if pa.types.is_date(other_type):
            return pa.scalar(parsed.date()).cast(other_type)
        return pa.scalar(parsed).cast(other_type)
    return value


def _needs_tolerance(left: Any, right: Any, tolerance: float) -> bool:
    types = [_arrow_type(left), _arrow_type(right)]
    if any(isinstance(side, float) for side in (left, right)):
        return True
    numeric = all(t is None or pa.types.is_integer(t) or pa.types.is_floating(t) for t in types)
    floating = any(t is not None and pa.types.is_floating(t) for t in types)
    return numeric and (floating or tolerance > 0)


@dataclass(frozen=True)
class ExpressionCheck:
    """A rule over one or more columns, written as a boolean expression every row must satisfy.

    Rows where a column the expression reads is missing are not judged (nullability has its own
    rules). `==` and `!=` between floats allow a relative error of 1e-9 plus `tolerance`.

    Attributes:
        expression: the expression, e.g. `price * quantity == total`.
        name: a short name for reports (the expression itself when not given).
        severity: error or warning.
        tolerance: absolute tolerance for `==` and `!=` on numbers.
    """

    expression: str
    name: str = ""
    severity: Severity = Severity.ERROR
    tolerance: float = 0.0
    kind: ClassVar[str] = "expression"
    _parsed: _Parsed = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.expression)
        object.__setattr__(self, "_parsed", parse_expression(self.expression))

    @property
    def columns(self) -> list[str]:
        """The columns the expression reads, in order of first use."""
        return list(self._parsed.columns)

    @classmethod
    def from_spec(cls, spec: Spec, known_columns: set[str]) -> ExpressionCheck:
        """Read a check from its mapping in a schema file, refusing unknown column names."""
        spec.check_keys({"name", "expression", "severity", "tolerance"})
        text = spec.string("expression")
        try:
            check = cls(
                text,
                name=spec.string("name", ""),
                severity=Severity(spec.choice("severity", SEVERITIES, "error")),
                tolerance=float(spec.number("tolerance", 0.0)),
            )
        except ValueError as exc:
            raise spec.error("expression", str(exc)) from exc
        unknown = [column for column in check.columns if column not in known_columns]
        if unknown:
            raise spec.error("expression", f"uses columns the schema does not declare: {unknown}")
        return check

    def evaluate(self, table: Table) -> Finding | None:
        """Flag the rows where the expression is false.

        Raises:
            pyarrow.ArrowException: the column types do not support an operation.
        """
        outcome = _Evaluator(self._parsed, table, self.tolerance).value(self._parsed.tree)
        if not isinstance(outcome, pa.ChunkedArray | pa.Array):
            # Only literals: one answer for every row.
            constant = outcome.as_py() if isinstance(outcome, pa.Scalar) else outcome
            outcome = pa.chunked_array([pa.array([bool(constant)] * table.row_count)])
        return find(pc.invert(outcome), f"{{rows}} break `{self.expression}`")

    def to_dict(self) -> dict[str, Any]:
        """The check as written in a schema file."""
        document: dict[str, Any] = {"name": self.name} if self.name != self.expression else {}
        document["expression"] = self.expression
        if self.tolerance:
            document["tolerance"] = self.tolerance
        document["severity"] = self.severity.value
        return document


def parse_expression(text: str) -> _Parsed:
    """Parse and allow-list an expression.

    Raises:
        ValueError: the text is too long, not valid syntax, or uses something not allowed.
    """
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ValueError(f"an expression may be at most {MAX_EXPRESSION_LENGTH} characters")
    try:
        return _Parsed(text)
    except SyntaxError as exc:
        raise ValueError(f"not a valid expression: {exc.msg}") from exc
    except ValueError as exc:
        raise ValueError(f"not an allowed expression: {exc}") from exc
