"""The `mloop` entry point: version, error translation, exit codes and `--debug`."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from mloop.__about__ import __version__
from mloop.cli.errors import exit_code_for
from mloop.cli.main import app
from mloop.errors import (
    ExperimentNotFoundError,
    InvalidInputError,
    MissingExtraError,
    ParamConflictError,
    RunNotFoundError,
    SchemaOutdatedError,
)


def test_version_prints_the_package_version(cli: CliRunner):
    result = cli.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"mloop {__version__}"


def test_console_script_runs_in_a_fresh_process():
    done = subprocess.run(
        [sys.executable, "-m", "mloop.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert __version__ in done.stdout


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidInputError("x"), 2),
        (ParamConflictError("a" * 32, "k", "1", "2"), 2),
        (RunNotFoundError("r"), 3),
        (ExperimentNotFoundError("e"), 3),
        (SchemaOutdatedError("old", "new", uri="sqlite://"), 6),
        (MissingExtraError("server", "fastapi"), 7),
    ],
)
def test_error_classes_map_to_documented_exit_codes(error, code):
    assert exit_code_for(error) == code


def test_an_mloop_error_prints_one_line_and_no_traceback(cli: CliRunner, cli_env):
    result = cli.invoke(app, ["runs", "show", "not-a-run-id"])
    assert result.exit_code == 2
    assert "run id must be 32 lowercase hex characters" in result.output
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback(cli: CliRunner, cli_env):
    result = cli.invoke(app, ["--debug", "runs", "show", "0" * 32])
    assert result.exit_code == 3
    assert "Traceback" in result.output
    assert "does not exist" in result.output
