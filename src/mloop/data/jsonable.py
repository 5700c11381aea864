"""Turn values read from a table into JSON-safe Python values for results and schema files."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any


def jsonable(value: Any) -> Any:
    """A JSON-safe form of one value.

    Dates and times become ISO text, NaN becomes None and infinities the text `inf`/`-inf`
    (JSON has neither), decimals become floats, bytes become text, NumPy scalars become
    Python ones; lists and mappings are converted item by item.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return _float(float(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if hasattr(value, "item"):  # a NumPy scalar
        return jsonable(value.item())
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return str(value)


def _float(value: float) -> float | str | None:
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def rounded(value: float | None, digits: int = 6) -> float | None:
    """A float rounded to `digits` significant digits, for readable reports; None stays None."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.{digits}g}")
