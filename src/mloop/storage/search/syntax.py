"""The syntax tree of a search filter and an order-by clause."""

from __future__ import annotations

import enum
from dataclasses import dataclass

Value = float | str | tuple[float | str, ...] | None


class Entity(enum.StrEnum):
    """What a key names: a run's metric, param, tag, attribute or input dataset."""

    METRIC = "metric"
    PARAM = "param"
    TAG = "tag"
    ATTRIBUTE = "attribute"
    DATASET = "dataset"


@dataclass(frozen=True, slots=True)
class Comparison:
    """`entity.key op value`, e.g. metrics.acc > 0.9.

    Attributes:
        entity: what the key names.
        key: the metric/param/tag name, attribute name or dataset field.
        op: one of = != < <= > >= LIKE ILIKE NOT LIKE NOT ILIKE IN NOT IN IS NULL IS NOT NULL.
        value: a number, a string, a tuple (IN) or None (IS NULL).
    """

    entity: Entity
    key: str
    op: str
    value: Value


@dataclass(frozen=True, slots=True)
class BoolOp:
    """Several conditions joined by AND or OR."""

    op: str
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The negation of a condition."""

    item: Node


Node = Comparison | BoolOp | Not


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One key of an order-by clause, e.g. `metrics.acc DESC`."""

    entity: Entity
    key: str
    ascending: bool = True
