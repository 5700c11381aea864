"""The `mloop` command: global options and the sub-commands of each stage."""

from __future__ import annotations

import typer

from mloop.__about__ import __version__
from mloop.cli import audit, data, db, deploy, experiments, models, monitor, quickstart, runs, users
from mloop.cli import datasets as dataset_commands
from mloop.cli import docker as docker_command
from mloop.cli import gc as gc_command
from mloop.cli import import_mlflow as import_mlflow_command
from mloop.cli import lineage as lineage_command
from mloop.cli import predict as predict_command
from mloop.cli import serve as serve_command
from mloop.cli import server as server_command
from mloop.cli.errors import MloopGroup

app = typer.Typer(
    name="mloop",
    help="mloop: the whole model lifecycle as one loop.",
    cls=MloopGroup,
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


app.add_typer(experiments.app, name="experiments", cls=MloopGroup)
app.add_typer(runs.app, name="runs", cls=MloopGroup)
app.add_typer(db.app, name="db", cls=MloopGroup)
dataset_commands.register(data.app)
app.add_typer(data.app, name="data", cls=MloopGroup)
app.add_typer(monitor.app, name="monitor", cls=MloopGroup)
models.app.command("build-docker")(docker_command.build_docker)
app.add_typer(models.app, name="models", cls=MloopGroup)
app.add_typer(audit.app, name="audit", cls=MloopGroup)
app.add_typer(deploy.app, name="deploy", cls=MloopGroup)
app.add_typer(users.users_app, name="users", cls=MloopGroup)
app.add_typer(users.tokens_app, name="tokens", cls=MloopGroup)
app.command("quickstart")(quickstart.quickstart)
app.command("server")(server_command.server)
app.command("serve")(serve_command.serve)
app.command("import-mlflow")(import_mlflow_command.import_mlflow)
app.command("lineage")(lineage_command.lineage)
app.command("gc")(gc_command.gc)
app.command("predict")(predict_command.predict)


def run() -> None:
    """Entry point of the `mloop` console script."""
    app()
