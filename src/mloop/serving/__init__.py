"""Online serving without a web framework: model holder, batcher, traffic router, prediction log.

`mloop serve` (in `mloop.server.inference`) wraps these in HTTP. Names load their modules on
first use, so `import mloop.serving` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mloop.serving.batcher import Batcher as Batcher
    from mloop.serving.batcher import BatchOptions as BatchOptions
    from mloop.serving.batcher import ServingOverloadedError as ServingOverloadedError
    from mloop.serving.holder import ServedVersion as ServedVersion
    from mloop.serving.holder import load_version as load_version
    from mloop.serving.latency import LatencyModel as LatencyModel
    from mloop.serving.predlog import PredictionLog as PredictionLog
    from mloop.serving.router import Split as Split
    from mloop.serving.router import TrafficRouter as TrafficRouter
    from mloop.serving.service import ModelService as ModelService
    from mloop.serving.service import Resolved as Resolved

_LAZY = {
    "BatchOptions": "mloop.serving.batcher",
    "Batcher": "mloop.serving.batcher",
    "LatencyModel": "mloop.serving.latency",
    "ModelService": "mloop.serving.service",
    "PredictionLog": "mloop.serving.predlog",
    "Resolved": "mloop.serving.service",
    "ServedVersion": "mloop.serving.holder",
    "ServingOverloadedError": "mloop.serving.batcher",
    "Split": "mloop.serving.router",
    "TrafficRouter": "mloop.serving.router",
    "load_version": "mloop.serving.holder",
}

__all__ = [
    "BatchOptions",
    "Batcher",
    "LatencyModel",
    "ModelService",
    "PredictionLog",
    "Resolved",
    "ServedVersion",
    "ServingOverloadedError",
    "Split",
    "TrafficRouter",
    "load_version",
]


def __getattr__(name: str) -> Any:
    """Import an exported name's module on first access."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mloop.serving' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
