"""`mloop data add|status|list|show|diff|alias|push|pull|get|import-dvc` and `mloop lineage`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import mloop
from mloop.cli.main import app
from tests.cli.conftest import ok, ok_json
from tests.conftest import S3Server


def _folder(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_add_status_show_diff_and_alias(cli: CliRunner, cli_env: dict[str, str], tmp_path: Path):
    data = _folder(tmp_path / "d", {"a.csv": "1\n", "b/c.txt": "c"})
    out = ok(cli, "data", "add", str(data), "--name", "raw", "-m", "first", "--tag", "team=ml")
    assert "created datasets:/raw/1" in out
    assert "unchanged" in ok(cli, "data", "add", str(data), "--name", "raw")
    assert "clean against datasets:/raw/1" in ok(cli, "data", "status", str(data), "-n", "raw")
    (data / "a.csv").write_text("2\n")
    (data / "new.txt").write_text("n")
    changes = ok_json(cli, "data", "status", str(data), "-n", "raw")
    assert (changes["added"], changes["modified"], changes["removed"]) == (
        ["new.txt"],
        ["a.csv"],
        [],
    )
    added = ok_json(cli, "data", "add", str(data), "--name", "raw", "-m", "second")
    assert (added["version"], added["created"]) == (2, True)
    listed = ok_json(cli, "data", "list")
    assert [(d["name"], d["latest_version"], d["tags"]) for d in listed] == [
        ("raw", 2, {"team": "ml"})
    ]
    shown = ok_json(cli, "data", "show", "raw/2")
    assert sorted(f["path"] for f in shown["files"]) == ["a.csv", "b/c.txt", "new.txt"]
    assert "second" in ok(cli, "data", "show", "raw")
    assert "new.txt" in ok(cli, "data", "show", "datasets:/raw/latest", "--files")
    diff = ok_json(cli, "data", "diff", "raw/1", "raw/2")
    assert (diff["added"], diff["changed"], diff["unchanged"]) == (["new.txt"], ["a.csv"], 1)
    assert "1 added, 0 removed, 1 changed" in ok(cli, "data", "diff", "raw/1", "raw/2")
    assert "datasets:/raw@prod -> datasets:/raw/1" in ok(cli, "data", "alias", "raw/1", "prod")
    assert ok_json(cli, "data", "show", "raw@prod")["version"] == 1
    ok(cli, "data", "alias", "raw", "prod", "--delete")
    missing = cli.invoke(app, ["data", "show", "raw@prod"])
    assert missing.exit_code == 3
    assert "no version '@prod'" in missing.output


def test_table_versions_show_schema_and_row_changes(cli: CliRunner, cli_env: dict[str, str]):
    mloop.data.snapshot(pd.DataFrame({"id": [1, 2]}), "t")
    mloop.data.snapshot(pd.DataFrame({"id": ["a", "b", "c"], "y": [1.0, 2.0, 3.0]}), "t")
    shown = ok(cli, "data", "show", "t/2")
    assert "rows     3" in shown
    assert "y: double" in shown
    out = ok(cli, "data", "diff", "t/1", "t/2")
    assert "+ column y: double" in out
    assert "~ column id: int64 -> " in out  # string or large_string, as pandas makes it
    assert "rows 2 -> 3 (+1)" in out


def test_unknown_names_and_bad_input_have_clear_errors(
    cli: CliRunner, cli_env: dict[str, str], tmp_path: Path
):
    result = cli.invoke(app, ["data", "show", "nope/1"])
    assert result.exit_code == 3
    assert "dataset 'nope' does not exist" in result.output
    bad = cli.invoke(app, ["data", "add", str(tmp_path), "--name", "x", "--tag", "novalue"])
    assert bad.exit_code == 2
    assert "KEY=VALUE" in bad.output
    assert cli.invoke(app, ["data", "show", "a/b/c"]).exit_code == 2
    assert "no datasets yet" in ok(cli, "data", "list")


@pytest.mark.parametrize("remote_kind", ["local", "s3"])
def test_push_pull_and_get(
    cli: CliRunner,
    cli_env: dict[str, str],
    tmp_path: Path,
    remote_kind: str,
    request: pytest.FixtureRequest,
):
    data = _folder(tmp_path / "d", {f"f{i}.txt": f"file {i}" for i in range(5)})
    ok(cli, "data", "add", str(data), "--name", "ds")
    if remote_kind == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        remote = f"s3://{server.new_bucket()}/store"
    else:
        remote = str(tmp_path / "remote")
    assert "pushed 5 of 5 blobs" in ok(cli, "data", "push", "ds", "--remote", remote)
    assert "pushed 0 of 5 blobs (5 were there already)" in ok(
        cli, "data", "push", "ds/1", "-r", remote
    )
    # another machine: same metadata, empty local blob store
    cli_env["MLOOP_ARTIFACT_URI"] = str(tmp_path / "other-artifacts")
    from mloop.client.context import close_store

    close_store()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLOOP_ARTIFACT_URI", cli_env["MLOOP_ARTIFACT_URI"])
        missing = cli.invoke(app, ["data", "get", "ds/1", str(tmp_path / "out")])
        assert missing.exit_code == 3, missing.output
        assert "pulled 5 of 5 blobs" in ok(cli, "data", "pull", "ds", "--remote", remote)
        out = ok(cli, "data", "get", "ds/1", str(tmp_path / "out"))
        assert "wrote datasets:/ds/1" in out
        close_store()
    assert (tmp_path / "out" / "f3.txt").read_text() == "file 3"


def test_import_dvc_and_lineage(cli: CliRunner, cli_env: dict[str, str], tmp_path: Path):
    from tests.data.test_dvc_import import _repo

    repo = _repo(tmp_path)
    out = ok(cli, "data", "import-dvc", str(repo))
    assert "datasets:/images/1" in out
    assert "skipped" in out
    again = ok_json(cli, "data", "import-dvc", str(repo))
    assert not any(item["created"] for item in again["imported"])
    assert [s["path"] for s in again["skipped"]] == ["missing.bin"]
    assert "no run used it yet" in ok(cli, "lineage", "datasets:/images/1")
    with mloop.start_run() as run:
        mloop.log_input("images/1")
    from tests.client.test_datasets import _register

    _register(run.run_id, "clf")
    found = ok_json(cli, "lineage", "images")
    assert [r["run_id"] for r in found["runs"]] == [run.run_id]
    assert found["model_versions"][0]["name"] == "clf"
    text = ok(cli, "lineage", "images/1")
    assert run.run_id in text
    assert "models:/clf/1" in text
