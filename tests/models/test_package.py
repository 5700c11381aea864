"""The package format: reading `mloop-model.yaml`, digests, damaged and foreign packages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from mloop.errors import (
    CorruptModelPackageError,
    InvalidModelPackageError,
    ModelPackageNotFoundError,
)
from mloop.models import load_package, read_package, save_model
from mloop.models.package import PACKAGE_FILE, file_sha256
from tests.models.conftest import Fitted


@pytest.fixture
def package_path(logistic: Fitted, tmp_path: Path) -> Path:
    return save_model(logistic.model, tmp_path / "pkg", input_example=logistic.frame.head(3)).path


def test_digest_covers_the_package_file_and_every_file(package_path: Path) -> None:
    package = read_package(package_path)
    assert package.digest == file_sha256(package_path / PACKAGE_FILE)
    for name, recorded in package.files.items():
        assert recorded["sha256"] == file_sha256(package_path / name)
        assert recorded["size"] == (package_path / name).stat().st_size
    assert package.created_at.endswith("Z")
    assert package.python_version.count(".") == 2
    assert package.source_run == ""


def test_input_example_reads_back(package_path: Path, logistic: Fitted) -> None:
    example = read_package(package_path).input_example()
    assert example is not None
    assert list(example) == ["a", "b", "c", "d"]
    np.testing.assert_allclose(example["a"], logistic.frame["a"].head(3))


def test_a_changed_file_is_refused_when_loaded(package_path: Path) -> None:
    onnx_file = package_path / "model.onnx"
    onnx_file.write_bytes(onnx_file.read_bytes() + b"\0")
    with pytest.raises(CorruptModelPackageError, match=r"model\.onnx does not match") as caught:
        load_package(package_path)
    assert caught.value.file == "model.onnx"


def test_a_missing_file_is_refused(package_path: Path) -> None:
    (package_path / "model.skops").unlink()
    with pytest.raises(CorruptModelPackageError, match=r"model\.skops"):
        load_package(package_path, prefer_onnx=False)


def test_a_file_the_package_does_not_list_is_refused(package_path: Path) -> None:
    package = read_package(package_path)
    with pytest.raises(InvalidModelPackageError, match=r"lists no file 'other\.bin'"):
        package.file("other.bin")


def test_no_package_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelPackageNotFoundError, match=r"no mloop-model\.yaml"):
        load_package(tmp_path)


def _rewrite(path: Path, change: dict[str, object]) -> None:
    data = yaml.safe_load((path / PACKAGE_FILE).read_text())
    data.update(change)
    (path / PACKAGE_FILE).write_text(yaml.safe_dump(data))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": 99}, "format_version is 99"),
        ({"flavor": "tensorflow"}, "flavor 'tensorflow' is not one of"),
        ({"flavor": None}, "names no flavor"),
        ({"signature": {"inputs": [{"name": "a", "type": "decimal"}]}}, "type 'decimal'"),
        ({"files": ["model.skops"]}, "model package at"),
    ],
)
def test_malformed_package_files_are_refused(
    package_path: Path, change: dict[str, object], message: str
) -> None:
    _rewrite(package_path, change)
    with pytest.raises(InvalidModelPackageError, match=message):
        load_package(package_path)


def test_a_package_file_that_is_not_yaml_is_refused(package_path: Path) -> None:
    (package_path / PACKAGE_FILE).write_text("flavor: [unclosed\n")
    with pytest.raises(InvalidModelPackageError, match="is not YAML"):
        read_package(package_path)
