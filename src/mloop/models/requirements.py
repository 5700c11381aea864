"""The pinned requirements of a model: the installed distributions its code comes from.

Flavors name the top-level modules a model needs (the classes in an estimator tree, the globals
a pickle refers to); this module maps them to installed distributions and their versions. Only
the few distributions asked about are looked up (about a millisecond each), never the whole
environment.
"""

from __future__ import annotations

import pickletools
import sys
from collections.abc import Iterable
from functools import cache

# Modules whose distribution has another name; anything else is tried under its own name and
# then through `importlib.metadata.packages_distributions()` (which reads every installed
# distribution, so only on a miss).
_KNOWN_DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "skops": "skops",
    "numpy": "numpy",
    "scipy": "scipy",
    "pandas": "pandas",
    "onnxruntime": "onnxruntime",
    "cloudpickle": "cloudpickle",
    "joblib": "joblib",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "yaml": "pyyaml",
    "mloop": "mloop",
}
_IGNORED = frozenset({"builtins", "__main__", "copyreg", "_codecs"})


def top_level(module: str) -> str:
    """The top-level package of a dotted module name."""
    return module.partition(".")[0]


def pinned_requirements(modules: Iterable[str]) -> list[str]:
    """Sorted `distribution==version` lines for the distributions that provide `modules`.

    Standard-library modules and modules that no installed distribution provides (a script's
    own code) are left out.
    """
    found: set[str] = set()
    for module in {top_level(m) for m in modules}:
        if module in _IGNORED or module in sys.stdlib_module_names or module.startswith("_"):
            continue
        found.update(_requirements(module))
    return sorted(found, key=str.lower)


@cache
def _requirements(module: str) -> tuple[str, ...]:
    from importlib import metadata

    name = _KNOWN_DISTRIBUTIONS.get(module, module)
    try:
        return (f"{name}=={metadata.version(name)}",)
    except metadata.PackageNotFoundError:
        pass
    # A namespace package (`google`) may come from several distributions: pin them all rather
    # than guess which one the model uses.
    found = []
    for distribution in _distributions_by_module().get(module, []):
        try:
            found.append(f"{distribution}=={metadata.version(distribution)}")
        except metadata.PackageNotFoundError:  # pragma: no cover - uninstalled meanwhile
            continue
    return tuple(sorted(set(found)))


@cache
def _distributions_by_module() -> dict[str, list[str]]:
    from importlib import metadata

    return {k: list(v) for k, v in metadata.packages_distributions().items()}


def pickle_modules(data: bytes) -> set[str]:
    """The modules a pickle refers to (the globals it would import when loaded).

    Read from the opcodes without loading anything: GLOBAL names its module directly,
    STACK_GLOBAL takes it from the two strings pushed before it.
    """
    modules: set[str] = set()
    strings: list[str] = []
    for opcode, argument, _ in pickletools.genops(data):
        if opcode.name in ("GLOBAL", "INST") and isinstance(argument, str):
            modules.add(argument.split(" ", 1)[0])
        elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
            modules.add(strings[-2])
        elif isinstance(argument, str):
            strings.append(argument)
    return modules
