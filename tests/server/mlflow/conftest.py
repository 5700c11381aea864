"""An unmodified MLflow client pointed at a live mloop server (SQLite or PostgreSQL)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server.conftest import LiveServer


def reset_mlflow() -> None:
    """Forget MLflow's process-wide state: active runs, experiment, tracking URI."""
    import mlflow
    from mlflow.tracking import fluent

    while mlflow.active_run() is not None:
        mlflow.end_run()
    fluent._active_experiment_id = None
    # None (not a URI) makes MLflow fall back to MLFLOW_TRACKING_URI or its default again.
    mlflow.set_tracking_uri(None)  # type: ignore[arg-type]


@pytest.fixture
def mlflow_server(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """The live server as MLflow's tracking URI; the client fails fast instead of retrying."""
    import mlflow

    with warnings.catch_warnings():
        # MLflow's model modules warn about their own type hints when first imported.
        warnings.simplefilter("ignore")
        import mlflow.pyfunc
        import mlflow.sklearn

    monkeypatch.setenv("MLFLOW_TRACKING_URI", live_server.url)
    # A 5xx is a bug here: fail on the first one instead of retrying for minutes.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    reset_mlflow()
    mlflow.set_tracking_uri(live_server.url)
    yield live_server
    reset_mlflow()


@pytest.fixture
def client(mlflow_server: LiveServer) -> Any:
    """An `MlflowClient` on the live server."""
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=mlflow_server.url)
