"""The fluent registry API: register from a run (with lineage), alias, approve, resolve, load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.client.context import get_store
from mloop.client.registry import approve_model_version, get_model_version, set_model_alias
from mloop.entities import RunInput
from mloop.errors import (
    InvalidInputError,
    ModelPackageNotFoundError,
    ProtectedAliasError,
    RunNotFoundError,
)


def _fitted() -> tuple[LogisticRegression, dict[str, list[float]]]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    model = LogisticRegression().fit(x, y)
    return model, {"a": list(x[:5, 0]), "b": list(x[:5, 1])}


def test_register_model_reads_the_package_and_links_run_and_datasets() -> None:
    model, example = _fitted()
    with mloop.start_run() as run:
        get_store().runs.log_inputs(run.run_id, [RunInput("customers", "d1", "", "training")])
        info = mloop.log_model(model, "model", input_example=example, export_onnx=False)
    version = mloop.register_model(info.model_uri, "churn", tags={"team": "risk"})
    assert (version.name, version.version, version.run_id) == ("churn", 1, run.run_id)
    assert version.package_digest == info.package.digest
    assert version.signature is not None
    assert [c["name"] for c in version.signature["inputs"]] == ["a", "b"]
    assert version.datasets == (RunInput("customers", "d1", "", "training"),)
    assert version.tags == {"team": "risk"}
    assert version.user_id  # the OS user registered it


def test_log_model_registers_and_load_model_follows_the_alias() -> None:
    model, example = _fitted()
    with mloop.start_run():
        info = mloop.log_model(model, "model", input_example=example, registered_model_name="churn")
    assert info.registered_version is not None
    assert info.registered_version.version == 1
    set_model_alias("churn", "champion", 1)
    loaded = mloop.load_model("models:/churn@champion")
    rows = np.column_stack([example["a"], example["b"]])
    assert list(loaded.predict(example)) == list(model.predict(rows))


def test_sources_that_are_not_packages(tmp_path: Path) -> None:
    run = mloop.start_run()  # a run that logged no model package
    mloop.end_run()
    with pytest.raises(ModelPackageNotFoundError):
        mloop.register_model(f"runs:/{run.run_id}/model", "churn")
    with pytest.raises(InvalidInputError, match="already a registered version"):
        mloop.register_model("models:/churn/1", "churn")
    with pytest.raises(ModelPackageNotFoundError):
        mloop.register_model(str(tmp_path), "churn")
    # an explicit empty digest registers any source as it is; remote URIs are not read
    version = mloop.register_model(str(tmp_path), "churn", package_digest="")
    assert (version.version, version.run_id, version.package_digest) == (1, None, "")
    assert mloop.register_model("s3://bucket/model", "churn").package_digest == ""


def test_alias_approve_and_resolve() -> None:
    mloop.register_model("s3://bucket/model", "churn", package_digest="")
    get_store().registry.set_alias_protection("churn", "champion", actor="admin")
    with pytest.raises(ProtectedAliasError):
        set_model_alias("churn", "champion", 1)
    approval = approve_model_version("churn", 1, comment="ok")
    assert approval.comment == "ok"
    set_model_alias("churn", "champion", 1)
    assert get_model_version("models:/churn@champion").version == 1
    assert get_model_version("models:/churn/latest").approvals == (approval,)


def test_registering_from_an_unknown_run_fails() -> None:
    with pytest.raises(RunNotFoundError):
        mloop.register_model(f"runs:/{'0' * 32}/model", "churn", package_digest="")
