from __future__ import annotations

import pytest

from mloop.errors import InvalidInputError
from mloop.storage.passwords import hash_password, verify_password


def test_a_password_hash_is_salted_argon2id_and_verifies() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("$argon2id$")
    assert first != second
    assert verify_password("correct horse", first)
    assert not verify_password("correct horsE", first)


def test_a_malformed_stored_hash_never_verifies() -> None:
    assert not verify_password("anything", "not-a-hash")


@pytest.mark.parametrize("password", ["", "7-chars", "x" * 1025])
def test_passwords_outside_the_length_rule_are_refused(password: str) -> None:
    with pytest.raises(InvalidInputError, match="8 to 1024"):
        hash_password(password)
