"""`mloop server`: run the tracking server (REST API, MLflow-compatible API, metrics)."""

from __future__ import annotations

import typer

from mloop.cli.output import console


def server(
    backend_uri: str | None = typer.Option(
        None,
        "--backend-uri",
        help="Metadata store: sqlite:///PATH or postgresql://... (default: MLOOP_TRACKING_URI "
        "or the local store).",
    ),
    artifact_uri: str | None = typer.Option(
        None,
        "--artifact-uri",
        help="Artifact root: a folder or s3://... (default: MLOOP_ARTIFACT_URI or the local one).",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(5000, "--port", help="TCP port (0: any free port)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    auth: bool = typer.Option(
        False, "--auth", help="Require API tokens or passwords (users: `mloop users create`)."
    ),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn's log level."),
) -> None:
    """Run the tracking server; any number of replicas may share one database and artifact root."""
    from mloop.errors import ConfigurationError
    from mloop.server.config import ServerConfig
    from mloop.server.runner import BindAddress, serve
    from mloop.settings import Settings

    settings = Settings.from_env()
    backend = backend_uri or settings.tracking_uri
    if backend.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"--backend-uri {backend} is a server, not a database: give the server a "
            "sqlite:/// or postgresql:// URI"
        )
    if backend_uri is None and settings.is_embedded:
        settings.home.mkdir(parents=True, exist_ok=True)
    config = ServerConfig(
        backend_uri=backend, artifact_uri=artifact_uri or settings.artifact_uri, auth=auth
    )
    address = BindAddress(host, port)
    if not address.is_loopback and not auth:
        console.print(
            f"[bold yellow]warning:[/] listening on {host}, which other machines can reach, "
            "without --auth: anyone who can connect can read and change every experiment. "
            "Start it with --auth (and create users with `mloop users create`).",
            highlight=False,
        )

    def ready(bound: BindAddress) -> None:
        console.print(
            f"mloop server on http://{bound.host}:{bound.port} ({workers} worker"
            f"{'s' if workers > 1 else ''}; API docs at /docs)",
            highlight=False,
            # No `:emoji:` codes here: looking for them loads rich's table of them (~5 ms),
            # while the workers are starting.
            emoji=False,
        )

    serve(config, address, workers=workers, log_level=log_level, on_ready=ready)
