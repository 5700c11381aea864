"""Shared fixtures: real stores on SQLite files and on the machine's PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from mloop.storage.sql.store import SqlStore

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
