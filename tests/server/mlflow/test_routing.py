"""MLflow's error protocol: every mloop error class maps to MLflow's code and HTTP status."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mloop.errors import (
    ConfigurationError,
    DatabaseLockedError,
    ExperimentAlreadyExistsError,
    InvalidFilterError,
    MloopError,
    RunNotActiveError,
    RunNotFoundError,
    StorageError,
)
from mloop.server.app import create_app
from mloop.server.config import ServerConfig
from mloop.server.mlflow.routing import mlflow_status
from mloop.storage.sql.store import SqlStore
from tests.server.conftest import serve_in_thread


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RunNotFoundError("a" * 32), (404, "RESOURCE_DOES_NOT_EXIST")),
        (ExperimentAlreadyExistsError("x"), (400, "RESOURCE_ALREADY_EXISTS")),
        (InvalidFilterError("bad", text="x"), (400, "INVALID_PARAMETER_VALUE")),
        (RunNotActiveError("a" * 32, "deleted"), (400, "INVALID_PARAMETER_VALUE")),
        (DatabaseLockedError("locked"), (503, "TEMPORARILY_UNAVAILABLE")),
        (StorageError("down"), (503, "TEMPORARILY_UNAVAILABLE")),
        (ConfigurationError("misconfigured"), (500, "INTERNAL_ERROR")),
        (MloopError("bug"), (500, "INTERNAL_ERROR")),
    ],
)
def test_errors_map_to_mlflow_codes_and_statuses(
    error: MloopError, expected: tuple[int, str]
) -> None:
    # 4xx answers are final for MLflow clients; 503 is retried with backoff, as MLflow's is.
    assert mlflow_status(error) == expected


def test_an_unreachable_database_answers_503_temporarily_unavailable(tmp_path: Path) -> None:
    # Nothing listens on port 1: the store opens lazily, so the request meets the failure.
    url = "postgresql://postgres@127.0.0.1:1/none?connect_timeout=1"
    store = SqlStore(url, artifact_root=str(tmp_path), create=False)
    app = create_app(ServerConfig(backend_uri=url, artifact_uri=str(tmp_path)), store=store)
    base, stop = serve_in_thread(app)
    try:
        answer = httpx.get(
            f"{base}/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"}, timeout=30
        )
    finally:
        stop()
        store.close()
    assert answer.status_code == 503
    assert answer.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
