"""Password hashing with argon2id (argon2-cffi, in the `mloop[server]` extra).

Below `cli/` and `server/` so both reach it: the CLI hashes a new password, the server (through
the auth store) verifies one. argon2 is imported when first used, never at `import mloop`.
"""

from __future__ import annotations

import functools
import secrets
from typing import TYPE_CHECKING

from mloop.errors import InvalidInputError, MissingExtraError

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


@functools.cache
def _hasher() -> PasswordHasher:
    try:
        from argon2 import PasswordHasher
    except ImportError as exc:
        raise MissingExtraError("server", "argon2") from exc
    # argon2-cffi's defaults follow RFC 9106's second recommendation (64 MiB, 3 passes).
    return PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of `password` in PHC string format, salted.

    Raises:
        InvalidInputError: shorter than 8 or longer than 1024 characters.
        MissingExtraError: argon2-cffi is not installed.
    """
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInputError(
            f"a password needs {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters "
            f"(got {len(password)})",
            field="password",
        )
    return _hasher().hash(password)


def verify_password(password: str, stored_hash: str) -> bool:
    """True when `password` matches an argon2 hash made by `hash_password`.

    Raises:
        MissingExtraError: argon2-cffi is not installed.
    """
    hasher = _hasher()
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """A hash no password matches, checked for unknown users so they cost as much as known ones."""
    return _hasher().hash(secrets.token_urlsafe(32))
