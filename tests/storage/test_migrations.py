"""Alembic migrations agree with the schema a fresh store is created at, on both backends."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import mloop.storage.migrations
from mloop.errors import SchemaOutdatedError, StorageError
from mloop.storage.sql.schema import HEAD_REVISION, metadata
from mloop.storage.sql.store import SqlStore
from tests.storage.sql.rows import execute, scalar


def _diffs(store: SqlStore) -> list[Any]:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


def _snapshot(store: SqlStore) -> dict[str, Any]:
    """Everything the database says about the mloop tables, in a comparable form."""
    with store.engine.connect() as conn:
        inspector = inspect(conn)
        tables: dict[str, Any] = {}
        for table in sorted(inspector.get_table_names()):
            tables[table] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                    for c in inspector.get_columns(table)
                ],
                "pk": inspector.get_pk_constraint(table),
                "fks": sorted(inspector.get_foreign_keys(table), key=lambda f: str(f["name"])),
                "indexes": sorted(inspector.get_indexes(table), key=lambda i: str(i["name"])),
                "uniques": sorted(
                    inspector.get_unique_constraints(table), key=lambda u: str(u["name"])
                ),
            }
        return tables


def _upgraded(url: str, artifact_root: str) -> SqlStore:
    store = SqlStore(url, artifact_root=artifact_root, create=False)
    before, after = store.upgrade()
    assert (before, after) == (None, HEAD_REVISION)
    return store


def test_head_revision_is_the_alembic_script_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(mloop.storage.migrations.__file__).parent))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD_REVISION]


def test_a_store_created_at_head_matches_the_models(store: SqlStore) -> None:
    assert _diffs(store) == []
    assert scalar(store, "SELECT version_num FROM alembic_version") == HEAD_REVISION


def test_upgrading_an_empty_database_matches_the_models(store_url: str, artifact_root: str) -> None:
    upgraded = _upgraded(store_url, artifact_root)
    try:
        assert _diffs(upgraded) == []
        assert scalar(upgraded, "SELECT version_num FROM alembic_version") == HEAD_REVISION
    finally:
        upgraded.close()


def test_upgraded_and_created_schemas_are_identical(
    store_url: str, empty_url: Callable[[], str], artifact_root: str
) -> None:
    upgraded = _upgraded(store_url, artifact_root)
    created = SqlStore(empty_url(), artifact_root=artifact_root)
    try:
        assert _snapshot(upgraded) == _snapshot(created)
    finally:
        upgraded.close()
        created.close()


def test_an_upgraded_store_has_the_default_experiment_and_works(
    store_url: str, artifact_root: str
) -> None:
    _upgraded(store_url, artifact_root).close()
    store = SqlStore(store_url, artifact_root=artifact_root)
    try:
        default = store.experiments.get("0")
        assert (default.name, default.artifact_location) == ("Default", f"{artifact_root}/0")
        created = store.experiments.create("after-upgrade")
        assert int(created.experiment_id) >= 1
        run = store.runs.create(created.experiment_id, run_name="r")
        store.runs.delete(run.run_id, actor="a")
        assert store.audit.verify().is_intact
    finally:
        store.close()


def test_upgrading_a_store_at_head_changes_nothing(store: SqlStore) -> None:
    created = store.experiments.create("kept")
    assert store.upgrade() == (HEAD_REVISION, HEAD_REVISION)
    assert store.experiments.get(created.experiment_id) == created
    assert [e.name for e in store.experiments.list()] == ["Default", "kept"]


@pytest.mark.parametrize("stamp", ["0000_older", "9999_unknown"])
def test_a_store_at_another_revision_asks_for_mloop_db_upgrade(
    store: SqlStore, store_url: str, artifact_root: str, stamp: str
) -> None:
    execute(store, "UPDATE alembic_version SET version_num = :v", v=stamp)
    with pytest.raises(SchemaOutdatedError, match="mloop db upgrade") as caught:
        SqlStore(store_url, artifact_root=artifact_root)
    assert (caught.value.found, caught.value.expected) == (stamp, HEAD_REVISION)
    assert "password" not in caught.value.message


def test_mloop_tables_without_a_version_table_give_a_clear_storage_error(
    store: SqlStore, store_url: str, artifact_root: str
) -> None:
    store.experiments.create("precious")
    execute(store, "DROP TABLE alembic_version")
    with pytest.raises(StorageError, match="no schema revision") as caught:
        SqlStore(store_url, artifact_root=artifact_root)
    assert not isinstance(caught.value, SchemaOutdatedError)
    assert "experiments" in caught.value.message
    assert scalar(store, "SELECT count(*) FROM experiments WHERE name = 'precious'") == 1


def test_creating_a_fresh_store_does_not_import_alembic(store_url: str, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from mloop.storage.sql.store import SqlStore\n"
        f"store = SqlStore({store_url!r}, artifact_root={str(tmp_path / 'a')!r})\n"
        "assert store.experiments.get('0').name == 'Default'\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'alembic')\n"
        "print(loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
