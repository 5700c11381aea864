from __future__ import annotations

import pytest

from mloop.entities.auth import (
    Role,
    User,
    hash_token_secret,
    higher_role,
    new_token,
    parse_token,
    token_matches,
)
from mloop.errors import InvalidInputError


def test_roles_are_ordered() -> None:
    assert Role.ADMIN.includes(Role.EDITOR)
    assert Role.EDITOR.includes(Role.READER)
    assert not Role.READER.includes(Role.EDITOR)
    assert higher_role(Role.READER, Role.ADMIN) is Role.ADMIN
    assert higher_role(Role.EDITOR, Role.READER) is Role.EDITOR
    assert higher_role(None, Role.READER) is Role.READER
    assert higher_role(Role.READER, None) is Role.READER
    assert higher_role(None, None) is None


def test_role_names_parse_case_insensitively() -> None:
    assert Role.parse(" Editor ") is Role.EDITOR
    with pytest.raises(InvalidInputError, match="reader, editor, admin") as caught:
        Role.parse("owner")
    assert caught.value.field == "role"


def test_the_role_in_an_experiment_is_the_higher_of_global_and_grant() -> None:
    user = User(name="u", role=Role.READER, experiment_roles={"3": Role.ADMIN, "4": Role.READER})
    assert user.role_in("3") is Role.ADMIN
    assert user.role_in("4") is Role.READER
    assert user.role_in("5") is Role.READER
    assert user.role_in(None) is Role.READER
    assert User(name="v", role=None).role_in("1") is None


def test_new_tokens_parse_back_and_verify_against_their_hash() -> None:
    token_id, text, stored = new_token()
    parsed = parse_token(text)
    assert parsed is not None
    assert parsed[0] == token_id
    assert stored == hash_token_secret(parsed[1])
    assert token_matches(parsed[1], stored)
    assert not token_matches(parsed[1] + "x", stored)
    assert new_token()[1] != text


@pytest.mark.parametrize(
    "text", ["", "mloop_", "mloop_abc_def", "other_0123456789ab_" + "a" * 43, "Bearer x"]
)
def test_other_text_is_not_a_token(text: str) -> None:
    assert parse_token(text) is None
