"""The `mloop` entry point: version, error translation, exit codes and `--debug`."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from mloop.__about__ import __version__
from mloop.cli.errors import exit_code_for
from mloop.cli.main import MloopCommands, app
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


def test_every_listed_command_summary_is_the_real_commands_help():
    group = typer.main.get_command(app)
    assert isinstance(group, MloopCommands)
    for entry in MloopCommands.entries:
        real = entry.load()
        assert real.name == entry.name
        assert real.short_help is None, entry.name
        first_paragraph = inspect.cleandoc(real.help or "").split("\n\n")[0].replace("\n", " ")
        assert first_paragraph == entry.summary, entry.name


def test_help_lists_the_same_commands_lazily_as_with_every_command_loaded(
    capsys: pytest.CaptureFixture[str],
):
    lazy = typer.main.get_command(app)
    eager = typer.main.get_command(app)
    assert isinstance(lazy, MloopCommands)
    assert isinstance(eager, MloopCommands)
    for entry in MloopCommands.entries:
        eager.commands[entry.name] = entry.load()
    lazy.main(["--help"], prog_name="mloop", standalone_mode=False)
    lazy_help = capsys.readouterr().out
    eager.main(["--help"], prog_name="mloop", standalone_mode=False)
    eager_help = capsys.readouterr().out
    assert "import-mlflow" in lazy_help
    assert "tokens" in lazy_help
    assert lazy_help == eager_help


def test_running_one_command_imports_only_its_module():
    code = (
        "import sys\n"
        "from mloop.cli.main import run\n"
        "sys.argv = ['mloop', 'server', '--help']\n"
        "try:\n"
        "    run()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('mloop.cli.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.strip().splitlines()[-1].split(","))
    assert "mloop.cli.server" in loaded
    assert not loaded & {
        "mloop.cli.models",
        "mloop.cli.runs",
        "mloop.cli.monitor",
        "mloop.cli.data",
    }


def test_an_unknown_command_is_refused(cli: CliRunner):
    result = cli.invoke(app, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output
