"""`mloop audit log` and `mloop audit verify`, including tampering with the database directly."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from mloop.cli.main import app
from mloop.client import MloopClient

pytestmark = pytest.mark.usefixtures("cli_env")


def _history(cli: CliRunner) -> None:
    for args in (
        ["models", "register", "s3://b/m", "churn"],
        ["models", "approve", "churn/1"],
        ["models", "alias", "set", "churn", "champion", "1"],
        ["models", "register", "s3://b/m", "fraud"],
    ):
        assert cli.invoke(app, args).exit_code == 0


def _sql(statement: str) -> None:
    store = MloopClient().store
    engine = create_engine(store.url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def test_log_shows_every_event_and_filters_by_target(cli: CliRunner) -> None:
    _history(cli)
    everything = json.loads(cli.invoke(app, ["audit", "log", "--json"]).output)
    assert [e["seq"] for e in everything] == [1, 2, 3, 4, 5, 6]
    version = json.loads(cli.invoke(app, ["audit", "log", "-t", "churn/1", "--json"]).output)
    assert [e["action"] for e in version] == ["model_version.create", "model_version.approve"]
    typed = json.loads(cli.invoke(app, ["audit", "log", "-t", "model:fraud", "--json"]).output)
    assert [e["action"] for e in typed] == ["model.create"]
    limited = json.loads(
        cli.invoke(app, ["audit", "log", "-t", "churn", "-n", "2", "--json"]).output
    )
    assert len(limited) == 2
    table = cli.invoke(app, ["audit", "log"]).output
    assert "model.alias.set" in table
    assert "6 event(s)" in table


def test_log_of_a_run_target(cli: CliRunner) -> None:
    client = MloopClient()
    run = client.create_run("0", run_name="r")
    client.delete_run(run.run_id)
    events = json.loads(cli.invoke(app, ["audit", "log", "-t", run.run_id, "--json"]).output)
    assert [e["action"] for e in events] == ["run.delete"]


def test_verify_passes_on_an_untouched_log(cli: CliRunner) -> None:
    _history(cli)
    result = cli.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0
    assert "intact" in result.output
    assert "6 event(s)" in result.output


def test_verify_names_an_altered_entry(cli: CliRunner) -> None:
    _history(cli)
    _sql("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    result = cli.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "event #3" in result.output
    assert "content does not match its hash" in result.output
    verdict = json.loads(cli.invoke(app, ["audit", "verify", "--json"]).output)
    assert verdict == {
        "intact": False,
        "checked": 2,
        "first_bad_seq": 3,
        "reason": "its content does not match its hash",
    }


def test_verify_names_the_entry_after_a_removed_one(cli: CliRunner) -> None:
    _history(cli)
    _sql("DELETE FROM audit_events WHERE seq = 4")
    result = cli.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "event #5" in result.output
    assert "link to the previous event is broken" in result.output


def test_against_a_server_log_works_and_verify_says_where_to_run_it(
    cli: CliRunner, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mloop.client.context import close_store
    from mloop.server.app import create_app
    from mloop.server.config import ServerConfig
    from tests.server.conftest import serve_in_thread

    client = MloopClient()
    run = client.create_run("0", run_name="r")
    client.delete_run(run.run_id)
    close_store()
    server_app = create_app(
        ServerConfig(
            backend_uri=cli_env["MLOOP_TRACKING_URI"], artifact_uri=cli_env["MLOOP_ARTIFACT_URI"]
        )
    )
    url, stop = serve_in_thread(server_app)
    try:
        monkeypatch.setenv("MLOOP_TRACKING_URI", url)
        events = json.loads(cli.invoke(app, ["audit", "log", "--json"]).output)
        assert [e["action"] for e in events] == ["run.delete"]
        result = cli.invoke(app, ["audit", "verify"])
        assert result.exit_code == 7
        assert "is a server" in result.output
        assert "--backend-uri" in result.output
    finally:
        close_store()
        stop()
