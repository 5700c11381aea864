"""`mloop serve`: serve a model (or a stored deployment) over HTTP."""

from __future__ import annotations

import typer

from mloop.cli.output import console


def serve(
    reference: str | None = typer.Argument(
        None,
        help="The model: models:/NAME@ALIAS, models:/NAME/N, runs:/<run_id>/PATH or a folder.",
    ),
    deployment: str | None = typer.Option(
        None, "--deployment", help="Serve this stored deployment (mloop deploy create) instead."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", help="TCP port (0: any free port)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    auth: bool = typer.Option(
        False, "--auth", help="Require the tracking server's API tokens (mloop tokens create)."
    ),
    batching: bool = typer.Option(
        True, "--batching/--no-batching", help="Merge concurrent requests into one model call."
    ),
    max_batch_size: int = typer.Option(256, "--max-batch-size", min=1, help="Rows per batch."),
    max_latency_ms: float = typer.Option(
        5.0, "--max-latency-ms", min=0, help="Most a request waits for others to join its batch."
    ),
    max_queue_ms: float = typer.Option(
        2000.0, "--max-queue-ms", min=1, help="Refuse (503) when the queue would take longer."
    ),
    log_predictions: bool = typer.Option(
        False, "--log-predictions", help="Write inputs and outputs as Parquet (for monitoring)."
    ),
    log_sample_rate: float = typer.Option(
        1.0, "--log-sample-rate", min=0.0, max=1.0, help="Fraction of requests logged."
    ),
    log_flush_s: float = typer.Option(
        5.0, "--log-flush-s", min=0.01, help="Longest a logged prediction waits to be written."
    ),
    log_spool: str | None = typer.Option(
        None,
        "--log-spool",
        help="Local folder for logged predictions not yet written as Parquet "
        "(default: .mloop/spool/predictions/<digest>).",
    ),
    watch_interval: float = typer.Option(
        0.25, "--watch-interval", min=0.0, help="Seconds between re-reading aliases (0: never)."
    ),
    name: str | None = typer.Option(
        None, "--name", help="Model name to report for a runs:/ or folder reference."
    ),
    trusted: bool = typer.Option(
        False, "--trusted", help="Allow pickled (pyfunc) models, which run code when loaded."
    ),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn's log level."),
) -> None:
    """Serve a model: mloop JSON, MLflow /invocations, Open Inference Protocol v2, /metrics."""
    from mloop.errors import InvalidInputError
    from mloop.server.inference.config import InferenceConfig
    from mloop.server.inference.launch import serve_models
    from mloop.server.runner import BindAddress
    from mloop.serving.batcher import BatchOptions

    if (reference is None) == (deployment is None):
        raise InvalidInputError(
            "give a model reference (mloop serve models:/churn@champion) or --deployment NAME, "
            "not both",
            field="reference",
        )
    config = InferenceConfig(
        reference=reference,
        deployment=deployment,
        name=name,
        batching=BatchOptions(
            enabled=batching,
            max_batch_rows=max_batch_size,
            max_latency_s=max_latency_ms / 1000,
            max_queue_s=max_queue_ms / 1000,
        ),
        watch_interval_s=watch_interval,
        auth=auth,
        log_predictions=log_predictions,
        log_sample_rate=log_sample_rate,
        log_flush_interval_s=log_flush_s,
        log_spool=log_spool,
        trusted=trusted,
    )
    address = BindAddress(host, port)
    if not address.is_loopback and not auth:
        console.print(
            f"[bold yellow]warning:[/] listening on {host} without --auth: anyone who can "
            "connect can use the model.",
            highlight=False,
        )
    what = reference or f"deployment {deployment}"

    def ready(bound: BindAddress) -> None:
        console.print(
            f"mloop serve {what} on http://{bound.host}:{bound.port} ({workers} worker"
            f"{'s' if workers > 1 else ''}; POST /predict, /invocations, /v2/models/.../infer)",
            highlight=False,
        )

    serve_models(config, address, workers=workers, log_level=log_level, on_ready=ready)
