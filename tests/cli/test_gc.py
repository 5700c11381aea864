"""`mloop gc` against a real store: dry run, purge, blob removal, refusals."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mloop.cli.main import app
from mloop.client import MloopClient
from mloop.errors import RunNotFoundError


def _runs(tmp_path: Path) -> tuple[str, str, str]:
    client = MloopClient()
    kept = client.create_run("0", run_name="kept")
    gone = client.create_run("0", run_name="gone")
    shared = tmp_path / "shared.bin"
    shared.write_bytes(b"s" * 400_000)
    only = tmp_path / "only.txt"
    only.write_text("only in the deleted run")
    for run in (kept, gone):
        client.log_artifact(run.run_id, shared)
    client.log_artifact(gone.run_id, only)
    blob = client.store.artifacts.get(gone.run_id, "only.txt").digest
    client.delete_run(gone.run_id)
    time.sleep(0.02)
    return kept.run_id, gone.run_id, blob


def test_dry_run_lists_then_gc_removes_the_deleted_run_and_its_blob(
    cli: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    kept, gone, blob = _runs(tmp_path)
    args = ["gc", "--retention-days", "0", "--grace-hours", "0"]

    dry = cli.invoke(app, [*args, "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    listed = json.loads(dry.output)
    assert listed["dry_run"] is True
    assert listed["purged_runs"] == [gone]
    assert listed["deleted_blobs"] == [blob]
    client = MloopClient()
    assert client.get_run(gone).run_id == gone  # nothing changed
    assert client.store.artifacts.blobs.has(blob)

    text = cli.invoke(app, [*args, "--dry-run"])
    assert text.exit_code == 0
    assert f"would remove run {gone}" in text.output
    assert "dry run: nothing was changed" in text.output

    real = cli.invoke(app, args)
    assert real.exit_code == 0, real.output
    assert f"removed run {gone}" in real.output
    assert f"removed blob {blob}" in real.output
    with pytest.raises(RunNotFoundError):
        client.get_run(gone)
    assert not client.store.artifacts.blobs.has(blob)
    assert client.read_artifact(kept, "shared.bin") == b"s" * 400_000

    again = cli.invoke(app, [*args, "--json"])
    assert json.loads(again.output)["deleted_blobs"] == []


def test_defaults_keep_recently_deleted_runs(
    cli: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    _, gone, blob = _runs(tmp_path)
    result = cli.invoke(app, ["gc", "--json"])
    assert MloopClient().store.artifacts.blobs.has(blob)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["purged_runs"] == []
    assert report["deleted_blobs"] == []
    assert MloopClient().get_run(gone).run_id == gone


def test_bad_periods_and_a_server_uri_are_refused(
    cli: CliRunner, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = cli.invoke(app, ["gc", "--retention-days", "-1"])
    assert result.exit_code == 2
    monkeypatch.setenv("MLOOP_TRACKING_URI", "http://127.0.0.1:9")
    refused = cli.invoke(app, ["gc"])
    assert refused.exit_code == 7
    assert "not through a" in " ".join(refused.output.split())
