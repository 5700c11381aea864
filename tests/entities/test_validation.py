"""The key, value, id and name rules of `mloop.entities.validation`."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from mloop.entities.validation import (
    MAX_KEY_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PARAM_VALUE_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    validate_batch_sizes,
    validate_experiment_id,
    validate_key,
    validate_metric_value,
    validate_name,
    validate_param_value,
    validate_run_id,
    validate_step,
    validate_tag_value,
)
from mloop.errors import InvalidInputError


def test_limits_are_mlflows() -> None:
    assert (MAX_KEY_LENGTH, MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH) == (250, 6000, 8000)


@pytest.mark.parametrize(
    "key",
    [
        "loss",
        "val_loss",
        "train/loss",
        "a-b.c d",
        "UPPER_lower_123",
        "nested/deep/key.v2",
        "a..b",  # dots inside a segment are fine; only a `..` segment is refused
        "x" * 250,
    ],
)
def test_valid_keys_are_returned_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        "",
        "x" * 251,
        "/absolute",
        "../escape",
        "a/../b",
        "a/..",
        "..",
        "semi;colon",
        "quote'",
        "back\\slash",
        "new\nline",
        "tab\tkey",
        "colon:key",
        "star*",
        "percent%",
    ],
)
def test_invalid_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidInputError):
        validate_key(key, kind="metric")


@pytest.mark.parametrize("key", [None, 3, b"bytes", ["list"]])
def test_non_string_keys_are_refused(key: object) -> None:
    with pytest.raises(InvalidInputError, match="non-empty string"):
        validate_key(key, kind="tag")


def test_key_error_is_a_value_error_naming_the_kind() -> None:
    with pytest.raises(ValueError, match="param key"):
        validate_key("bad;key", kind="param")


def test_param_value_up_to_6000_characters_is_accepted() -> None:
    assert validate_param_value("p", "v" * 6000) == "v" * 6000


def test_param_value_over_6000_characters_is_refused_naming_the_key() -> None:
    with pytest.raises(InvalidInputError, match="'p'") as caught:
        validate_param_value("p", "v" * 6001)
    assert caught.value.field == "p"


@pytest.mark.parametrize(
    ("value", "text"), [(1, "1"), (0.5, "0.5"), (True, "True"), (None, "None")]
)
def test_param_values_are_stored_as_their_string_form(value: object, text: str) -> None:
    assert validate_param_value("p", value) == text


def test_tag_value_up_to_8000_characters_is_accepted_and_longer_refused() -> None:
    assert validate_tag_value("t", "v" * 8000) == "v" * 8000
    with pytest.raises(InvalidInputError):
        validate_tag_value("t", "v" * 8001)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1.0),
        (0.25, 0.25),
        (-3, -3.0),
        (np.float32(1.5), 1.5),
        (np.int64(7), 7.0),
        (Decimal("2.5"), 2.5),
        (Fraction(1, 4), 0.25),
        (math.inf, math.inf),
        (-math.inf, -math.inf),
    ],
)
def test_numeric_metric_values_become_floats(value: object, expected: float) -> None:
    number = validate_metric_value("m", value)
    assert type(number) is float
    assert number == expected


def test_nan_metric_value_is_accepted_as_nan() -> None:
    assert math.isnan(validate_metric_value("m", math.nan))
    assert math.isnan(validate_metric_value("m", np.float64("nan")))


@pytest.mark.parametrize("value", [True, False, np.bool_(True), "1.0", b"1", None, [1.0], {}, 1j])
def test_non_numeric_metric_values_are_refused(value: object) -> None:
    with pytest.raises(InvalidInputError, match="must be a number"):
        validate_metric_value("m", value)


@pytest.mark.parametrize(
    ("step", "expected"), [(0, 0), (5, 5), (-1, -1), (3.0, 3), (2**63 - 1, 2**63 - 1)]
)
def test_integer_steps_are_accepted(step: object, expected: int) -> None:
    assert validate_step("m", step) == expected


@pytest.mark.parametrize("step", [1.5, "1", None, True, 2**63, -(2**63) - 1, math.nan, math.inf])
def test_non_integer_or_out_of_range_steps_are_refused(step: object) -> None:
    with pytest.raises(InvalidInputError):
        validate_step("m", step)


def test_timestamps_are_non_negative_integer_milliseconds() -> None:
    from mloop.entities.validation import validate_timestamp_ms

    assert validate_timestamp_ms("m", 0) == 0
    assert validate_timestamp_ms("m", 1_700_000_000_000) == 1_700_000_000_000
    for bad in (-1, 1.5, "1", None, True):
        with pytest.raises(InvalidInputError, match="milliseconds"):
            validate_timestamp_ms("m", bad)


def test_run_ids_are_32_lowercase_hex_characters() -> None:
    assert validate_run_id("0123456789abcdef" * 2) == "0123456789abcdef" * 2
    for bad in (
        "0123456789ABCDEF" * 2,
        "a" * 31,
        "a" * 33,
        "g" * 32,
        "",
        None,
        12,
        "a" * 31 + "\n",
    ):
        with pytest.raises(InvalidInputError) as caught:
            validate_run_id(bad)
        assert caught.value.field == "run_id"


@pytest.mark.parametrize("experiment_id", ["0", "1", "42", "9223372036854775807"])
def test_decimal_experiment_ids_are_accepted(experiment_id: str) -> None:
    assert validate_experiment_id(experiment_id) == int(experiment_id)


@pytest.mark.parametrize(
    "experiment_id",
    ["", "abc", "1.5", "-1", " 1", "1 ", "+1", "1_000", "٣", "9223372036854775808", None, 1],
)
def test_other_experiment_ids_are_refused(experiment_id: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate_experiment_id(experiment_id)
    assert caught.value.field == "experiment_id"


def test_names_must_be_printable_non_empty_and_within_the_limit() -> None:
    assert validate_name("my experiment", kind="experiment") == "my experiment"
    assert validate_name("é 🚀", kind="run") == "é 🚀"
    assert validate_name("n" * MAX_NAME_LENGTH, kind="run") == "n" * MAX_NAME_LENGTH
    for bad in ("", "   ", "n" * (MAX_NAME_LENGTH + 1), "tab\there", "nul\x00", None, 5):
        with pytest.raises(InvalidInputError):
            validate_name(bad, kind="experiment")


def test_batch_limits_are_1000_metrics_100_params_100_tags() -> None:
    validate_batch_sizes(metrics=1000, params=100, tags=100)
    for counts in ({"metrics": 1001}, {"params": 101}, {"tags": 101}):
        sizes = {"metrics": 0, "params": 0, "tags": 0} | counts
        with pytest.raises(InvalidInputError, match="split it"):
            validate_batch_sizes(**sizes)
