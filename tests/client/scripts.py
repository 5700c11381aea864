"""Running small Python scripts in a child process, for behaviour that spans processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def run_script(
    source: str,
    *,
    env: dict[str, str],
    cwd: Path,
    name: str = "script.py",
    timeout_s: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Write `source` to `cwd/name` and run it with this interpreter; fail with its output."""
    script = cwd / name
    script.write_text(textwrap.dedent(source))
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"{name} exited with {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        )
    return done
