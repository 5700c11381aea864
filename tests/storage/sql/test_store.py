"""The store bundle (`sql/store.py`): opening, errors on open, lifecycle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mloop.errors import SchemaOutdatedError, StorageError
from mloop.storage import open_store
from mloop.storage.sql.store import SqlStore, open_in_background
from tests.storage.sql.rows import execute


def test_open_store_returns_a_working_sql_store(store_url: str, artifact_root: str) -> None:
    store = open_store(store_url, artifact_root=artifact_root)
    try:
        assert isinstance(store, SqlStore)
        assert (store.url, store.artifact_root) == (store_url, artifact_root)
        assert store.experiments.get("0").name == "Default"
    finally:
        store.close()


def test_create_false_leaves_an_empty_database_empty(store_url: str, artifact_root: str) -> None:
    from sqlalchemy import inspect

    store = SqlStore(store_url, artifact_root=artifact_root, create=False)
    try:
        with store.engine.connect() as conn:
            assert inspect(conn).get_table_names() == []
    finally:
        store.close()


def test_an_unopenable_sqlite_file_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="opening the store"):
        SqlStore(f"sqlite:///{blocker / 'mloop.db'}", artifact_root=str(tmp_path))


def test_a_file_that_is_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "mloop.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError):
        SqlStore(f"sqlite:///{path}", artifact_root=str(tmp_path))


def test_an_unreachable_server_is_a_storage_error_without_the_password(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as caught:
        SqlStore("postgresql://postgres:s3cret@127.0.0.1:1/nowhere", artifact_root=str(tmp_path))
    assert "s3cret" not in caught.value.message
    assert "127.0.0.1:1" in caught.value.message


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_schema_outdated_error_hides_the_password(store: SqlStore, store_url: str) -> None:
    execute(store, "UPDATE alembic_version SET version_num = 'old'")
    with_password = store_url.replace("postgres@", "postgres:s3cret@", 1)
    with pytest.raises(SchemaOutdatedError, match="mloop db upgrade") as caught:
        SqlStore(with_password, artifact_root="/tmp/unused")
    assert "s3cret" not in caught.value.message


def test_a_closed_store_reconnects_on_next_use(store: SqlStore) -> None:
    store.experiments.create("before")
    store.close()
    assert [e.name for e in store.experiments.list()] == ["Default", "before"]


def test_after_fork_in_the_same_process_keeps_the_store_working(store: SqlStore) -> None:
    store.after_fork()
    assert store.experiments.get("0").name == "Default"


def test_a_sqlite_store_loads_no_postgresql_code_and_its_aggregates_on_first_use(
    tmp_path: Path,
) -> None:
    # Opening a store in a fresh process is a benchmarked path (issue 3, W0): the PostgreSQL
    # dialect and the registry's modules are not needed to track runs on SQLite.
    code = (
        "import sys\n"
        "from mloop.storage.sql.store import SqlStore\n"
        f"store = SqlStore('sqlite:///{tmp_path / 'm.db'}', artifact_root={str(tmp_path)!r})\n"
        "assert store.experiments.get('0').name == 'Default'\n"
        "before = sorted(m for m in sys.modules if 'postgresql' in m or 'sql.registry' in m)\n"
        "assert store.registry.search_models() is not None\n"
        "after = 'mloop.storage.sql.registry' in sys.modules\n"
        "print(before, after)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] True"


def test_a_store_hands_out_one_instance_of_each_aggregate(store: SqlStore) -> None:
    assert store.registry is store.registry
    assert store.artifacts is store.artifacts
    assert store.datasets is store.datasets


def test_a_store_opened_in_the_background_creates_and_serves_a_fresh_store(
    store_url: str, artifact_root: str
) -> None:
    opened = open_in_background(store_url, artifact_root=artifact_root)()
    try:
        assert opened.experiments.get("0").name == "Default"
    finally:
        opened.close()


def test_a_store_opened_in_the_background_raises_its_errors_when_waited_for(
    store: SqlStore, store_url: str, artifact_root: str
) -> None:
    execute(store, "UPDATE alembic_version SET version_num = 'old'")
    waiting = open_in_background(store_url, artifact_root=artifact_root)
    with pytest.raises(SchemaOutdatedError, match="mloop db upgrade"):
        waiting()


def test_a_store_that_cannot_be_opened_in_the_background_is_a_storage_error(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    waiting = open_in_background(f"sqlite:///{blocker / 'm.db'}", artifact_root=str(tmp_path))
    with pytest.raises(StorageError, match="opening the store"):
        waiting()


def test_a_store_says_whether_its_statements_cross_the_network(
    store: SqlStore, backend: str
) -> None:
    # The server's lean write routes send PostgreSQL work straight to the thread pool by it.
    assert store.over_the_network is (backend == "postgresql")
