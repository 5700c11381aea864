"""Building and running the inference server from an `InferenceConfig` (what `mloop serve` calls).

The store is the client's default one (`MLOOP_TRACKING_URI` ...), so `mloop serve` sees the
registry, runs and users the rest of mloop sees, and the package cache of `mloop.load_model`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mloop.server.inference.app import InferenceApp
from mloop.server.inference.config import InferenceConfig

if TYPE_CHECKING:
    from mloop.server.runner import BindAddress
    from mloop.storage import Store


def build_app(
    config: InferenceConfig,
    *,
    store: Store | None = None,
    log_uri: str | None = None,
    owns_process: bool = False,
) -> InferenceApp:
    """The inference app for `config`.

    Args:
        config: what to serve.
        store: the store to read models from (default: the client's).
        log_uri: the artifact root prediction logs go under (default: the settings').
        owns_process: the app is the whole process (`mloop serve`): see `InferenceApp`.

    Raises:
        ConfigurationError: neither a reference nor a deployment is given.
        NotFoundError: the deployment does not exist.
    """
    from mloop.client.context import get_store, settings

    prediction_log = None
    if config.log_predictions:
        from mloop.serving.predlog import PredictionLog, open_sink

        sink = open_sink(log_uri or settings().artifact_uri)
        prediction_log = PredictionLog(
            sink,
            spool=config.log_spool or default_spool(settings().home, sink.uri),
            sample_rate=config.log_sample_rate,
            flush_interval_s=config.log_flush_interval_s,
        )
    # The client's store, opened when first needed: a package folder needs none.
    return InferenceApp(
        config,
        store=store if store is not None else get_store,
        prediction_log=prediction_log,
        owns_process=owns_process,
    )


def default_spool(home: Path, sink_uri: str) -> Path:
    """The prediction log's spool folder for a sink: local, under the mloop home.

    One folder per sink (named by a digest of its URI), so two servers sharing a home but
    logging to different places never convert each other's segments into the wrong sink.
    """
    digest = hashlib.sha256(sink_uri.encode()).hexdigest()[:16]
    return home / "spool" / "predictions" / digest


def serve_models(
    config: InferenceConfig,
    address: BindAddress,
    *,
    workers: int = 1,
    log_level: str = "warning",
    on_ready: Callable[[BindAddress], None] | None = None,
) -> None:
    """Run the inference server until SIGINT or SIGTERM (draining requests in flight).

    Raises:
        ConfigurationError: the address cannot be bound, or a worker failed to start.
    """
    from mloop.server.runner import serve

    serve(
        None,
        address,
        workers=workers,
        log_level=log_level,
        on_ready=on_ready,
        app_factory=functools.partial(build_app, config, owns_process=True),
    )
