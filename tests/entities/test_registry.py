"""Registry entities: name, alias, version and description rules; version helpers."""

from __future__ import annotations

import pytest

from mloop.entities import Approval, ModelVersion
from mloop.entities.registry import (
    validate_alias,
    validate_description,
    validate_model_name,
    validate_version,
)
from mloop.errors import InvalidInputError


@pytest.mark.parametrize("name", ["churn", "Churn v2", "a.b-c_d", "7up"])
def test_good_model_names(name: str) -> None:
    assert validate_model_name(name) == name


@pytest.mark.parametrize("name", ["", " churn", "churn ", "a/b", "a@b", "a:b", "-x", 3, "x" * 251])
def test_bad_model_names(name: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate_model_name(name)
    assert caught.value.field == "name"


@pytest.mark.parametrize("alias", ["champion", "_canary", "v2-shadow"])
def test_good_aliases(alias: str) -> None:
    assert validate_alias(alias) == alias


@pytest.mark.parametrize("alias", ["", "latest", "LATEST", "3", "2x", "a b", None, "a" * 251])
def test_bad_aliases(alias: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate_alias(alias)
    assert caught.value.field == "alias"


def test_versions_and_descriptions() -> None:
    assert validate_version(3) == 3
    assert validate_version("12") == 12
    for bad in (0, -2, 2**31, "1.0", "", None, False):
        with pytest.raises(InvalidInputError):
            validate_version(bad)
    assert validate_description("fine") == "fine"
    for bad_text in (None, 3, "x" * 5001):
        with pytest.raises(InvalidInputError):
            validate_description(bad_text)


def test_version_uri_and_approval_state() -> None:
    version = ModelVersion("churn", 3, "s3://m", None, "", None, "", "ana", 1, 1)
    assert version.uri == "models:/churn/3"
    assert not version.is_approved
    approved = ModelVersion(
        "churn", 3, "s3://m", None, "", None, "", "ana", 1, 1, approvals=(Approval("lead", 2),)
    )
    assert approved.is_approved
