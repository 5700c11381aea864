"""Where mloop keeps things (`settings.py`): home discovery and environment overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from mloop.settings import Settings, find_home


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with a `.mloop/` home and nested sub-folders."""
    root = tmp_path / "project"
    (root / ".mloop").mkdir(parents=True)
    (root / "notebooks" / "eda").mkdir(parents=True)
    return root


def test_find_home_uses_the_home_in_the_folder_itself(project: Path):
    assert find_home(project) == project / ".mloop"


def test_find_home_uses_the_nearest_parent_with_a_home(project: Path):
    assert find_home(project / "notebooks" / "eda") == project / ".mloop"


def test_find_home_prefers_the_nearest_of_several_homes(project: Path):
    inner = project / "notebooks"
    (inner / ".mloop").mkdir()

    assert find_home(inner / "eda") == inner / ".mloop"


def test_find_home_falls_back_to_the_folder_itself(tmp_path: Path):
    folder = tmp_path / "fresh" / "sub"
    folder.mkdir(parents=True)

    assert find_home(folder) == folder / ".mloop"
    assert not (folder / ".mloop").exists()  # finding does not create


def test_find_home_ignores_a_file_named_like_the_home(tmp_path: Path):
    (tmp_path / ".mloop").write_text("not a folder")
    folder = tmp_path / "sub"
    folder.mkdir()

    assert find_home(folder) == folder / ".mloop"


def test_find_home_returns_an_absolute_path(project: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(project)

    assert find_home(Path("notebooks")) == project / ".mloop"


def test_defaults_are_an_embedded_sqlite_store_in_the_home(project: Path):
    settings = Settings.from_env({}, cwd=project / "notebooks")

    assert settings.home == project / ".mloop"
    assert settings.tracking_uri == f"sqlite:///{project / '.mloop' / 'mloop.db'}"
    assert settings.artifact_uri == str(project / ".mloop" / "artifacts")
    assert settings.experiment_name is None
    assert settings.log_system_metrics is False
    assert settings.is_embedded


def test_mloop_home_overrides_discovery(project: Path, tmp_path: Path):
    home = tmp_path / "elsewhere"

    settings = Settings.from_env({"MLOOP_HOME": str(home)}, cwd=project)

    assert settings.home == home
    assert settings.tracking_uri == f"sqlite:///{home / 'mloop.db'}"
    assert settings.artifact_uri == str(home / "artifacts")
    assert settings.is_embedded


def test_mloop_home_expands_the_user_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HOME", str(tmp_path))

    settings = Settings.from_env({"MLOOP_HOME": "~/mlhome"}, cwd=tmp_path)

    assert settings.home == tmp_path / "mlhome"


def test_a_relative_mloop_home_is_relative_to_the_working_directory(tmp_path: Path):
    settings = Settings.from_env({"MLOOP_HOME": "state"}, cwd=tmp_path)

    assert settings.home == tmp_path / "state"
    assert settings.tracking_uri == f"sqlite:///{tmp_path / 'state' / 'mloop.db'}"
    assert settings.artifact_uri == str(tmp_path / "state" / "artifacts")
    assert settings.is_embedded


def test_a_relative_local_artifact_uri_is_relative_to_the_working_directory(tmp_path: Path):
    settings = Settings.from_env({"MLOOP_ARTIFACT_URI": "../shared/artifacts"}, cwd=tmp_path)

    assert settings.artifact_uri == str(tmp_path.parent / "shared" / "artifacts")


def test_mloop_tracking_uri_overrides_the_store_and_is_not_embedded(project: Path):
    url = "postgresql://postgres@db:5432/mloop"

    settings = Settings.from_env({"MLOOP_TRACKING_URI": url}, cwd=project)

    assert settings.tracking_uri == url
    assert settings.artifact_uri == str(project / ".mloop" / "artifacts")
    assert not settings.is_embedded


def test_mloop_artifact_uri_overrides_the_artifact_root(project: Path):
    settings = Settings.from_env({"MLOOP_ARTIFACT_URI": "s3://bucket/mloop"}, cwd=project)

    assert settings.artifact_uri == "s3://bucket/mloop"
    assert settings.is_embedded


def test_empty_variables_count_as_unset(project: Path):
    settings = Settings.from_env(
        {"MLOOP_HOME": "", "MLOOP_TRACKING_URI": "", "MLOOP_EXPERIMENT_NAME": ""}, cwd=project
    )

    assert settings.home == project / ".mloop"
    assert settings.is_embedded
    assert settings.experiment_name is None


def test_mloop_experiment_name_is_read(project: Path):
    assert Settings.from_env({"MLOOP_EXPERIMENT_NAME": "churn"}, cwd=project).experiment_name == (
        "churn"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("On", True),
        ("0", False),
        ("no", False),
        ("", False),
    ],
)
def test_mloop_log_system_metrics_is_a_switch(project: Path, value: str, expected: bool):
    settings = Settings.from_env({"MLOOP_LOG_SYSTEM_METRICS": value}, cwd=project)

    assert settings.log_system_metrics is expected


def test_from_env_reads_the_process_environment_and_working_directory(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    for var in ("MLOOP_HOME", "MLOOP_TRACKING_URI", "MLOOP_ARTIFACT_URI"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MLOOP_EXPERIMENT_NAME", "from-process")
    monkeypatch.chdir(project / "notebooks" / "eda")

    settings = Settings.from_env()

    assert settings.home == project / ".mloop"
    assert settings.experiment_name == "from-process"
