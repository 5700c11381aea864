"""Building the application (`server/app.py`): the store opened while the routes are built."""

from __future__ import annotations

import sys

import pytest

from mloop.errors import SchemaOutdatedError
from mloop.server.app import create_app
from mloop.server.config import ServerConfig
from mloop.storage.sql.store import SqlStore
from tests.storage.sql.rows import execute


def test_the_app_serves_the_store_it_opened_and_restores_the_switch_interval(
    server_config: ServerConfig,
) -> None:
    interval_s = sys.getswitchinterval()
    app = create_app(server_config)
    try:
        assert sys.getswitchinterval() == interval_s
        assert app.state.store.experiments.get("0").name == "Default"
    finally:
        app.state.store.close()


def test_an_outdated_store_stops_the_app_from_being_built(server_config: ServerConfig) -> None:
    store = SqlStore(server_config.backend_uri, artifact_root=server_config.artifact_uri)
    try:
        execute(store, "UPDATE alembic_version SET version_num = 'old'")
    finally:
        store.close()
    with pytest.raises(SchemaOutdatedError, match="mloop db upgrade"):
        create_app(server_config)
