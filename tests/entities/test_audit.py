"""The audit chain hash of `mloop.entities.audit`."""

from __future__ import annotations

import math

import pytest

from mloop.entities.audit import chain_hash

EVENT = {
    "at_ms": 1_700_000_000_000,
    "actor": "alice",
    "action": "run.delete",
    "entity": ("run", "a" * 32),
    "details": {"reason": "typo", "n": 1},
}


def test_chain_hash_is_64_hex_characters_and_deterministic() -> None:
    first = chain_hash("", **EVENT)  # type: ignore[arg-type]
    assert len(first) == 64
    int(first, 16)
    assert chain_hash("", **EVENT) == first  # type: ignore[arg-type]


def test_chain_hash_ignores_the_order_of_detail_keys() -> None:
    reordered = dict(EVENT, details={"n": 1, "reason": "typo"})
    assert chain_hash("", **reordered) == chain_hash("", **EVENT)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"at_ms": 1_700_000_000_001},
        {"actor": "mallory"},
        {"action": "run.restore"},
        {"entity": ("model", "a" * 32)},
        {"entity": ("run", "b" * 32)},
        {"details": {"reason": "typo", "n": 2}},
        {"details": {}},
    ],
)
def test_changing_any_field_changes_the_hash(change: dict[str, object]) -> None:
    assert chain_hash("", **(EVENT | change)) != chain_hash("", **EVENT)  # type: ignore[arg-type]


def test_the_hash_depends_on_the_previous_hash() -> None:
    assert chain_hash("0" * 64, **EVENT) != chain_hash("", **EVENT)  # type: ignore[arg-type]


def test_fields_cannot_be_shifted_between_each_other() -> None:
    # A naive concatenation would make ("ab", "c") and ("a", "bc") collide.
    left = chain_hash("", **(EVENT | {"actor": "ab", "action": "c"}))  # type: ignore[arg-type]
    right = chain_hash("", **(EVENT | {"actor": "a", "action": "bc"}))  # type: ignore[arg-type]
    assert left != right


def test_nan_in_details_is_refused() -> None:
    with pytest.raises(ValueError, match="JSON"):
        chain_hash("", **(EVENT | {"details": {"x": math.nan}}))  # type: ignore[arg-type]
