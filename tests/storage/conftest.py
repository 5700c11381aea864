"""Storage fixtures: more empty databases on the backend under test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text


@pytest.fixture
def empty_url(backend: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Make another empty database on the same backend as `store_url` (dropped afterwards)."""
    schemas: list[str] = []
    base = os.environ.get("MLOOP_TEST_POSTGRES_URL", "")
    admin = (
        create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
        if backend == "postgresql"
        else None
    )

    def make() -> str:
        name = f"e_{uuid.uuid4().hex[:16]}"
        if admin is None:
            return f"sqlite:///{tmp_path / f'{name}.db'}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        schemas.append(name)
        separator = "&" if "?" in base else "?"
        return f"{base}{separator}options={quote(f'-csearch_path={name}')}"

    yield make
    if admin is not None:
        with admin.begin() as conn:
            for name in schemas:
                conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()
