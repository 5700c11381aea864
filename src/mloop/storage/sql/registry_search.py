"""Search registered models and model versions with the runs' filter grammar, in keyset pages.

`name LIKE 'churn%' AND tags.team = 'risk'`, `version > 2`, `run_id = '...'`, `alias = 'champion'`:
the filter is parsed by `storage/search/parser.py` (with the keys each kind of object has) and
compiled here into SQLAlchemy expressions; user text never becomes SQL text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, not_, or_, select, true
from sqlalchemy.engine import Connection

from mloop.errors import InvalidFilterError
from mloop.storage.search.parser import Searchable, parse_filter
from mloop.storage.search.syntax import Comparison, Entity, Node, Not
from mloop.storage.sql.schema_registry import (
    model_aliases,
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)

# The column comparison of run search, shared so both searches match LIKE the same way on both
# backends (explicit escape character).
from mloop.storage.sql.search import (
    SortColumn,
    after_cursor,
    decode_token,
    encode_token,
    query_fingerprint,
)
from mloop.storage.sql.search import _compare as compare_column

_models = registered_models
_versions = model_versions
_TIMES = {"created": "creation_time", "updated": "last_updated_time"}

MODELS = Searchable(
    "registered models",
    frozenset({Entity.ATTRIBUTE, Entity.TAG}),
    numeric=frozenset({"creation_time", "last_updated_time", "latest_version"}),
    string=frozenset({"name", "description"}),
    aliases=_TIMES,
)
VERSIONS = Searchable(
    "model versions",
    frozenset({Entity.ATTRIBUTE, Entity.TAG}),
    numeric=frozenset({"version", "creation_time", "last_updated_time"}),
    string=frozenset(
        {"name", "run_id", "source", "user_id", "package_digest", "description", "alias"}
    ),
    aliases=_TIMES,
)
MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class _Target:
    """How one kind of registry object maps onto tables."""

    searchable: Searchable
    columns: dict[str, Any]
    tags: Any
    tag_owner: Any
    owner: Any
    default_order: tuple[tuple[str, bool], ...]
    orderable: frozenset[str]


_MODEL_TARGET = _Target(
    MODELS,
    columns={
        "name": _models.c.name,
        "description": _models.c.description,
        "creation_time": _models.c.creation_time,
        "last_updated_time": _models.c.last_updated_time,
        "latest_version": _models.c.last_version,
    },
    tags=registered_model_tags,
    tag_owner=registered_model_tags.c.model_id,
    owner=_models.c.id,
    default_order=(("name", True),),
    orderable=frozenset({"name", "creation_time", "last_updated_time", "latest_version"}),
)
_VERSION_TARGET = _Target(
    VERSIONS,
    columns={
        "name": _models.c.name,
        "version": _versions.c.version,
        "run_id": _versions.c.run_id,
        "source": _versions.c.source,
        "user_id": _versions.c.user_id,
        "package_digest": _versions.c.package_digest,
        "description": _versions.c.description,
        "creation_time": _versions.c.creation_time,
        "last_updated_time": _versions.c.last_updated_time,
    },
    tags=model_version_tags,
    tag_owner=model_version_tags.c.version_id,
    owner=_versions.c.id,
    default_order=(("name", True), ("version", False)),
    orderable=frozenset({"name", "version", "creation_time", "last_updated_time"}),
)


def _comparison(node: Comparison, target: _Target) -> ColumnElement[bool]:
    if node.entity is Entity.TAG:
        tags = target.tags
        having_key = select(target.tag_owner).where(tags.c.key == node.key)
        owner: Any = target.owner
        if node.op == "IS NULL":
            return not_(owner.in_(having_key))  # type: ignore[no-any-return]
        if node.op == "IS NOT NULL":
            return owner.in_(having_key)  # type: ignore[no-any-return]
        matching = having_key.where(compare_column(tags.c.value, node.op, node.value))
        return owner.in_(matching)  # type: ignore[no-any-return]
    if node.key == "alias":
        held = exists().where(model_aliases.c.version_id == _versions.c.id)
        if node.op == "IS NULL":
            return not_(held)
        if node.op == "IS NOT NULL":
            return held
        return held.where(compare_column(model_aliases.c.alias, node.op, node.value))
    column = target.columns[node.key]
    if node.op == "IS NULL":
        return column.is_(None)  # type: ignore[no-any-return]
    if node.op == "IS NOT NULL":
        return column.is_not(None)  # type: ignore[no-any-return]
    return compare_column(column, node.op, node.value)


def _compile(node: Node | None, target: _Target) -> ColumnElement[bool]:
    if node is None:
        return true()
    if isinstance(node, Comparison):
        return _comparison(node, target)
    if isinstance(node, Not):
        return not_(_compile(node.item, target))
    parts = [_compile(item, target) for item in node.items]
    return and_(*parts) if node.op == "AND" else or_(*parts)


_ORDER = re.compile(r"^\s*(?P<key>[A-Za-z_]+)(?:\s+(?P<dir>ASC|DESC))?\s*$", re.IGNORECASE)


def _order(clauses: Sequence[str] | None, target: _Target) -> list[tuple[str, bool]]:
    if isinstance(clauses, str):
        clauses = [clauses]
    keys = []
    for clause in clauses or ():
        match = _ORDER.match(clause) if isinstance(clause, str) else None
        key = match.group("key").lower() if match else ""
        key = _TIMES.get(key, key)
        if match is None or key not in target.orderable:
            allowed = ", ".join(sorted(target.orderable))
            raise InvalidFilterError(
                f"cannot order {target.searchable.what} by {clause!r}; use one of {allowed}, "
                "optionally followed by ASC or DESC",
                text=str(clause),
            )
        keys.append((key, (match.group("dir") or "ASC").upper() == "ASC"))
    return keys or list(target.default_order)


@dataclass(frozen=True, slots=True)
class Page:
    """Rows of one page and the token of the next (None on the last page)."""

    rows: list[Any]
    next_page_token: str | None


def search_page(
    conn: Connection,
    base: Select[Any],
    *,
    versions: bool,
    filter_string: str | None,
    order_by: Sequence[str] | None,
    max_results: int,
    page_token: str | None,
) -> Page:
    """One page of `base` (a select over models, or over versions joined to their models).

    Raises:
        InvalidFilterError: the filter, order or page token is malformed, or the page size is
            out of range.
    """
    target = _VERSION_TARGET if versions else _MODEL_TARGET
    if isinstance(max_results, bool) or not isinstance(max_results, int):
        raise InvalidFilterError("max_results must be an integer", text=str(max_results))
    if not 0 < max_results <= MAX_PAGE:
        raise InvalidFilterError(
            f"max_results must be between 1 and {MAX_PAGE}, got {max_results}",
            text=str(max_results),
        )
    node = parse_filter(filter_string, searchable=target.searchable)
    keys = _order(order_by, target)
    sort = [
        SortColumn(
            target.columns[key].label(f"s{i}"),
            ascending,
            kind="text" if key == "name" else "int",
        )
        for i, (key, ascending) in enumerate(keys)
    ]
    sort.append(SortColumn(target.owner.label("sid"), ascending=True))
    query = base.where(_compile(node, target)).add_columns(*(s.expression for s in sort))
    query = query.order_by(
        *(s.expression.asc() if s.ascending else s.expression.desc() for s in sort)
    )
    fingerprint = query_fingerprint(target.searchable.what, filter_string or "", keys)
    if page_token:
        query = query.where(after_cursor(sort, decode_token(page_token, fingerprint, sort)))
    rows = list(conn.execute(query.limit(max_results + 1)).all())
    token = None
    if len(rows) > max_results:
        rows = rows[:max_results]
        labels = [f"s{i}" for i in range(len(keys))] + ["sid"]
        token = encode_token([rows[-1]._mapping[label] for label in labels], fingerprint)
    return Page(rows, token)
