"""What a run records about where it ran (`tracking/environment.py`)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path

import pytest

import mloop
from mloop.entities import RunStatus
from mloop.storage.sql.store import SqlStore
from mloop.tracking.environment import (
    capture_environment,
    current_user,
    git_info,
    installed_packages,
)
from tests.client.scripts import run_script

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **GIT_IDENTITY},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture(autouse=True)
def no_enclosing_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Git never looks above the test's folder, so "outside git" holds wherever tmp is."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git work tree on branch `main` with one commit."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "train.py").write_text("print('v1')\n")
    git(root, "add", "train.py")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_git_info_reports_commit_branch_and_a_clean_tree(repo: Path):
    info = git_info(repo)

    assert info is not None
    assert info.commit == git(repo, "rev-parse", "HEAD")
    assert info.branch == "main"
    assert (info.is_dirty, info.diff) == (False, "")
    assert Path(info.repo_root) == repo.resolve()


def test_git_info_reports_a_modified_tracked_file_and_its_diff(repo: Path):
    (repo / "train.py").write_text("print('v2')\n")

    info = git_info(repo)

    assert info is not None
    assert info.is_dirty
    assert "-print('v1')" in info.diff
    assert "+print('v2')" in info.diff


def test_untracked_files_do_not_make_the_tree_dirty(repo: Path):
    (repo / "scratch.txt").write_text("notes")

    info = git_info(repo)

    assert info is not None
    assert not info.is_dirty


def test_git_info_in_a_sub_folder_finds_the_work_tree(repo: Path):
    sub = repo / "src" / "pkg"
    sub.mkdir(parents=True)

    info = git_info(sub)

    assert info is not None
    assert info.branch == "main"


def test_git_info_is_none_outside_a_work_tree_and_without_commits(tmp_path: Path):
    plain = tmp_path / "plain"
    plain.mkdir()
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")

    assert git_info(plain) is None
    assert git_info(empty) is None


def test_capture_environment_describes_the_script_and_its_repository(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    (repo / "train.py").write_text("print('v2')\n")
    monkeypatch.chdir(tmp_path)  # the script's folder counts, not the working directory

    env = capture_environment(argv=[str(repo / "train.py")])

    assert (env.source_name, env.source_type) == (str((repo / "train.py").resolve()), "SCRIPT")
    assert env.python_version == platform.python_version()
    assert env.user == current_user()
    assert env.git is not None
    assert env.git.is_dirty
    tags = env.as_tags()
    assert tags["mloop.source.git.commit"] == git(repo, "rev-parse", "HEAD")
    assert tags["mloop.source.git.branch"] == "main"
    assert tags["mloop.source.git.dirty"] == "true"
    assert tags["mloop.python_version"] == platform.python_version()
    assert f"mloop=={mloop.__version__}" in env.packages


def test_capture_environment_outside_git_has_no_git_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    script = tmp_path / "plain" / "job.py"
    script.parent.mkdir()
    script.write_text("")
    monkeypatch.chdir(script.parent)

    env = capture_environment(argv=[str(script)])

    assert env.git is None
    assert not [k for k in env.as_tags() if k.startswith("mloop.source.git")]
    assert env.as_tags()["mloop.source.name"] == str(script.resolve())


def test_installed_packages_lists_mloop_sorted_and_unique():
    packages = installed_packages()

    assert f"mloop=={mloop.__version__}" in packages
    assert packages == sorted(set(packages), key=str.lower)
    assert all("==" in line for line in packages)


def embedded_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOOP_")}
    env["MLOOP_HOME"] = str(home)
    return env


def run_of_script(home: Path) -> tuple[SqlStore, str]:
    store = SqlStore(f"sqlite:///{home / 'mloop.db'}", artifact_root=str(home / "artifacts"))
    (run,) = store.runs.search(["0"])
    return store, run.run_id


TRAINING_SCRIPT = """
import mloop

with mloop.start_run():
    mloop.log_metric("loss", 0.5)
"""


@pytest.mark.slow
def test_a_run_from_a_dirty_repository_records_git_tags_and_artifacts(repo: Path, tmp_path: Path):
    (repo / "train.py").write_text("print('v2')\n")
    home = tmp_path / "home"

    run_script(TRAINING_SCRIPT, env=embedded_env(home), cwd=repo, name="job.py")

    store, run_id = run_of_script(home)
    try:
        run = store.runs.get(run_id)
        requirements = store.artifacts.read_bytes(run_id, "environment/requirements.txt").decode()
        diff = store.artifacts.read_bytes(run_id, "environment/git.diff").decode()
    finally:
        store.close()
    assert run.status is RunStatus.FINISHED
    assert run.tags["mloop.source.git.commit"] == git(repo, "rev-parse", "HEAD")
    assert run.tags["mloop.source.git.branch"] == "main"
    assert run.tags["mloop.source.git.dirty"] == "true"
    assert run.tags["mloop.source.name"] == str((repo / "job.py").resolve())
    assert run.tags["mloop.source.type"] == "SCRIPT"
    assert run.tags["mloop.python_version"] == platform.python_version()
    assert f"mloop=={mloop.__version__}" in requirements.splitlines()
    assert "+print('v2')" in diff


@pytest.mark.slow
def test_a_run_outside_git_has_no_git_tags_nor_diff(tmp_path: Path):
    folder = tmp_path / "plain"
    folder.mkdir()
    home = tmp_path / "home"

    run_script(TRAINING_SCRIPT, env=embedded_env(home), cwd=folder, name="job.py")

    store, run_id = run_of_script(home)
    try:
        run = store.runs.get(run_id)
        listed = store.artifacts.list(run_id, "environment")
    finally:
        store.close()
    assert not [k for k in run.tags if k.startswith("mloop.source.git")]
    assert run.tags["mloop.source.name"] == str((folder / "job.py").resolve())
    assert [a.path for a in listed] == ["environment/requirements.txt"]


@pytest.mark.slow
def test_start_run_and_logging_do_not_wait_for_the_environment(tmp_path: Path):
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / "git"
    shim.write_text("#!/bin/sh\nsleep 4\nexit 128\n")  # a git that takes 4 s, outside any repo
    shim.chmod(0o755)
    folder = tmp_path / "plain"
    folder.mkdir()
    home = tmp_path / "home"
    env = embedded_env(home)
    env["PATH"] = f"{shims}{os.pathsep}{env['PATH']}"

    done = run_script(
        """
        import json
        import time

        import mloop
        from mloop.client.context import STATE, get_store

        get_store()  # open the database first: only start_run and logging are timed
        started = time.monotonic()
        run = mloop.start_run()
        for step in range(1_000):
            mloop.log_metric("loss", 1.0, step=step)
        elapsed_s = time.monotonic() - started
        captured_meanwhile = STATE.environment.done()
        mloop.end_run()  # waits for the capture, then records it
        print(json.dumps({"elapsed_s": elapsed_s, "captured_meanwhile": captured_meanwhile}))
        """,
        env=env,
        cwd=folder,
        name="job.py",
    )

    reported = json.loads(done.stdout.strip().splitlines()[-1])
    assert reported["captured_meanwhile"] is False
    assert reported["elapsed_s"] < 4
    store, run_id = run_of_script(home)
    try:
        tags = store.runs.get(run_id).tags
    finally:
        store.close()
    assert tags["mloop.source.name"].endswith("job.py")  # recorded once capture finished
