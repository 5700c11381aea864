"""Fixtures of the gate tests (the helpers are in `tests.gates.world`)."""

from __future__ import annotations

import pytest

from mloop.storage.sql.store import SqlStore
from tests.gates.world import World, make_world


@pytest.fixture
def world(store: SqlStore) -> World:
    """A store (SQLite or PostgreSQL) with training and holdout dataset versions."""
    return make_world(store)
