"""Turn the search syntax tree into SQLAlchemy expressions, with ordering and keyset pages.

User text never becomes SQL text: keys and values travel as bound parameters.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.engine import Connection

from mloop.entities import RunStatus
from mloop.errors import InvalidFilterError
from mloop.storage.search.parser import parse_filter, parse_order_by, values_of
from mloop.storage.search.syntax import BoolOp, Comparison, Entity, Node, Not, OrderKey
from mloop.storage.sql import schema

_runs = schema.runs
_latest = schema.latest_metrics
_keys = schema.metric_keys
_params = schema.params
_tags = schema.tags
_inputs = schema.run_inputs

_ATTRIBUTE_COLUMNS = {
    "run_id": _runs.c.run_uuid,
    "run_name": _runs.c.name,
    "status": _runs.c.status,
    "user_id": _runs.c.user_id,
    "artifact_uri": _runs.c.artifact_uri,
    "lifecycle_stage": _runs.c.lifecycle_stage,
    "experiment_id": _runs.c.experiment_id,
    "start_time": _runs.c.start_time,
    "end_time": _runs.c.end_time,
}
DEFAULT_ORDER = (OrderKey(Entity.ATTRIBUTE, "start_time", ascending=False),)
RUN_WIDTH = len(_runs.c)
"""Columns of a run row before the sort values in a search's rows."""


def _key_id(key: str) -> Any:
    return select(_keys.c.id).where(_keys.c.key == key).scalar_subquery()


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    values = values_of(value)
    if op == "=":
        return column == values[0]  # type: ignore[no-any-return]
    if op == "!=":
        return column != values[0]  # type: ignore[no-any-return]
    if op == "<":
        return column < values[0]  # type: ignore[no-any-return]
    if op == "<=":
        return column <= values[0]  # type: ignore[no-any-return]
    if op == ">":
        return column > values[0]  # type: ignore[no-any-return]
    if op == ">=":
        return column >= values[0]  # type: ignore[no-any-return]
    # An explicit escape character: PostgreSQL escapes with a backslash by default and SQLite
    # has none, so without it one pattern would match differently on the two backends.
    if op in {"LIKE", "NOT LIKE"}:
        matched = column.like(values[0], escape="\\")
    elif op in {"ILIKE", "NOT ILIKE"}:
        matched = func.lower(column).like(func.lower(literal(values[0])), escape="\\")
    elif op in {"IN", "NOT IN"}:
        matched = column.in_(list(values))
    else:  # pragma: no cover - the parser admits no other operator
        raise InvalidFilterError(f"unsupported operator {op}", text=op)
    return not_(matched) if op.startswith("NOT ") else matched  # type: ignore[no-any-return]


def _runs_having(
    table: Any, key_clause: Any, condition: Any, *, correlated: bool
) -> ColumnElement[bool]:
    if correlated:  # checked run by run: for plans that visit few runs (metric-led order)
        return exists().where(table.c.run_id == _runs.c.id, key_clause, condition)
    return _runs.c.id.in_(select(table.c.run_id).where(key_clause, condition))


def _comparison(node: Comparison, *, correlated: bool) -> ColumnElement[bool]:
    op = node.op
    if node.entity is Entity.ATTRIBUTE:
        column = _ATTRIBUTE_COLUMNS[node.key]
        if op == "IS NULL":
            return column.is_(None)
        if op == "IS NOT NULL":
            return column.is_not(None)
        return _compare(column, op, _attribute_value(node))
    if node.entity is Entity.DATASET:
        condition = _compare(_inputs.c[node.key], op, node.value)
        return _runs_having(_inputs, true(), condition, correlated=correlated)
    if node.entity is Entity.METRIC:
        table, key_clause = _latest, _latest.c.key_id == _key_id(node.key)
        value_clause: Any = _latest.c.is_nan == false()
        column = _latest.c.value
    else:
        table = _params if node.entity is Entity.PARAM else _tags
        key_clause, value_clause, column = table.c.key == node.key, true(), table.c.value
    if op == "IS NULL":
        return not_(_runs_having(table, key_clause, true(), correlated=correlated))
    if op == "IS NOT NULL":
        return _runs_having(table, key_clause, true(), correlated=correlated)
    condition = and_(value_clause, _compare(column, op, node.value))
    return _runs_having(table, key_clause, condition, correlated=correlated)


def _attribute_value(node: Comparison) -> Any:
    if node.key != "experiment_id":
        return node.value
    # The parser admits only decimal ids within the 64-bit range here.
    numbers = tuple(int(v) for v in values_of(node.value))
    return numbers if isinstance(node.value, tuple) else numbers[0]


def compile_filter(node: Node | None, *, correlated: bool = False) -> ColumnElement[bool]:
    """The WHERE condition of a filter tree (true for no filter).

    Args:
        node: the filter tree.
        correlated: test conditions on child tables run by run (EXISTS), for plans that visit
            runs in order and stop early, instead of collecting matching runs up front (IN).
    """
    if node is None:
        return true()
    if isinstance(node, Comparison):
        return _comparison(node, correlated=correlated)
    if isinstance(node, Not):
        return not_(compile_filter(node.item, correlated=correlated))
    parts = [compile_filter(item, correlated=correlated) for item in node.items]
    return and_(*parts) if node.op == "AND" else or_(*parts)


@dataclass(frozen=True, slots=True)
class SortColumn:
    """One column of the sort, with its direction; every value is non-null.

    Attributes:
        expression: the labelled column expression.
        ascending: the direction.
        kind: what its values are: "int" (a flag or the run's id), "number" or "text"; a
            page token's values are checked against it before they reach the database.
    """

    expression: Any
    ascending: bool
    kind: str = "int"
    is_constant: bool = False


def ordered_query(
    base: Select[Any], keys: Sequence[OrderKey], *, lead: Any | None = None
) -> tuple[Select[Any], list[SortColumn]]:
    """Add the sort columns for `keys` (plus the unique run id) to a query over runs.

    Missing values (a run without that metric, param or tag, or a NaN metric) sort last in
    either direction: each key becomes a "missing" flag (ascending) and a non-null value.

    Args:
        base: the query.
        keys: the order.
        lead: in the metric-led plan (`lead_query`), the inner-joined row of the first key's
            metric: its value sorts directly and its flag is a constant 0.
    """
    sort: list[SortColumn] = []
    query = base
    for index, key in enumerate(list(keys) or list(DEFAULT_ORDER)):
        if index == 0 and lead is not None:
            sort.append(SortColumn(literal(0).label("s0m"), ascending=True, is_constant=True))
            sort.append(SortColumn(lead.c.value.label("s0v"), key.ascending, kind="number"))
            continue
        value, query = _order_value(query, key, index)
        missing = case((value.is_(None), 1), else_=0)
        filler: Any = literal(0) if _is_numeric(key) else literal("")
        sort.append(SortColumn(missing.label(f"s{index}m"), ascending=True))
        sort.append(
            SortColumn(
                func.coalesce(value, filler).label(f"s{index}v"),
                key.ascending,
                kind="number" if _is_numeric(key) else "text",
            )
        )
    sort.append(SortColumn(_runs.c.id.label("sid"), ascending=True))
    query = query.add_columns(*(s.expression for s in sort)).order_by(
        *(
            s.expression.asc() if s.ascending else s.expression.desc()
            for s in sort
            if not s.is_constant
        )
    )
    return query, sort


def lead_query(first: OrderKey) -> tuple[Select[Any], Any]:
    """The start of the metric-led plan, used when the first order key is a metric.

    It visits the runs that have that metric (not NaN) through the `(key_id, value)` index in
    order, so a page stops after its rows instead of sorting every match.

    Returns:
        The query (filters still to add, with `compile_filter(..., correlated=True)`) and the
        joined metric row to pass to `ordered_query` as `lead`.
    """
    lead = _latest.alias("o0")
    query = (
        select(*_runs.c)
        .select_from(lead.join(_runs, _runs.c.id == lead.c.run_id))
        .where(lead.c.key_id == _key_id(first.key), lead.c.is_nan == false())
    )
    return query, lead


def _is_numeric(key: OrderKey) -> bool:
    if key.entity is Entity.METRIC:
        return True
    return key.entity is Entity.ATTRIBUTE and key.key in {"start_time", "end_time", "experiment_id"}


def _order_value(query: Select[Any], key: OrderKey, index: int) -> tuple[Any, Select[Any]]:
    if key.entity is Entity.ATTRIBUTE:
        return _ATTRIBUTE_COLUMNS[key.key], query
    if key.entity is Entity.METRIC:
        alias = _latest.alias(f"o{index}")
        joined = query.join_from(
            _runs,
            alias,
            and_(alias.c.run_id == _runs.c.id, alias.c.key_id == _key_id(key.key)),
            isouter=True,
        )
        return case((alias.c.is_nan == true(), None), else_=alias.c.value), joined
    table = _params if key.entity is Entity.PARAM else _tags
    alias = table.alias(f"o{index}")
    joined = query.join_from(
        _runs, alias, and_(alias.c.run_id == _runs.c.id, alias.c.key == key.key), isouter=True
    )
    return alias.c.value, joined


def after_cursor(sort: Sequence[SortColumn], last: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `last` in the sort order (keyset pagination)."""
    alternatives = []
    for i, column in enumerate(sort):
        equal_prefix = [sort[j].expression.element == last[j] for j in range(i)]
        element = column.expression.element
        beyond = element > last[i] if column.ascending else element < last[i]
        alternatives.append(and_(*equal_prefix, beyond))
    # Implied by the alternatives, but a plain range on the first real sort column lets the
    # database start an index scan there instead of filtering from the beginning.
    first = next((i for i, c in enumerate(sort) if not c.is_constant), None)
    if first is None:
        return or_(*alternatives)
    element = sort[first].expression.element
    not_before = element >= last[first] if sort[first].ascending else element <= last[first]
    constants = [sort[j].expression.element == last[j] for j in range(first)]
    return and_(*constants, not_before, or_(*alternatives))


def query_fingerprint(*parts: object) -> str:
    """A short digest of what a page token belongs to, so it cannot be reused elsewhere."""
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


MAX_TOKEN_LENGTH = 200_000
_MAX_INT = 2**63 - 1


def _fits(values: list[Any], sort: Sequence[SortColumn]) -> bool:
    """True when each value has its column's kind, so a forged token cannot upset the SQL."""
    if len(values) != len(sort):
        return False
    for value, column in zip(values, sort, strict=True):
        if column.kind == "text":
            ok = isinstance(value, str) and "\x00" not in value
        elif isinstance(value, bool) or not isinstance(value, int | float):
            ok = False
        elif column.kind == "int":
            ok = isinstance(value, int) and -_MAX_INT <= value <= _MAX_INT
        else:
            ok = not math.isnan(value) and (not isinstance(value, int) or abs(value) <= _MAX_INT)
        if not ok:
            return False
    return True


def encode_token(last: Sequence[Any], fingerprint: str) -> str:
    """An opaque page token holding the last row's sort values."""
    payload = json.dumps({"v": list(last), "q": fingerprint}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_token(token: str, fingerprint: str, sort: Sequence[SortColumn]) -> list[Any]:
    """The sort values in a page token, checked against the kinds of the sort columns.

    Raises:
        InvalidFilterError: the token is malformed or belongs to another query.
    """
    try:
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
            raise ValueError("not a token")
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        values: list[Any] = payload["v"]
        matches = payload["q"] == fingerprint and isinstance(values, list)
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise InvalidFilterError("the page token is malformed", text=str(token)[:80]) from exc
    if matches and not _fits(values, sort):
        raise InvalidFilterError("the page token is malformed", text=token[:80])
    if not matches:
        raise InvalidFilterError(
            "the page token belongs to another search (filter, order or experiments changed); "
            "start again without a token",
            text=token[:80],
        )
    return values


def equality_conditions(
    node: Node | None,
    params: dict[str, str] | None,
    tags: dict[str, str] | None,
    status: RunStatus | None,
) -> Node | None:
    """The filter tree with the equality shorthands ANDed in."""
    extra: list[Node] = [Comparison(Entity.PARAM, k, "=", v) for k, v in (params or {}).items()]
    extra += [Comparison(Entity.TAG, k, "=", v) for k, v in (tags or {}).items()]
    if status is not None:
        extra.append(Comparison(Entity.ATTRIBUTE, "status", "=", RunStatus(status).value))
    items = ([node] if node is not None else []) + extra
    if not items:
        return None
    return items[0] if len(items) == 1 else BoolOp("AND", tuple(items))


@dataclass(frozen=True)
class SearchPlan:
    """The statements of one search (filter, order and scope), built once and reused per page.

    Each statement selects every column of `runs` (`RUN_WIDTH` of them), then the sort values.

    Attributes:
        generic: every matching run with its sort values, sorted.
        sort: the sort columns of `generic` (what page tokens hold).
        led: with a metric as first order key, the metric-led statement (`lead_query`).
        led_sort: the sort columns of `led`.
    """

    generic: Any
    sort: list[SortColumn]
    led: Any | None = None
    led_sort: list[SortColumn] | None = None


def search_plan(ids: list[int] | None, request: tuple[Any, ...]) -> SearchPlan:
    """The statements of a search, reused when the same search comes again.

    A UI refreshing, a script polling and the next pages repeat searches; building the
    statements costs about as much as running them on a thousand runs.

    Args:
        ids: the experiments searched (None: all).
        request: filter string, order-by, params, tags, status and include_deleted, as
            `RunStore.search` takes them.

    Raises:
        InvalidFilterError: the filter or the order is malformed.
    """
    filter_string, order_by, params, tags, status, include_deleted = request
    try:
        key = (
            None if ids is None else tuple(ids),
            filter_string,
            (order_by,) if isinstance(order_by, str) else tuple(order_by or ()),
            None if params is None else tuple(sorted(params.items())),
            None if tags is None else tuple(sorted(tags.items())),
            status,
            include_deleted,
        )
        hash(key)
    except (TypeError, AttributeError):  # malformed arguments: let the parser explain them
        return _build_search_plan((ids, *request))
    return _cached_search_plan(key)


@functools.lru_cache(maxsize=256)
def _cached_search_plan(key: tuple[Any, ...]) -> SearchPlan:
    ids, filter_string, order_by, params, tags, status, include_deleted = key
    return _build_search_plan(
        (
            None if ids is None else list(ids),
            filter_string,
            list(order_by),
            None if params is None else dict(params),
            None if tags is None else dict(tags),
            status,
            include_deleted,
        )
    )


def _build_search_plan(search: tuple[Any, ...]) -> SearchPlan:
    ids, filter_string, order_by, params, tags, status, include_deleted = search
    condition = equality_conditions(parse_filter(filter_string), params, tags, status)
    keys = parse_order_by(order_by)
    scope = [_runs.c.lifecycle_stage == "active"] if not include_deleted else []
    if ids is not None:
        scope.append(_runs.c.experiment_id.in_(ids))
    return plan_search(condition, keys, scope)


def plan_search(condition: Node | None, keys: list[OrderKey], scope: list[Any]) -> SearchPlan:
    """Build the statements of a search; they hold no page position, so a plan is reusable.

    Raises:
        InvalidFilterError: a value in the filter does not fit its key.
    """
    # Whole run rows: the page needs no second query for them.
    base = select(*_runs.c).select_from(_runs).where(compile_filter(condition), *scope)
    generic, sort = ordered_query(base, keys)
    if not (keys and keys[0].entity is Entity.METRIC):
        return SearchPlan(generic, sort)
    lead, joined = lead_query(keys[0])
    led, led_sort = ordered_query(
        lead.where(compile_filter(condition, correlated=True), *scope), keys, lead=joined
    )
    return SearchPlan(generic, sort, led, led_sort)


def page_rows(
    conn: Connection, plan: SearchPlan, *, last: list[Any] | None, max_results: int
) -> list[Any]:
    """The next `max_results + 1` (run columns..., sort values...) rows of a search.

    When the first order key is a metric, runs that have it are read first through the
    metric's value index, stopping as soon as the page is full (a million runs answer in
    milliseconds); runs lacking it, which sort after them, are read only to fill a page.
    """
    wanted = max_results + 1
    if plan.led is not None and plan.led_sort is not None and (last is None or last[0] == 0):
        led = plan.led if last is None else plan.led.where(after_cursor(plan.led_sort, last))
        rows = list(conn.execute(led.limit(wanted)).all())
        if len(rows) == wanted:
            return rows
        missing_only = plan.sort[0].expression.element == 1
        rest = plan.generic.where(missing_only).limit(wanted - len(rows))
        return rows + list(conn.execute(rest))
    generic = plan.generic if last is None else plan.generic.where(after_cursor(plan.sort, last))
    return list(conn.execute(generic.limit(wanted)).all())
