"""Parse search filters (a superset of MLflow's) and order-by clauses.

    filter     := or_expr
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := unary ("AND" unary)*
    unary      := "NOT" unary | "(" or_expr ")" | comparison
    comparison := identifier op value | identifier "IS" ["NOT"] "NULL"
    op         := = | != | <> | < | <= | > | >= | [NOT] LIKE | [NOT] ILIKE | [NOT] IN
    identifier := [prefix "."] key      prefix: metrics params tags attributes datasets
                                        (and MLflow's singular forms); key may be `quoted`
                                        or "quoted"; no prefix means an attribute
    value      := number | 'string' | "string" | "(" value ("," value)* ")"

Keywords are case-insensitive. The text is parsed into `syntax` nodes; it never becomes SQL text.
Every failure raises `InvalidFilterError`; nothing else escapes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mloop.errors import InvalidFilterError
from mloop.storage.search.syntax import BoolOp, Comparison, Entity, Node, Not, OrderKey, Value

MAX_FILTER_LENGTH = 20_000
MAX_DEPTH = 32
MAX_COMPARISONS = 200
MAX_IN_VALUES = 1000

_PREFIXES = {
    "metric": Entity.METRIC, "metrics": Entity.METRIC,
    "param": Entity.PARAM, "params": Entity.PARAM, "parameter": Entity.PARAM,
    "parameters": Entity.PARAM,
    "tag": Entity.TAG, "tags": Entity.TAG,
    "attribute": Entity.ATTRIBUTE, "attributes": Entity.ATTRIBUTE, "attr": Entity.ATTRIBUTE,
    "run": Entity.ATTRIBUTE,
    "dataset": Entity.DATASET, "datasets": Entity.DATASET,
}  # fmt: skip

NUMERIC_ATTRIBUTES = frozenset({"start_time", "end_time", "created"})
STRING_ATTRIBUTES = frozenset(
    {"run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage", "experiment_id"}
)
# MLflow's aliases; matched ignoring case, as MLflow accepts `Created` and `Run Name`.
ATTRIBUTE_ALIASES = {
    "created": "start_time",
    "name": "run_name",
    "run name": "run_name",
    "run_uuid": "run_id",
}
_MAX_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Searchable:
    """What a kind of object can be filtered by: runs by default, registry objects too.

    Attributes:
        what: the objects' plural name, for messages ("runs", "model versions").
        entities: the prefixes allowed (runs: all; registered models: attributes and tags).
        numeric: attributes compared as numbers.
        string: attributes compared as strings.
        aliases: other spellings of attribute names, matched ignoring case.
    """

    what: str
    entities: frozenset[Entity]
    numeric: frozenset[str]
    string: frozenset[str]
    aliases: Mapping[str, str] = field(default_factory=dict)


RUNS = Searchable(
    "runs", frozenset(Entity), NUMERIC_ATTRIBUTES, STRING_ATTRIBUTES, ATTRIBUTE_ALIASES
)
DATASET_FIELDS = frozenset({"name", "digest", "context", "source"})

_STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE", "IN", "NOT IN"})
_NUMBER_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_NULL_OPS = frozenset({"IS NULL", "IS NOT NULL"})

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
  | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  | (?P<ident>[A-Za-z_]\w*\."(?:[^"\\]|\\.|"")*"
              |(?:[A-Za-z_]\w*\.)?(?:`[^`]*`|[A-Za-z_][\w\-/.:]*))
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset({"AND", "OR", "NOT", "LIKE", "ILIKE", "IN", "IS", "NULL"})


class _Token:
    __slots__ = ("kind", "pos", "text")

    def __init__(self, kind: str, text: str, pos: int) -> None:
        self.kind = kind
        self.text = text
        self.pos = pos

    @property
    def keyword(self) -> str | None:
        upper = self.text.upper()
        return upper if self.kind == "ident" and upper in _KEYWORDS else None


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise InvalidFilterError(f"unexpected character {text[pos]!r}", text=text, position=pos)
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(kind, match.group(), pos))
        pos = match.end()
    return tokens


def _unquote(text: str) -> str:
    quote = text[0]
    body = text[1:-1]
    if quote == "`":
        return body
    body = body.replace(quote * 2, quote)
    return re.sub(r"\\(.)", r"\1", body)


class _Parser:
    def __init__(self, text: str, searchable: Searchable = RUNS) -> None:
        self.text = text
        self.searchable = searchable
        self.tokens = _tokenize(text)
        self.index = 0
        self.comparisons = 0

    def fail(self, message: str, token: _Token | None = None) -> InvalidFilterError:
        at = token or self.peek()
        return InvalidFilterError(
            message, text=self.text, position=at.pos if at is not None else len(self.text)
        )

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise self.fail("the filter ends too early")
        self.index += 1
        return token

    def take_keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token.keyword in words:
            self.index += 1
            return token.keyword
        return None

    def expect_punct(self, char: str) -> None:
        token = self.take()
        if token.text != char:
            raise self.fail(f"expected {char!r} but found {token.text!r}", token)

    def parse(self) -> Node:
        node = self.or_expr(0)
        extra = self.peek()
        if extra is not None:
            raise self.fail(f"unexpected {extra.text!r}; join conditions with AND or OR", extra)
        return node

    def or_expr(self, depth: int) -> Node:
        items = [self.and_expr(depth)]
        while self.take_keyword("OR"):
            items.append(self.and_expr(depth))
        return items[0] if len(items) == 1 else BoolOp("OR", tuple(items))

    def and_expr(self, depth: int) -> Node:
        items = [self.unary(depth)]
        while self.take_keyword("AND"):
            items.append(self.unary(depth))
        return items[0] if len(items) == 1 else BoolOp("AND", tuple(items))

    def unary(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail(f"nesting deeper than {MAX_DEPTH} levels")
        token = self.peek()
        if token is None:
            raise self.fail("expected a condition but the filter ends")
        if token.keyword == "NOT":
            self.index += 1
            return Not(self.unary(depth + 1))
        if token.text == "(" and token.kind == "punct":
            self.index += 1
            node = self.or_expr(depth + 1)
            self.expect_punct(")")
            return node
        return self.comparison()

    def comparison(self) -> Comparison:
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise self.fail(f"more than {MAX_COMPARISONS} conditions")
        start = self.take()
        if start.kind != "ident" or start.keyword is not None:
            raise self.fail(f"expected a key such as metrics.acc, found {start.text!r}", start)
        entity, key = parse_identifier(
            start.text, text=self.text, position=start.pos, aliases=self.searchable.aliases
        )
        if entity not in self.searchable.entities:
            raise self.fail(f"{self.searchable.what} have no {entity.value}s to filter by", start)
        op = self.operator()
        if op in _NULL_OPS:
            return _checked(Comparison(entity, key, op, None), self, start)
        value = self.values() if op in {"IN", "NOT IN"} else self.value()
        return _checked(Comparison(entity, key, op, value), self, start)

    def operator(self) -> str:
        token = self.take()
        if token.kind == "op":
            return "!=" if token.text == "<>" else token.text
        word = token.keyword
        if word == "IS":
            return self._null("IS NOT NULL" if self.take_keyword("NOT") else "IS NULL")
        if word == "NOT":
            nxt = self.take_keyword("LIKE", "ILIKE", "IN")
            if nxt is None:
                raise self.fail("NOT must be followed by LIKE, ILIKE or IN here")
            return f"NOT {nxt}"
        if word in {"LIKE", "ILIKE", "IN"}:
            return word
        raise self.fail(f"expected a comparison operator, found {token.text!r}", token)

    def _null(self, op: str) -> str:
        if not self.take_keyword("NULL"):
            raise self.fail("IS must be followed by NULL or NOT NULL")
        return op

    def value(self) -> float | str:
        token = self.take()
        if token.kind == "number":
            return float(token.text)
        if token.kind == "string":
            return _unquote(token.text)
        raise self.fail(f"expected a number or a quoted string, found {token.text!r}", token)

    def values(self) -> tuple[float | str, ...]:
        self.expect_punct("(")
        items = [self.value()]
        while (token := self.peek()) is not None and token.text == ",":
            self.index += 1
            items.append(self.value())
            if len(items) > MAX_IN_VALUES:
                raise self.fail(f"IN takes at most {MAX_IN_VALUES} values")
        self.expect_punct(")")
        return tuple(items)


def parse_identifier(
    ident: str, *, text: str, position: int = 0, aliases: Mapping[str, str] = ATTRIBUTE_ALIASES
) -> tuple[Entity, str]:
    """Split `prefix.key` into the entity and the key; no prefix names an attribute.

    Raises:
        InvalidFilterError: the prefix is unknown or the key is empty.
    """
    head, dot, tail = ident.partition(".")
    if ident.startswith("`"):
        entity, key = Entity.ATTRIBUTE, _unquote(ident)
    elif dot and head.lower() in _PREFIXES:
        entity = _PREFIXES[head.lower()]
        key = _unquote(tail) if tail[:1] in {"`", '"'} else tail
    elif dot:
        raise InvalidFilterError(
            f"unknown prefix {head!r}; use metrics., params., tags., attributes. or datasets.",
            text=text,
            position=position,
        )
    else:
        entity, key = Entity.ATTRIBUTE, ident
    if not key:
        raise InvalidFilterError("a key is empty", text=text, position=position)
    if "\x00" in key:
        raise InvalidFilterError("a key contains a NUL character", text=text, position=position)
    if entity is Entity.ATTRIBUTE:
        key = aliases.get(key.lower(), key)
    return entity, key


def _checked(node: Comparison, parser: _Parser, token: _Token) -> Comparison:
    """Refuse operators and values that do not fit the entity (e.g. `params.x > 1`)."""
    message = _type_problem(node, parser.searchable)
    if message is not None:
        raise parser.fail(message, token)
    return node


def _type_problem(node: Comparison, searchable: Searchable) -> str | None:
    entity, key, op = node.entity, node.key, node.op
    values = values_of(node.value)
    if op in _NULL_OPS:
        return None if entity is not Entity.DATASET else "datasets fields are never NULL"
    if entity is Entity.METRIC:
        return _number_problem(f"metrics.{key}", op, values)
    if entity is Entity.ATTRIBUTE:
        if key in searchable.numeric:
            kind = "a time in milliseconds" if "time" in key or key == "created" else "a number"
            return _number_problem(f"attribute {key} ({kind})", op, values)
        if key == "experiment_id" and searchable is RUNS:
            return _experiment_id_problem(op, values)
        if key not in searchable.string:
            listed = searchable.numeric - {"created"} if searchable is RUNS else searchable.numeric
            allowed = ", ".join(sorted(searchable.string | listed))
            return f"unknown attribute {key!r}; attributes are {allowed}"
    elif entity is Entity.DATASET and key not in DATASET_FIELDS:
        return f"unknown datasets field {key!r}; use name, digest, context or source"
    return _string_problem(entity, key, op, values)


def _string_problem(
    entity: Entity, key: str, op: str, values: tuple[float | str, ...]
) -> str | None:
    if op not in _STRING_OPS:
        return f"{entity.value}s compare with = != LIKE ILIKE or IN, not {op}"
    if not all(isinstance(v, str) for v in values):
        return f"{entity.value} {key!r} compares with quoted strings"
    if op.endswith("LIKE") and _ends_with_escape(str(values[0])):
        return (
            "a LIKE pattern cannot end with a lone backslash, which escapes the next character; "
            "to match a backslash, escape it with another one"
        )
    return None


def _number_problem(what: str, op: str, values: tuple[float | str, ...]) -> str | None:
    if op not in _NUMBER_OPS and op not in {"IN", "NOT IN"}:
        return f"{what} compares with = != < <= > >= or IN, not {op}"
    if not all(isinstance(v, float) for v in values):
        return f"{what} compares with numbers"
    return None


def _experiment_id_problem(op: str, values: tuple[float | str, ...]) -> str | None:
    if op not in {"=", "!=", "IN", "NOT IN"}:
        return f"attribute experiment_id compares with = != or IN, not {op}"
    for v in values:
        if isinstance(v, float):
            # An unquoted id is fine while a float holds it exactly.
            ok = v.is_integer() and 0 <= v <= 2**53
        else:
            ok = v.isascii() and v.isdigit() and len(v) <= 19 and int(v) <= _MAX_ID
        if not ok:
            return f"experiment_id takes decimal ids such as '0', got {v!r}"
    return None


def _ends_with_escape(pattern: str) -> bool:
    """True when the pattern ends with an odd run of backslashes (a dangling escape)."""
    return (len(pattern) - len(pattern.rstrip("\\"))) % 2 == 1


def parse_filter(text: str | None, *, searchable: Searchable = RUNS) -> Node | None:
    """Parse a filter; None or blank text means "no filter".

    Args:
        text: the filter.
        searchable: what is searched (runs by default); it decides the keys allowed.

    Raises:
        InvalidFilterError: the text does not parse, is too long, too deep or has too many
            conditions.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        raise InvalidFilterError("the filter must be a string", text=repr(text)[:100])
    if not text.strip():
        return None
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidFilterError(
            f"the filter is {len(text)} characters long; the limit is {MAX_FILTER_LENGTH}",
            text=text[:100],
        )
    if "\x00" in text:
        raise InvalidFilterError(
            "the filter contains a NUL character", text=text[:100], position=text.index("\x00")
        )
    return _Parser(text, searchable).parse()


_ORDER = re.compile(r"^\s*(?P<ident>.+?)(?:\s+(?P<dir>ASC|DESC))?\s*$", re.IGNORECASE | re.DOTALL)


def parse_order_by(clauses: Sequence[str] | None) -> list[OrderKey]:
    """Parse order-by clauses such as `["metrics.acc DESC", "start_time"]`.

    Raises:
        InvalidFilterError: a clause does not parse or names an unknown attribute.
    """
    keys = []
    if isinstance(clauses, str):
        clauses = [clauses]
    for clause in clauses or ():
        match = _ORDER.match(clause) if isinstance(clause, str) else None
        if match is None or not match.group("ident"):
            raise InvalidFilterError(f"cannot parse order-by clause {clause!r}", text=str(clause))
        tokens = _tokenize(match.group("ident"))
        if len(tokens) != 1 or tokens[0].kind != "ident":
            raise InvalidFilterError(
                f"order-by takes one key and ASC or DESC, got {clause!r}", text=clause
            )
        entity, key = parse_identifier(tokens[0].text, text=clause)
        if entity is Entity.DATASET:
            raise InvalidFilterError("runs cannot be ordered by datasets fields", text=clause)
        if entity is Entity.ATTRIBUTE and key not in STRING_ATTRIBUTES | NUMERIC_ATTRIBUTES:
            raise InvalidFilterError(f"unknown attribute {key!r} in order-by", text=clause)
        direction = (match.group("dir") or "ASC").upper()
        keys.append(OrderKey(entity, key, ascending=direction == "ASC"))
    return keys


def values_of(value: Value) -> tuple[float | str, ...]:
    """The values of a comparison as a tuple (one item unless IN)."""
    if value is None:
        return ()
    return value if isinstance(value, tuple) else (value,)
