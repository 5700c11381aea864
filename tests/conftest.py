"""Shared fixtures: real stores on SQLite files and on the machine's PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from mloop.storage.sql.store import SqlStore

# Fixtures that drop a store's PostgreSQL connections (`named_url`, `admin`).
pytest_plugins = ["tests.pg_connections"]

POSTGRES_URL_VAR = "MLOOP_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    """The PostgreSQL URL tests use; CI must set it, so its absence there is an error."""
    url = os.environ.get(POSTGRES_URL_VAR)
    if not url and os.environ.get("CI"):
        raise RuntimeError(f"{POSTGRES_URL_VAR} must be set in CI so PostgreSQL tests run")
    return url


def _backend_params() -> list[object]:
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]


@pytest.fixture(params=_backend_params())
def backend(request: pytest.FixtureRequest) -> str:
    """Which database a store test runs on; PostgreSQL skips only where the URL is unset."""
    name: str = request.param
    if name == "postgresql" and postgres_url() is None:
        pytest.skip(f"{POSTGRES_URL_VAR} is not set")
    return name


@pytest.fixture
def store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'mloop.db'}"
        return
    yield from _postgres_schema_url()


def _postgres_schema_url() -> Iterator[str]:
    from sqlalchemy import create_engine, text

    base = postgres_url()
    assert base is not None
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(_with_driver(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _with_driver(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def artifact_root(tmp_path: Path) -> str:
    """A local artifact root in the test's temporary folder."""
    return str(tmp_path / "artifacts")


@pytest.fixture
def store(store_url: str, artifact_root: str) -> Iterator[SqlStore]:
    """A fresh store on SQLite or PostgreSQL."""
    opened = SqlStore(store_url, artifact_root=artifact_root)
    yield opened
    opened.close()


# -- S3: a real S3 API served by moto on loopback --------------------------------------------


@dataclass(frozen=True)
class S3Server:
    """A moto S3 server on 127.0.0.1, and how to reach it.

    Attributes:
        endpoint_url: `http://127.0.0.1:PORT`.
        storage_options: fsspec/s3fs options for it (endpoint and test credentials).
    """

    endpoint_url: str
    storage_options: dict[str, Any]

    def new_bucket(self) -> str:
        """Create an empty bucket with a unique name; returns its name."""
        import boto3  # type: ignore[import-untyped]

        name = f"mloop-{uuid.uuid4().hex[:20]}"
        client = boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name="us-east-1", **_S3_KEYS
        )
        client.create_bucket(Bucket=name)
        return name


_S3_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server in a subprocess for the whole session; never real AWS.

    The AWS variables point every S3 client of the process (s3fs, boto3) at it with test
    credentials, so code that opens `s3://` URIs without options (a store whose artifact root
    is on S3) reaches moto too.
    """
    port = _free_port()
    moto = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.05)
    patch = pytest.MonkeyPatch()
    patch.setenv("AWS_ACCESS_KEY_ID", "testing")
    patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    patch.setenv("AWS_ENDPOINT_URL", endpoint)
    patch.delenv("AWS_PROFILE", raising=False)
    options = {"endpoint_url": endpoint, "key": "testing", "secret": "testing"}
    try:
        yield S3Server(endpoint, options)
    finally:
        patch.undo()
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(params=["local", "s3"])
def blob_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The root URI of an empty blob store: a local folder, or a fresh bucket on moto S3."""
    if request.param == "local":
        return str(tmp_path / "blobs-root")
    server: S3Server = request.getfixturevalue("s3_server")
    return f"s3://{server.new_bucket()}/root"
