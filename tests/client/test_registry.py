"""The fluent registry API: register from a run (with lineage), alias, approve, resolve."""

from __future__ import annotations

import pytest

import mloop
from mloop.client.context import get_store
from mloop.client.registry import approve_model_version, get_model_version, set_model_alias
from mloop.entities import RunInput
from mloop.errors import ProtectedAliasError, RunNotFoundError


def test_register_model_links_the_run_and_its_datasets() -> None:
    with mloop.start_run() as run:
        get_store().runs.log_inputs(run.run_id, [RunInput("customers", "d1", "", "training")])
        run_id = run.run_id
    version = mloop.register_model(
        f"runs:/{run_id}/model", "churn", tags={"team": "risk"}, signature={"method": "predict"}
    )
    assert (version.name, version.version, version.run_id) == ("churn", 1, run_id)
    assert version.datasets == (RunInput("customers", "d1", "", "training"),)
    assert version.signature == {"method": "predict"}
    assert version.user_id  # the OS user registered it
    assert mloop.register_model("s3://bucket/model", "churn").run_id is None


def test_alias_approve_and_resolve() -> None:
    mloop.register_model("s3://bucket/model", "churn")
    store = get_store()
    store.registry.set_alias_protection("churn", "champion", actor="admin")
    with pytest.raises(ProtectedAliasError):
        set_model_alias("churn", "champion", 1)
    approval = approve_model_version("churn", 1, comment="ok")
    assert approval.comment == "ok"
    set_model_alias("churn", "champion", 1)
    assert get_model_version("models:/churn@champion").version == 1
    assert get_model_version("models:/churn/latest").approvals == (approval,)


def test_registering_from_an_unknown_run_fails() -> None:
    with pytest.raises(RunNotFoundError):
        mloop.register_model(f"runs:/{'0' * 32}/model", "churn")
