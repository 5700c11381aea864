"""The `mloop` command: global options and the sub-commands of each stage."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

import typer

from mloop.__about__ import __version__
from mloop.cli.errors import MloopGroup
from mloop.cli.lazy import LazyCommand, LazyGroup


def _sub_app(module: str, attribute: str = "app") -> Callable[[str], Callable[[typer.Typer], None]]:
    def for_name(name: str) -> Callable[[typer.Typer], None]:
        def register(holder: typer.Typer) -> None:
            sub_app = getattr(importlib.import_module(f"mloop.cli.{module}"), attribute)
            holder.add_typer(sub_app, name=name, cls=MloopGroup)

        return register

    return for_name


def _command(module: str, function: str) -> Callable[[str], Callable[[typer.Typer], None]]:
    def for_name(name: str) -> Callable[[typer.Typer], None]:
        def register(holder: typer.Typer) -> None:
            holder.command(name)(getattr(importlib.import_module(f"mloop.cli.{module}"), function))

        return register

    return for_name


@cache
def _data_app() -> typer.Typer:
    from mloop.cli import data
    from mloop.cli import datasets as dataset_commands

    dataset_commands.register(data.app)
    return data.app


@cache
def _models_app() -> typer.Typer:
    from mloop.cli import docker as docker_command
    from mloop.cli import models

    models.app.command("build-docker")(docker_command.build_docker)
    return models.app


def _registered(
    make_app: Callable[[], typer.Typer],
) -> Callable[[str], Callable[[typer.Typer], None]]:
    def for_name(name: str) -> Callable[[typer.Typer], None]:
        def register(holder: typer.Typer) -> None:
            holder.add_typer(make_app(), name=name, cls=MloopGroup)

        return register

    return for_name


# Every sub-command, in the order `mloop --help` lists them, with the first paragraph of its
# help: only the command being run is imported (tests/cli/test_main.py checks the summaries).
_COMMANDS: tuple[tuple[str, str, Callable[[str], Callable[[typer.Typer], None]]], ...] = (
    (
        "quickstart",
        "Run the lifecycle on data bundled with scikit-learn and show where everything went.",
        _command("quickstart", "quickstart"),
    ),
    (
        "server",
        "Run the tracking server; any number of replicas may share one database and artifact root.",
        _command("server", "server"),
    ),
    (
        "serve",
        "Serve a model: mloop JSON, MLflow /invocations, Open Inference Protocol v2, /metrics.",
        _command("serve", "serve"),
    ),
    (
        "import-mlflow",
        "Copy MLflow experiments, runs, metrics, artifacts and models into this mloop store.",
        _command("import_mlflow", "import_mlflow"),
    ),
    (
        "lineage",
        "List the runs that used a dataset version and the model versions those runs produced.",
        _command("lineage", "lineage"),
    ),
    (
        "gc",
        "Permanently delete old deleted runs, then blobs no run, dataset or model references.",
        _command("gc", "gc"),
    ),
    (
        "predict",
        "Predict every row of a Parquet or CSV file with a model and write the predictions.",
        _command("predict", "predict"),
    ),
    ("experiments", "Create, list, rename and delete experiments.", _sub_app("experiments")),
    ("runs", "List, inspect, compare, delete and restore runs.", _sub_app("runs")),
    ("db", "Manage the metadata database.", _sub_app("db")),
    (
        "data",
        "Version datasets, infer data schemas and validate data against them.",
        _registered(_data_app),
    ),
    ("monitor", "Detect drift between reference and current data.", _sub_app("monitor")),
    (
        "models",
        "The model registry: versions, aliases, approvals and model cards.",
        _registered(_models_app),
    ),
    ("audit", "The append-only, hash-chained audit log.", _sub_app("audit")),
    (
        "deploy",
        "Deployments: traffic splits between model versions (canary, A/B, shadow), rollback.",
        _sub_app("deploy"),
    ),
    (
        "users",
        "Manage the users and roles of `mloop server --auth`.",
        _sub_app("users", "users_app"),
    ),
    ("tokens", "Create, list and revoke API tokens.", _sub_app("users", "tokens_app")),
)


class MloopCommands(LazyGroup):
    """The `mloop` command: each sub-command is imported when it runs."""

    entries = tuple(
        LazyCommand(name, summary, register(name)) for name, summary, register in _COMMANDS
    )


app = typer.Typer(
    name="mloop",
    help="mloop: the whole model lifecycle as one loop.",
    cls=MloopCommands,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mloop {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """mloop: the whole model lifecycle as one loop."""
    ctx.obj = {"debug": debug}


def run() -> None:
    """Entry point of the `mloop` console script."""
    app()
