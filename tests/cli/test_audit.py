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


def _flat(output: str) -> str:
    """Terminal output with rich's line wrapping undone."""
    return " ".join(output.split())


def _sql(statement: str) -> None:
    _sql_at(MloopClient().store.url, statement)


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
    newest = MloopClient().store.audit.list()[-1]
    assert f"head #6 {newest.hash}" in _flat(result.output)


def test_an_empty_log_verifies_with_an_empty_head(cli: CliRunner) -> None:
    verdict = json.loads(cli.invoke(app, ["audit", "verify", "--json"]).output)
    assert verdict["intact"]
    assert verdict["checked"] == 0
    assert (verdict["head"], verdict["head_seq"]) == ("", 0)


def test_expect_head_detects_removal_of_the_newest_events(cli: CliRunner) -> None:
    _history(cli)
    head = json.loads(cli.invoke(app, ["audit", "verify", "--json"]).output)["head"]
    # Events appended after the head was taken keep it in the chain: still intact.
    assert cli.invoke(app, ["models", "register", "s3://b/m", "spam"]).exit_code == 0
    later = cli.invoke(app, ["audit", "verify", "--expect-head", head])
    assert later.exit_code == 0, later.output
    # Removing the newest events leaves an intact chain, which only the anchor shows.
    _sql("DELETE FROM audit_events WHERE seq >= 6")
    assert cli.invoke(app, ["audit", "verify"]).exit_code == 0
    result = cli.invoke(app, ["audit", "verify", "--expect-head", head])
    assert result.exit_code == 1
    assert "truncated" in result.output
    assert f"no event has the expected head hash {head}" in _flat(result.output)
    verdict = json.loads(
        cli.invoke(app, ["audit", "verify", "--expect-head", head.upper(), "--json"]).output
    )
    assert (verdict["intact"], verdict["checked"], verdict["first_bad_seq"]) == (False, 5, None)
    assert verdict["head_seq"] == 5


def test_expect_head_that_is_not_a_hash_is_bad_input(cli: CliRunner) -> None:
    _history(cli)
    result = cli.invoke(app, ["audit", "verify", "--expect-head", "abc123"])
    assert result.exit_code == 2, result.output
    assert "not a head hash" in result.output


def test_verify_names_an_altered_entry(cli: CliRunner) -> None:
    _history(cli)
    _sql("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    result = cli.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "event #3" in result.output
    assert "content does not match its hash" in result.output
    verdict = json.loads(cli.invoke(app, ["audit", "verify", "--json"]).output)
    second = MloopClient().store.audit.list(limit=2)[1]
    assert verdict == {
        "intact": False,
        "checked": 2,
        "first_bad_seq": 3,
        "reason": "its content does not match its hash",
        "head": second.hash,
        "head_seq": 2,
    }


def test_verify_names_the_entry_after_a_removed_one(cli: CliRunner) -> None:
    _history(cli)
    _sql("DELETE FROM audit_events WHERE seq = 4")
    result = cli.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "event #5" in result.output
    assert "link to the previous event is broken" in result.output


def test_against_a_server_log_and_verify_run_on_the_server(
    cli: CliRunner, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mloop.client.context import close_store
    from mloop.server.app import create_app
    from mloop.server.config import ServerConfig
    from tests.server.conftest import serve_in_thread

    client = MloopClient()
    run = client.create_run("0", run_name="r")
    client.delete_run(run.run_id)
    head = client.store.audit.list()[-1].hash
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
        verdict = json.loads(
            cli.invoke(app, ["audit", "verify", "--expect-head", head, "--json"]).output
        )
        assert verdict == {
            "intact": True,
            "checked": 1,
            "first_bad_seq": None,
            "reason": "",
            "head": head,
            "head_seq": 1,
        }
        _sql_at(cli_env["MLOOP_TRACKING_URI"], "DELETE FROM audit_events")
        result = cli.invoke(app, ["audit", "verify", "--expect-head", head])
        assert result.exit_code == 1
        assert "truncated" in result.output
        bad = cli.invoke(app, ["audit", "verify", "--expect-head", "not-a-hash"])
        assert bad.exit_code == 2
        assert "not a head hash" in bad.output
    finally:
        close_store()
        stop()


def _sql_at(url: str, statement: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()
