"""`mloop db upgrade` on empty, current and foreign databases."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mloop.cli.main import app
from mloop.storage.sql.schema import HEAD_REVISION
from mloop.storage.sql.store import SqlStore


def test_upgrade_builds_an_empty_database_then_reports_up_to_date(
    cli: CliRunner, cli_env, store_url: str, tmp_path: Path
):
    first = cli.invoke(app, ["db", "upgrade", "--uri", store_url])
    assert first.exit_code == 0, first.output
    assert f"from revision empty to {HEAD_REVISION}" in first.output
    second = cli.invoke(app, ["db", "upgrade", "--uri", store_url])
    assert second.exit_code == 0
    assert "up to date" in second.output
    store = SqlStore(store_url, artifact_root=str(tmp_path / "a"), create=False)
    try:
        assert [e.name for e in store.experiments.list()] == ["Default"]
    finally:
        store.close()


def test_upgrade_defaults_to_the_configured_store(cli: CliRunner, cli_env):
    result = cli.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert HEAD_REVISION in result.output


def test_outdated_store_error_names_the_upgrade_command(cli: CliRunner, cli_env, store_url: str):
    from sqlalchemy import text

    SqlStore(store_url, artifact_root="/tmp/unused").close()
    store = SqlStore(store_url, artifact_root="/tmp/unused", create=False)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000_older'"))
    store.close()
    result = cli.invoke(app, ["experiments", "list"])
    assert result.exit_code == 6
    assert "mloop db upgrade" in result.output
