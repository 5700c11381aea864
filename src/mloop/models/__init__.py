"""Model packages: save a model with its signature and requirements, load it, predict.

`save_model` writes a package folder (`mloop-model.yaml` plus the flavor's files);
`load_package` reads one back as a `LoadedModel`. Logging a package into a run and loading by
`runs:/` or `models:/` URI live in the client (`mloop.log_model`, `mloop.load_model`), and are
also reachable here as `mloop.models.log_model` / `mloop.models.load_model`.

Names load their modules on first use, so `import mloop.models` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mloop.models.inputs import ModelInputWarning as ModelInputWarning
    from mloop.models.loaded import LoadedModel as LoadedModel
    from mloop.models.loaded import load_package as load_package
    from mloop.models.package import ModelPackage as ModelPackage
    from mloop.models.package import OnnxExport as OnnxExport
    from mloop.models.package import read_package as read_package
    from mloop.models.saving import save_model as save_model
    from mloop.models.signature import ColumnSpec as ColumnSpec
    from mloop.models.signature import Signature as Signature
    from mloop.models.signature import infer_signature as infer_signature

_LAZY = {
    "ColumnSpec": "mloop.models.signature",
    "LoadedModel": "mloop.models.loaded",
    "ModelInputWarning": "mloop.models.inputs",
    "ModelPackage": "mloop.models.package",
    "OnnxExport": "mloop.models.package",
    "Signature": "mloop.models.signature",
    "infer_signature": "mloop.models.signature",
    "load_package": "mloop.models.loaded",
    "read_package": "mloop.models.package",
    "save_model": "mloop.models.saving",
}

__all__ = [
    "ColumnSpec",
    "LoadedModel",
    "ModelInputWarning",
    "ModelPackage",
    "OnnxExport",
    "Signature",
    "infer_signature",
    "load_package",
    "read_package",
    "save_model",
]


def __getattr__(name: str) -> Any:
    """Import an exported name's module on first access.

    `log_model` and `load_model` are the client's (they need a run and a store): the issue
    spells them `mloop.models.log_model`, so they are handed out from here too, imported only
    when asked for; this package itself does not depend on the client. `validate` and `promote`
    (the validation gates on the default store) are handed out the same way.
    """
    if name in ("log_model", "load_model"):
        import mloop.client.models

        return getattr(mloop.client.models, name)
    if name in ("validate", "promote"):
        # the validation gates on the default store (mloop.gates takes a store)
        import mloop.client.gates

        return getattr(mloop.client.gates, name)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mloop.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__, "load_model", "log_model", "promote", "validate"])
