"""Run artifacts in a local folder (`tracking/artifacts.py`): path checks and atomic writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from mloop.errors import ConfigurationError, InvalidInputError, NotFoundError
from mloop.tracking.artifacts import LocalArtifactStore, clean_relative_path, local_root

ESCAPING = ["../x", "/abs", "a/../../b", "a/..", "..", "a\\b", "..\\x", "nul\x00byte"]


@pytest.fixture
def artifacts(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(str(tmp_path / "run" / "artifacts"))


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("path", ESCAPING)
def test_paths_that_could_escape_the_root_are_refused(path: str):
    with pytest.raises(InvalidInputError):
        clean_relative_path(path)


@pytest.mark.parametrize(
    ("path", "expected"),
    [(None, ""), ("", ""), (".", ""), ("a/b.txt", "a/b.txt"), ("./c.txt", "c.txt"), ("d/", "d")],
)
def test_relative_paths_are_normalised(path: str | None, expected: str):
    assert clean_relative_path(path) == PurePosixPath(expected)


def test_no_operation_accepts_an_escaping_path_and_nothing_is_written(
    artifacts: LocalArtifactStore, tmp_path: Path
):
    source = tmp_path / "source.txt"
    source.write_text("s")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "f.txt").write_text("f")
    before = files_under(tmp_path)

    operations: list[Callable[[str], object]] = [
        lambda p: artifacts.write_bytes(p, b"x"),
        lambda p: artifacts.log_file(source, p),
        lambda p: artifacts.log_dir(folder, p),
        artifacts.list,
        artifacts.read_bytes,
        lambda p: artifacts.download(p, tmp_path / "out"),
    ]
    for path in ESCAPING:
        for operation in operations:
            with pytest.raises(InvalidInputError):
                operation(path)

    assert files_under(tmp_path) == before
    assert not Path("/abs").exists()


def test_write_bytes_writes_atomically_and_leaves_no_temporary_files(
    artifacts: LocalArtifactStore,
):
    assert artifacts.write_bytes("a/b/c.txt", b"one") == "a/b/c.txt"
    assert artifacts.write_bytes("a/b/c.txt", b"two") == "a/b/c.txt"  # replaced in place

    assert artifacts.read_bytes("a/b/c.txt") == b"two"
    assert not list(artifacts.root.rglob(".mloop-tmp-*"))


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary_file(
    artifacts: LocalArtifactStore,
):
    artifacts.write_bytes("keep.txt", b"old")
    not_bytes: Any = "text is not bytes"

    with pytest.raises(TypeError):
        artifacts.write_bytes("keep.txt", not_bytes)
    with pytest.raises(TypeError):
        artifacts.write_bytes("new.txt", not_bytes)

    assert artifacts.read_bytes("keep.txt") == b"old"
    assert [p.name for p in artifacts.root.iterdir()] == ["keep.txt"]


def test_write_bytes_needs_a_file_name(artifacts: LocalArtifactStore):
    with pytest.raises(InvalidInputError, match="must name a file"):
        artifacts.write_bytes("", b"x")


def test_log_file_and_log_dir_copy_content(artifacts: LocalArtifactStore, tmp_path: Path):
    source = tmp_path / "weights.bin"
    source.write_bytes(bytes(range(256)) * 5000)
    folder = tmp_path / "plots"
    (folder / "deep" / "er").mkdir(parents=True)
    (folder / "a.svg").write_text("a")
    (folder / "deep" / "er" / "b.svg").write_text("b")

    assert artifacts.log_file(source) == "weights.bin"
    assert artifacts.log_dir(folder) == 2
    assert artifacts.log_dir(folder, "again") == 2

    assert artifacts.read_bytes("weights.bin") == source.read_bytes()
    assert artifacts.read_bytes("deep/er/b.svg") == b"b"
    assert artifacts.read_bytes("again/a.svg") == b"a"
    assert not list(artifacts.root.rglob(".mloop-tmp-*"))


def test_log_file_and_log_dir_refuse_missing_sources(artifacts: LocalArtifactStore, tmp_path: Path):
    with pytest.raises(InvalidInputError, match="not a file"):
        artifacts.log_file(tmp_path)
    with pytest.raises(InvalidInputError, match="not a file"):
        artifacts.log_file(tmp_path / "missing.txt")
    with pytest.raises(InvalidInputError, match="not a folder"):
        artifacts.log_dir(tmp_path / "missing")


def test_list_shows_direct_entries_sorted_without_temporary_files(
    artifacts: LocalArtifactStore,
):
    artifacts.write_bytes("b.txt", b"12")
    artifacts.write_bytes("a/x.txt", b"1")
    (artifacts.root / ".mloop-tmp-leftover").write_bytes(b"partial")

    listed = artifacts.list()

    assert [(a.path, a.is_dir, a.size_bytes) for a in listed] == [
        ("a", True, None),
        ("b.txt", False, 2),
    ]
    assert [a.path for a in artifacts.list("a")] == ["a/x.txt"]
    assert artifacts.list("missing") == []


def test_read_and_download_of_missing_artifacts_raise_not_found(
    artifacts: LocalArtifactStore, tmp_path: Path
):
    with pytest.raises(NotFoundError):
        artifacts.read_bytes("missing.txt")
    with pytest.raises(NotFoundError):
        artifacts.download("missing.txt", tmp_path / "out")


def test_download_copies_files_and_folders(artifacts: LocalArtifactStore, tmp_path: Path):
    artifacts.write_bytes("model/weights.bin", b"w")
    artifacts.write_bytes("model/conf/c.json", b"{}")

    copied = artifacts.download("model", tmp_path / "out")
    single = artifacts.download("model/weights.bin", tmp_path / "single")
    whole = artifacts.download(None, tmp_path / "whole")

    assert copied == tmp_path / "out" / "model"
    assert (copied / "conf" / "c.json").read_bytes() == b"{}"
    assert single.read_bytes() == b"w"
    assert (whole / "model" / "weights.bin").read_bytes() == b"w"


def test_local_root_accepts_paths_and_file_uris_and_refuses_remote_ones(tmp_path: Path):
    assert local_root(str(tmp_path)) == tmp_path
    assert local_root(f"file://{tmp_path}") == tmp_path
    with pytest.raises(ConfigurationError, match="MLOOP_ARTIFACT_URI"):
        local_root("s3://bucket/runs")
