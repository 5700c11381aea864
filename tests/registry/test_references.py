"""Model references: parsing every form, refusing malformed ones, resolving against a store."""

from __future__ import annotations

import pytest

from mloop.errors import AliasNotFoundError, InvalidModelReferenceError, ModelVersionNotFoundError
from mloop.registry import ModelReference, parse_model_uri, resolve, run_id_of_source
from mloop.storage.sql.store import SqlStore


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("models:/churn/3", ModelReference("churn", version=3)),
        ("models:/churn@champion", ModelReference("churn", alias="champion")),
        ("models:/churn/latest", ModelReference("churn", is_latest=True)),
        ("models:/churn/LATEST", ModelReference("churn", is_latest=True)),
        ("models:/my model.v2/12", ModelReference("my model.v2", version=12)),
    ],
)
def test_each_form_parses_and_prints_back(text: str, expected: ModelReference) -> None:
    assert parse_model_uri(text) == expected
    assert parse_model_uri(expected.uri) == expected


def test_short_forms_need_the_flag() -> None:
    assert parse_model_uri("churn/3", require_scheme=False) == ModelReference("churn", version=3)
    assert parse_model_uri("churn@a", require_scheme=False) == ModelReference("churn", alias="a")
    with pytest.raises(InvalidModelReferenceError, match="does not start with models:/"):
        parse_model_uri("churn/3")


@pytest.mark.parametrize(
    "text",
    [
        "models:/churn",
        "models:/churn/0",
        "models:/churn/-1",
        "models:/churn/v3",
        "models:/churn/99999999999",
        "models:/churn@",
        "models:/churn@latest",
        "models:/@champion",
        "models://3",
        "models:/a/b/3",
        "runs:/abc/model",
    ],
)
def test_malformed_references_say_which_forms_exist(text: str) -> None:
    with pytest.raises(InvalidModelReferenceError) as caught:
        parse_model_uri(text)
    assert caught.value.reference == text
    assert "models:/NAME@ALIAS" in str(caught.value)
    assert caught.value.field == "model_uri"


def test_a_non_string_is_refused() -> None:
    with pytest.raises(InvalidModelReferenceError):
        parse_model_uri(3)  # type: ignore[arg-type]


def test_resolve_follows_versions_aliases_and_latest(store: SqlStore) -> None:
    for _ in range(3):
        store.registry.create_version("churn", "s3://b/m", actor="a")
    store.registry.set_alias("churn", "champion", 2, actor="a")
    assert resolve(store.registry, "models:/churn/1").version == 1
    assert resolve(store.registry, "models:/churn@champion").version == 2
    assert resolve(store.registry, "models:/churn/latest").version == 3
    assert resolve(store.registry, ModelReference("churn", version=3)).version == 3
    store.registry.delete_version("churn", 3, actor="a")
    assert resolve(store.registry, "models:/churn/latest").version == 2
    with pytest.raises(AliasNotFoundError):
        resolve(store.registry, "models:/churn@challenger")
    with pytest.raises(ModelVersionNotFoundError):
        resolve(store.registry, "models:/churn/3")


def test_run_id_of_source() -> None:
    run_id = "a" * 32
    assert run_id_of_source(f"runs:/{run_id}/model") == run_id
    assert run_id_of_source(f"runs:/{run_id}") == run_id
    assert run_id_of_source("s3://bucket/model") is None
    assert run_id_of_source("runs:/short/model") is None
