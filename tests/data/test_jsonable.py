"""JSON-safe forms of values read from tables."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import numpy as np

from mloop.data.jsonable import jsonable, rounded


def test_values_become_strict_json():
    values = [
        float("nan"),
        float("inf"),
        -float("inf"),
        dt.datetime(2024, 1, 2, 3, 4, 5),
        dt.date(2024, 1, 2),
        dt.time(3, 4),
        decimal.Decimal("1.5"),
        b"\xffab",
        np.int64(3),
        np.float32(0.5),
        dt.timedelta(minutes=1),
        {1: [np.bool_(True)]},
        (1, "a"),
        object,
    ]
    converted = jsonable(values)
    assert converted[:13] == [
        None,
        "inf",
        "-inf",
        "2024-01-02T03:04:05",
        "2024-01-02",
        "03:04:00",
        1.5,
        "\ufffdab",
        3,
        0.5,
        60.0,
        {"1": [True]},
        [1, "a"],
    ]
    assert converted[13] == "<class 'object'>"
    json.dumps(converted, allow_nan=False)


def test_rounded_keeps_six_significant_digits():
    assert rounded(1234567.891) == 1234570.0
    assert rounded(0.000123456789) == 0.000123457
    assert rounded(None) is None
    assert rounded(float("nan")) is None
