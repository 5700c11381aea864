"""Search of MLflow logged models in memory: the filter's keys, order and page tokens.

Logged models are few per experiment (one per `log_model` call), so the store loads an
experiment's models and this module filters, orders and pages them with the shared grammar.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from mloop.entities.logged_models import LoggedModel
from mloop.errors import InvalidFilterError
from mloop.storage.search.matching import Lookup, lookup_in
from mloop.storage.search.parser import Searchable
from mloop.storage.search.syntax import Entity

_NUMERIC = frozenset({"creation_timestamp", "last_updated_timestamp"})
_STRING = frozenset({"name", "model_id", "model_type", "status", "source_run_id"})
SEARCHABLE = Searchable(
    "logged models",
    frozenset({Entity.ATTRIBUTE, Entity.METRIC, Entity.PARAM, Entity.TAG}),
    _NUMERIC,
    _STRING,
    {"creation_time": "creation_timestamp", "last_updated_time": "last_updated_timestamp"},
)


def lookup(model: LoggedModel) -> Lookup:
    """What a filter sees of a model: attributes, params, tags and every metric value."""
    values: dict[str, list[float]] = {}
    for metric in model.metrics:
        values.setdefault(metric.key, []).append(metric.value)
    return lookup_in(
        {
            "name": model.name,
            "model_id": model.model_id,
            "model_type": model.model_type,
            "status": model.status.value,
            "source_run_id": model.source_run_id,
            "creation_timestamp": float(model.created_at_ms),
            "last_updated_timestamp": float(model.updated_at_ms),
        },
        params=model.params,
        tags=model.tags,
        metrics={k: tuple(v) for k, v in values.items()},
    )


def _sort_value(model: LoggedModel, field: str) -> Any:
    entity, _, key = field.partition(".")
    if entity in ("metrics", "metric"):
        points = [m for m in model.metrics if m.key == key]
        return max(points, key=lambda m: (m.step, m.timestamp_ms)).value if points else None
    if entity in ("params", "param"):
        return model.params.get(key)
    if entity in ("tags", "tag"):
        return model.tags.get(key)
    attributes = {
        "name": model.name,
        "model_id": model.model_id,
        "model_type": model.model_type,
        "status": model.status.value,
        "source_run_id": model.source_run_id,
        "creation_timestamp": model.created_at_ms,
        "creation_time": model.created_at_ms,
        "last_updated_timestamp": model.updated_at_ms,
        "last_updated_time": model.updated_at_ms,
    }
    if field not in attributes:
        raise InvalidFilterError(f"cannot order logged models by {field!r}", text=field)
    return attributes[field]


def ordered(models: list[LoggedModel], order_by: Sequence[tuple[str, bool]]) -> list[LoggedModel]:
    """Models sorted by (field, ascending) keys after the default newest-first order.

    Raises:
        InvalidFilterError: a field cannot be ordered by.
    """
    # Stable sorts from the last key to the first; models lacking a key sort last either way.
    result = sorted(models, key=lambda m: (-m.created_at_ms, m.model_id))
    for field, ascending in reversed(order_by):
        present = [m for m in result if _sort_value(m, field) is not None]
        absent = [m for m in result if _sort_value(m, field) is None]
        present.sort(key=lambda m: _sort_value(m, field), reverse=not ascending)
        result = present + absent
    return result


def encode_token(offset: int, fingerprint: str) -> str:
    """A page token: the next offset, tied to the query it belongs to."""
    raw = json.dumps({"offset": offset, "query": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_token(token: str, fingerprint: str) -> int:
    """The offset in a page token of this query.

    Raises:
        InvalidFilterError: the token is malformed or belongs to another query.
    """
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(data["offset"])
        same = data["query"] == fingerprint
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InvalidFilterError("the page token is malformed", text=token[:100]) from exc
    if not same or offset < 0:
        raise InvalidFilterError(
            "the page token belongs to another search; pass the same experiments, filter and "
            "order as the first page",
            text=token[:100],
        )
    return offset
