"""`save_model`: flavor detection, signatures given or inferred, atomic folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mloop.errors import (
    AlreadyExistsError,
    InvalidInputError,
    ModelInputError,
    UnsupportedModelError,
)
from mloop.models import ColumnSpec, Signature, load_package, save_model
from tests.models.conftest import Fitted


def test_the_target_folder_must_be_new(logistic: Fitted, tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    with pytest.raises(AlreadyExistsError, match="it exists"):
        save_model(logistic.model, tmp_path / "pkg")


def test_a_given_signature_is_kept_and_checks_the_example(logistic: Fitted, tmp_path: Path) -> None:
    signature = Signature(tuple(ColumnSpec(n, "double") for n in "abcd"), method="predict_proba")
    example = {n: [1, 2] for n in "abcd"}  # integers, widened to the signature's doubles
    package = save_model(
        logistic.model, tmp_path / "pkg", signature=signature, input_example=example
    )

    assert package.signature == signature
    stored = package.input_example()
    assert stored is not None
    assert stored["a"].dtype == np.float64
    wrong = {n: ["x"] for n in "abcd"}
    with pytest.raises(ModelInputError, match="'a' has string values"):
        save_model(logistic.model, tmp_path / "other", signature=signature, input_example=wrong)
    assert not (tmp_path / "other").exists()


def test_method_overrides_the_signature_and_must_be_servable(
    logistic: Fitted, tmp_path: Path
) -> None:
    signature = Signature(tuple(ColumnSpec(n, "double") for n in "abcd"))
    package = save_model(
        logistic.model, tmp_path / "pkg", signature=signature, method="predict_proba"
    )
    assert package.signature is not None
    assert package.signature.method == "predict_proba"
    with pytest.raises(InvalidInputError, match="'transform' cannot be served"):
        save_model(logistic.model, tmp_path / "other", method="transform")


def test_objects_without_predict_are_unsupported(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedModelError, match="has no predict method") as caught:
        save_model(object(), tmp_path / "pkg")
    assert caught.value.model_type == "builtins.object"


def test_an_unknown_flavor_is_refused(logistic: Fitted, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="flavor 'keras'"):
        save_model(logistic.model, tmp_path / "pkg", flavor="keras")


def test_source_run_is_recorded(logistic: Fitted, tmp_path: Path) -> None:
    source = "runs:/" + "a" * 32 + "/model"
    package = save_model(logistic.model, tmp_path / "pkg", source_run=source)
    assert load_package(package.path).package.source_run == source
