"""Evaluate a parsed filter against objects in memory, for small collections.

Runs are searched in SQL (`storage/sql/search.py`); collections that stay small (experiments,
MLflow logged models) are filtered here from the same syntax tree, so both accept one grammar.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from mloop.storage.search.parser import values_of
from mloop.storage.search.syntax import BoolOp, Comparison, Entity, Node, Not

# What an object shows a filter: for an entity and key, its values (several for a metric that
# has several points; none when the key is absent).
Lookup = Callable[[Entity, str], tuple[float | str, ...]]


def matches(node: Node | None, lookup: Lookup) -> bool:
    """True when an object satisfies the filter (None matches everything)."""
    if node is None:
        return True
    if isinstance(node, BoolOp):
        results = (matches(item, lookup) for item in node.items)
        return all(results) if node.op == "AND" else any(results)
    if isinstance(node, Not):
        return not matches(node.item, lookup)
    return _compare(node, lookup(node.entity, node.key))


def lookup_in(
    attributes: Mapping[str, float | str | None],
    *,
    params: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    metrics: Mapping[str, tuple[float, ...]] | None = None,
) -> Lookup:
    """A lookup over plain mappings of attributes, params, tags and metric values."""

    def lookup(entity: Entity, key: str) -> tuple[float | str, ...]:
        if entity is Entity.ATTRIBUTE:
            value = attributes.get(key)
            return () if value is None else (value,)
        if entity is Entity.METRIC:
            return (metrics or {}).get(key, ())
        source = params if entity is Entity.PARAM else tags if entity is Entity.TAG else None
        found = (source or {}).get(key)
        return () if found is None else (found,)

    return lookup


def _compare(node: Comparison, present: tuple[float | str, ...]) -> bool:
    op = node.op
    if op == "IS NULL":
        return not present
    if op == "IS NOT NULL":
        return bool(present)
    wanted = values_of(node.value)
    return any(_holds(op, value, wanted) for value in present)


def _holds(op: str, value: float | str, wanted: tuple[float | str, ...]) -> bool:
    if op in ("IN", "NOT IN"):
        found = any(_equal(value, w) for w in wanted)
        return found if op == "IN" else not found
    target = wanted[0]
    if op.endswith("LIKE"):
        hit = _like(str(target), ignore_case="ILIKE" in op).fullmatch(str(value)) is not None
        return not hit if op.startswith("NOT") else hit
    if op == "=":
        return _equal(value, target)
    if op in ("!=", "<>"):
        return not _equal(value, target)
    return _ordered(op, value, target)


def _equal(value: float | str, target: float | str) -> bool:
    if isinstance(value, str) != isinstance(target, str):
        return str(value) == str(target)
    return value == target


def _ordered(op: str, value: float | str, target: float | str) -> bool:
    if isinstance(value, str) or isinstance(target, str):
        return False
    if math.isnan(value) or math.isnan(target):
        return False
    return {
        "<": value < target,
        "<=": value <= target,
        ">": value > target,
        ">=": value >= target,
    }.get(op, False)


@lru_cache(maxsize=256)
def _like(pattern: str, *, ignore_case: bool) -> re.Pattern[str]:
    # SQL LIKE: % any run, _ one character, backslash escapes the next character.
    parts = []
    escaped = False
    for char in pattern:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))
