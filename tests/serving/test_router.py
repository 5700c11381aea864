"""The traffic router: exact weighted splits, sticky keys, shadows, refused splits."""

from __future__ import annotations

from collections import Counter

import pytest

from mloop.errors import InvalidInputError
from mloop.serving.router import Split, TrafficRouter


def test_a_canary_split_is_within_one_percent_over_ten_thousand_requests() -> None:
    router = TrafficRouter(Split({"champion": 90, "challenger": 10}))
    counts = Counter(router.choose() for _ in range(10_000))
    assert abs(counts["challenger"] / 10_000 - 0.10) <= 0.01
    assert abs(counts["champion"] / 10_000 - 0.90) <= 0.01
    # The split is exact, not merely close: every prefix holds its share to within one request.
    router = TrafficRouter(Split({"a": 0.7, "b": 0.2, "c": 0.1}))
    seen: Counter[str] = Counter()
    for index in range(1, 1001):
        seen[router.choose()] += 1
        assert abs(seen["c"] - 0.1 * index) <= 1
        assert abs(seen["b"] - 0.2 * index) <= 1


def test_sticky_keys_always_meet_the_same_version_and_split_as_weighted() -> None:
    router = TrafficRouter(Split({"champion": 90, "challenger": 10}))
    keys = [f"user-{i}" for i in range(10_000)]
    first = {key: router.choose(key) for key in keys}
    assert all(router.choose(key) == first[key] for key in keys[:500])
    share = sum(1 for v in first.values() if v == "challenger") / len(keys)
    assert abs(share - 0.10) <= 0.01
    # bytes keys hash the same as their text
    assert router.choose(b"user-7") == first["user-7"]


def test_a_zero_weight_target_gets_no_traffic_and_shadows_are_not_targets() -> None:
    router = TrafficRouter(Split({"a": 100, "b": 0}, shadows=("s",)))
    assert {router.choose() for _ in range(100)} == {"a"}
    assert {router.choose(f"k{i}") for i in range(1000)} == {"a"}
    assert router.targets == ["a"]
    assert list(router.shadows) == ["s"]


@pytest.mark.parametrize(
    ("weights", "problem"),
    [
        ({}, "at least one"),
        ({"a": -1}, ">= 0"),
        ({"a": 0}, "every traffic weight is 0"),
        ({"a": float("nan")}, ">= 0"),
    ],
)
def test_bad_splits_are_refused(weights: dict[str, float], problem: str) -> None:
    with pytest.raises(InvalidInputError, match=problem):
        Split(weights)
