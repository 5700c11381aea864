from __future__ import annotations

import subprocess
import sys

import pytest

import mloop.monitoring
import mloop.stats


@pytest.mark.parametrize("module", [mloop.stats, mloop.monitoring])
def test_exports_are_sorted_and_documented(module) -> None:
    assert module.__all__ == sorted(module.__all__)
    for name in module.__all__:
        assert getattr(module, name).__doc__, name


def test_importing_stats_and_monitoring_loads_no_framework_or_extra() -> None:
    code = (
        "import sys, mloop.monitoring, mloop.stats;"
        "bad = [m for m in ('typer', 'fastapi', 'sqlalchemy', 'sklearn', 'jinja2')"
        " if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
