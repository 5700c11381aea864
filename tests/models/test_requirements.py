"""Pinned requirements: module names mapped to installed distributions and their versions."""

from __future__ import annotations

import pickle
from importlib import metadata

import cloudpickle  # type: ignore[import-untyped]
import numpy as np

from mloop.models.requirements import pickle_modules, pinned_requirements


def test_modules_map_to_pinned_distributions() -> None:
    lines = pinned_requirements(["sklearn.ensemble._forest", "numpy", "yaml", "onnx.helper"])
    assert lines == sorted(
        [
            f"numpy=={metadata.version('numpy')}",
            f"onnx=={metadata.version('onnx')}",
            f"pyyaml=={metadata.version('pyyaml')}",
            f"scikit-learn=={metadata.version('scikit-learn')}",
        ],
        key=str.lower,
    )


def test_standard_library_and_unknown_modules_are_left_out() -> None:
    assert pinned_requirements(["os", "collections.abc", "builtins", "_private", "tests"]) == []


def test_a_module_whose_distribution_has_another_name_is_found() -> None:
    assert pinned_requirements(["dateutil.parser"]) == [
        f"python-dateutil=={metadata.version('python-dateutil')}"
    ]
    # A namespace package comes from several distributions: all of them are pinned.
    assert f"protobuf=={metadata.version('protobuf')}" in pinned_requirements(["google.protobuf"])


def test_pickle_modules_reads_globals_without_loading() -> None:
    data = pickle.dumps({"a": np.float64(1.0), "f": np.add}, protocol=4)
    assert "numpy" in {m.partition(".")[0] for m in pickle_modules(data)}
    old = pickle.dumps(np.add, protocol=0)
    assert any(m.startswith("numpy") for m in pickle_modules(old))
    assert "cloudpickle" in {
        m.partition(".")[0] for m in pickle_modules(cloudpickle.dumps(lambda: 1))
    }
