"""Data: dataset versions, schemas, validation and data-quality reports.

The names below load their modules (and pyarrow) on first use, so `import mloop.data` stays light.

`add`, `snapshot` and `load` are the fluent versions that use the default store; they live in
`mloop.client.datasets` (the layer that owns the default store) and are only re-exported here,
lazily, so that `mloop.data.snapshot(df, name)` works as the issue and docs show. The stage
functions that take a store are `mloop.data.snapshots.add/snapshot`, `mloop.data.loading.load`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mloop.data.checks import Severity as Severity
    from mloop.data.expressions import ExpressionCheck as ExpressionCheck
    from mloop.data.inference import infer_schema as infer_schema
    from mloop.data.quality import QualityReport as QualityReport
    from mloop.data.quality import profile_quality as profile_quality
    from mloop.data.results import ValidationResult as ValidationResult
    from mloop.data.results import Violation as Violation
    from mloop.data.schema import ColumnSchema as ColumnSchema
    from mloop.data.schema import Schema as Schema
    from mloop.data.schema import load_schema as load_schema
    from mloop.data.tables import LogicalType as LogicalType
    from mloop.data.validation import validate as validate

_LAZY = {
    "ColumnSchema": "mloop.data.schema",
    "ExpressionCheck": "mloop.data.expressions",
    "LogicalType": "mloop.data.tables",
    "QualityReport": "mloop.data.quality",
    "Schema": "mloop.data.schema",
    "Severity": "mloop.data.checks",
    "ValidationResult": "mloop.data.results",
    "Violation": "mloop.data.results",
    "infer_schema": "mloop.data.inference",
    "load_schema": "mloop.data.schema",
    "profile_quality": "mloop.data.quality",
    "validate": "mloop.data.validation",
    # The fluent dataset API, which needs the default store (see the module docstring).
    "add": "mloop.client.datasets",
    "load": "mloop.client.datasets",
    "snapshot": "mloop.client.datasets",
}

__all__ = [
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


def __getattr__(name: str) -> Any:
    """Import an exported name's module on first access."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mloop.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
