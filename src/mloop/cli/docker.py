"""`mloop models build-docker MODEL --out DIR`: a Dockerfile and build context for one model."""

from __future__ import annotations

from pathlib import Path

import typer

from mloop.cli.output import console, print_json


def build_docker(
    model: str = typer.Argument(
        ..., help="models:/NAME@ALIAS, models:/NAME/3, runs:/<run_id>/model or a package folder."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the build context to."),
    base_image: str | None = typer.Option(
        None, "--base-image", help="Image to start from (default: python:X.Y-slim of the model)."
    ),
    name: str | None = typer.Option(
        None, "--name", help="Model name the server reports (default: the registered name)."
    ),
    port: int = typer.Option(8080, "--port", help="Port the server listens on in the container."),
    mloop_requirement: str | None = typer.Option(
        None,
        "--mloop-requirement",
        help="How the image installs mloop (default: mloop[server,...]==this version).",
    ),
    mloop_wheel: Path | None = typer.Option(
        None,
        "--mloop-wheel",
        help="A wheel of mloop to copy in and install (for an mloop not installed from PyPI).",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty --out."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Write a Dockerfile and build context that serve MODEL with `mloop serve`.

    The model package is copied in, so the image needs no tracking server; requirements are
    the package's pinned ones plus this mloop. Build it with `docker build -t NAME DIR`.
    """
    from mloop.client.docker import write_docker_context

    context = write_docker_context(
        model,
        out,
        base_image=base_image,
        name=name,
        port=port,
        mloop_requirement=mloop_requirement,
        mloop_wheel=mloop_wheel,
        overwrite=overwrite,
    )
    if as_json:
        print_json(
            {
                "path": str(context.path),
                "dockerfile": str(context.dockerfile),
                "base_image": context.base_image,
                "requirements": context.requirements,
                "model_name": context.model_name,
                "port": context.port,
            }
        )
        return
    console.print(f"wrote {context.dockerfile} and the build context in {context.path}")
    console.print(
        f"build: docker build -t {context.model_name} {context.path}\n"
        f"run:   docker run -p {context.port}:{context.port} {context.model_name}",
        highlight=False,
    )
