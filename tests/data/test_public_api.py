"""The public names of `mloop.data`: pinned, documented, and loaded lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mloop.data


def test_public_api_is_pinned_documented_and_lazy():
    assert mloop.data.__all__ == sorted(mloop.data.__all__)
    assert mloop.data.__all__ == [
        "ColumnSchema",
        "ExpressionCheck",
        "LogicalType",
        "QualityReport",
        "Schema",
        "Severity",
        "ValidationResult",
        "Violation",
        "add",
        "infer_schema",
        "load",
        "load_schema",
        "profile_quality",
        "snapshot",
        "validate",
    ]
    for name in mloop.data.__all__:
        assert getattr(mloop.data, name).__doc__, name
    with pytest.raises(AttributeError):
        _ = mloop.data.nothing_here
    code = "import sys, mloop.data; print('pyarrow' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
