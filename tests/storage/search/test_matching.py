"""In-memory filter matching: the same grammar as SQL search, evaluated over plain values."""

from __future__ import annotations

import math

import pytest

from mloop.storage.search.matching import lookup_in, matches
from mloop.storage.search.parser import Searchable, parse_filter
from mloop.storage.search.syntax import Entity

_THINGS = Searchable(
    "things",
    frozenset({Entity.ATTRIBUTE, Entity.METRIC, Entity.PARAM, Entity.TAG}),
    frozenset({"size"}),
    frozenset({"name"}),
)
_LOOKUP = lookup_in(
    {"name": "Alpha_1", "size": 3.0},
    params={"p": "x"},
    tags={"t": "50%"},
    metrics={"acc": (0.5, 0.9), "bad": (math.nan,)},
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, True),
        ("name = 'Alpha_1'", True),
        ("name != 'Alpha_1'", False),
        ("name LIKE 'Alpha%'", True),
        ("name LIKE 'alpha%'", False),
        ("name ILIKE 'alpha%'", True),
        ("name NOT LIKE 'A%'", False),
        ("name LIKE 'Alpha\\_1'", True),
        ("name LIKE 'Alpha_'", False),
        ("name IN ('x', 'Alpha_1')", True),
        ("name NOT IN ('x', 'Alpha_1')", False),
        ("size >= 3", True),
        ("size < 3", False),
        ("size = 3", True),
        ("metrics.acc > 0.8", True),
        ("metrics.acc <= 0.4", False),
        ("metrics.bad > 0", False),
        ("metrics.bad != 1", True),
        ("metrics.gone > 0", False),
        ("metrics.gone IS NULL", True),
        ("params.p IS NOT NULL", True),
        ("params.q IS NOT NULL", False),
        ("tags.t LIKE '50\\%'", True),
        ("tags.t = '50'", False),
        ("name = 'Alpha_1' AND params.p = 'y'", False),
        ("name = 'x' OR params.p = 'x'", True),
        ("NOT (params.p = 'x')", False),
    ],
)
def test_filters_match_as_sql_search_would(text: str | None, expected: bool) -> None:
    assert matches(parse_filter(text, searchable=_THINGS), _LOOKUP) is expected


def test_a_backslash_escapes_like_wildcards() -> None:
    # In filter text a backslash is itself escaped, so r"\\_" reaches LIKE as an escaped `_`.
    node = parse_filter(r"name LIKE 'Alpha\\_1'", searchable=_THINGS)
    assert matches(node, lookup_in({"name": "Alpha_1"}))
    assert not matches(node, lookup_in({"name": "AlphaX1"}))


def test_a_string_attribute_compared_with_a_number_never_orders() -> None:
    lookup = lookup_in({"name": "3"})
    node = parse_filter("name = '3'", searchable=_THINGS)
    assert matches(node, lookup)
    numeric = lookup_in({"size": "big"})
    assert not matches(parse_filter("size > 1", searchable=_THINGS), numeric)
    assert matches(parse_filter("size = 1", searchable=_THINGS), lookup_in({"size": "1.0"}))
