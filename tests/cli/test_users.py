"""`mloop users ...` and `mloop tokens ...` against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mloop.cli.main import app
from mloop.entities.auth import Role, parse_token
from mloop.storage.sql.store import SqlStore


def _users(cli: CliRunner) -> dict[str, dict[str, object]]:
    result = cli.invoke(app, ["users", "list", "--json"])
    assert result.exit_code == 0, result.output
    return {u["name"]: u for u in json.loads(result.output)}


def _open(cli_env: dict[str, str]) -> SqlStore:
    return SqlStore(cli_env["MLOOP_TRACKING_URI"], artifact_root=cli_env["MLOOP_ARTIFACT_URI"])


def test_create_list_and_grant_users(cli: CliRunner, cli_env: dict[str, str]) -> None:
    created = cli.invoke(app, ["users", "create", "ada", "--role", "admin"])
    assert created.exit_code == 0, created.output
    assert "created user ada (admin)" in created.output
    assert cli.invoke(app, ["users", "create", "bot", "--role", "none"]).exit_code == 0
    assert cli.invoke(app, ["experiments", "create", "churn"]).exit_code == 0
    granted = cli.invoke(app, ["users", "grant", "bot", "--role", "editor", "--experiment", "1"])
    assert granted.exit_code == 0, granted.output
    assert "editor in experiment 1" in granted.output
    users = _users(cli)
    assert users["ada"]["role"] == "admin"
    assert users["bot"] == {
        "name": "bot",
        "role": None,
        "experiment_roles": {"1": "editor"},
        "has_password": False,
        "created_at_ms": users["bot"]["created_at_ms"],
    }
    table = cli.invoke(app, ["users", "list"])
    assert table.exit_code == 0
    assert "1: editor" in table.output
    revoked = cli.invoke(app, ["users", "grant", "ada", "--role", "none"])
    assert "no role globally" in revoked.output
    assert _users(cli)["ada"]["role"] is None


def test_a_user_created_with_a_password_from_stdin_can_log_in(
    cli: CliRunner, cli_env: dict[str, str]
) -> None:
    result = cli.invoke(
        app, ["users", "create", "eve", "--role", "editor", "--password-stdin"], input="pw-123456\n"
    )
    assert result.exit_code == 0, result.output
    store = _open(cli_env)
    try:
        assert store.auth.find_user_by_password("eve", "pw-123456") is not None
    finally:
        store.close()
    changed = cli.invoke(app, ["users", "set-password", "eve"], input="another-pw\n")
    assert changed.exit_code == 0
    removed = cli.invoke(app, ["users", "set-password", "eve", "--remove"])
    assert "removed the password" in removed.output
    assert _users(cli)["eve"]["has_password"] is False


def test_bad_input_fails_with_a_clear_error_and_changes_nothing(
    cli: CliRunner, cli_env: dict[str, str]
) -> None:
    bad_role = cli.invoke(app, ["users", "create", "x", "--role", "owner"])
    assert bad_role.exit_code == 2
    assert "unknown role 'owner'" in bad_role.output
    empty = cli.invoke(app, ["users", "create", "x", "--password-stdin"], input="\n")
    assert empty.exit_code == 2
    assert "empty line" in empty.output
    short = cli.invoke(app, ["users", "create", "x", "--password-stdin"], input="short\n")
    assert short.exit_code == 2
    assert _users(cli) == {}
    assert cli.invoke(app, ["users", "create", "x"]).exit_code == 0
    again = cli.invoke(app, ["users", "create", "x"])
    assert again.exit_code == 4
    assert "already exists" in again.output
    missing = cli.invoke(app, ["users", "grant", "ghost", "--role", "reader"])
    assert missing.exit_code == 3
    assert "mloop users list" in missing.output
    no_experiment = cli.invoke(
        app, ["users", "grant", "x", "--role", "reader", "--experiment", "9"]
    )
    assert no_experiment.exit_code == 3


def test_tokens_are_printed_once_listed_without_secrets_and_revoked(
    cli: CliRunner, cli_env: dict[str, str]
) -> None:
    assert cli.invoke(app, ["users", "create", "ci", "--role", "editor"]).exit_code == 0
    created = cli.invoke(app, ["tokens", "create", "--user", "ci", "--name", "pipeline"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    parsed = parse_token(secret)
    assert parsed is not None
    token_id = parsed[0]
    assert "not shown again" in created.output
    listed = cli.invoke(app, ["tokens", "list", "--json"])
    assert listed.exit_code == 0
    tokens = json.loads(listed.output)
    assert [(t["token_id"], t["user"], t["name"]) for t in tokens] == [(token_id, "ci", "pipeline")]
    assert parsed[1] not in listed.output
    table = cli.invoke(app, ["tokens", "list", "--user", "ci"])
    assert token_id in table.output
    store = _open(cli_env)
    try:
        user = store.auth.find_user_by_token(secret)
        assert user is not None
        assert user.role is Role.EDITOR
        assert cli.invoke(app, ["tokens", "revoke", token_id]).exit_code == 0
        assert store.auth.find_user_by_token(secret) is None
        events = [(e.action, e.actor.startswith("cli")) for e in store.audit.list()]
        assert events == [("user.create", True), ("token.create", True), ("token.revoke", True)]
    finally:
        store.close()
    unknown = cli.invoke(app, ["tokens", "revoke", "0" * 12])
    assert unknown.exit_code == 3
    no_user = cli.invoke(app, ["tokens", "create", "--user", "ghost"])
    assert no_user.exit_code == 3


def test_deleting_a_user(cli: CliRunner, cli_env: dict[str, str]) -> None:
    assert cli.invoke(app, ["users", "create", "tmp"]).exit_code == 0
    assert cli.invoke(app, ["tokens", "create", "--user", "tmp"]).exit_code == 0
    deleted = cli.invoke(app, ["users", "delete", "tmp"])
    assert deleted.exit_code == 0
    assert _users(cli) == {}
    assert json.loads(cli.invoke(app, ["tokens", "list", "--json"]).output) == []


def test_backend_uri_points_at_another_database(
    cli: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    other = f"sqlite:///{tmp_path / 'server.db'}"
    result = cli.invoke(app, ["users", "create", "ops", "--role", "admin", "--backend-uri", other])
    assert result.exit_code == 0, result.output
    assert _users(cli) == {}
    listed = cli.invoke(app, ["users", "list", "--json", "--backend-uri", other])
    assert [u["name"] for u in json.loads(listed.output)] == ["ops"]


def test_a_server_url_is_refused_with_the_next_step(
    cli: CliRunner, cli_env: dict[str, str]
) -> None:
    result = cli.invoke(app, ["users", "list", "--backend-uri", "http://127.0.0.1:5000"])
    assert result.exit_code == 7
    assert "--backend-uri sqlite" in result.output
