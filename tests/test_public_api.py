"""The public surface: pinned `__all__`, docstrings on every export, and a light `import mloop`."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import mloop

EXPECTED_ROOT_API = [
    "ActiveRun",
    "AlreadyExistsError",
    "ConfigurationError",
    "InvalidInputError",
    "InvalidStateError",
    "MloopClient",
    "MloopError",
    "NotFoundError",
    "StorageError",
    "__version__",
    "active_run",
    "delete_run",
    "end_run",
    "flush",
    "get_run",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "restore_run",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]

HEAVY_MODULES = ["sqlalchemy", "alembic", "pandas", "numpy", "scipy", "sklearn", "fastapi", "typer"]


def _packages() -> list[str]:
    return ["mloop"] + [
        info.name
        for info in pkgutil.walk_packages(mloop.__path__, prefix="mloop.")
        if info.ispkg and ".migrations" not in info.name
    ]


def test_root_all_is_pinned_and_sorted():
    assert mloop.__all__ == EXPECTED_ROOT_API
    assert sorted(mloop.__all__) == mloop.__all__


def test_every_exported_name_exists_and_has_a_docstring():
    missing = []
    for package_name in _packages():
        package = importlib.import_module(package_name)
        for name in getattr(package, "__all__", []):
            if name == "__version__":
                continue
            obj = getattr(package, name)
            if not (getattr(obj, "__doc__", None) or "").strip():
                missing.append(f"{package_name}.{name}")
    assert missing == []


def test_every_package_all_is_sorted():
    unsorted = [
        p
        for p in _packages()
        if getattr(importlib.import_module(p), "__all__", None) is not None
        and list(importlib.import_module(p).__all__) != sorted(importlib.import_module(p).__all__)
    ]
    assert unsorted == []


def test_import_mloop_loads_nothing_heavy():
    code = f"import sys, mloop; print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


def test_cli_module_imports_without_heavy_data_libraries():
    code = (
        "import sys, mloop.cli.main; "
        "print(','.join(m for m in ['sqlalchemy', 'pandas', 'numpy', 'scipy', 'sklearn', "
        "'fastapi'] if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
