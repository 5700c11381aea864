"""Users, API tokens and roles of the tracking server, and the API token format.

Roles are ordered: a reader may read, an editor may also write, an admin may also manage users,
tokens and grants (globally) or delete and restore an experiment (in one experiment). A user has
at most one global role and at most one role per experiment; the role that applies to an
experiment is the higher of the two.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from dataclasses import dataclass, field

from mloop.errors import InvalidInputError

# `mloop_<12 hex id>_<43 url-safe characters>`: the id finds the row, the secret proves possession.
TOKEN_PREFIX = "mloop_"  # noqa: S105 - a format marker, not a secret
_TOKEN_RE = re.compile(r"^mloop_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_USER_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")


class Role(enum.Enum):
    """What a user may do, globally or in one experiment; each role includes the ones below."""

    READER = "reader"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """1 for reader, 2 for editor, 3 for admin."""
        return _RANKS[self]

    def includes(self, other: Role) -> bool:
        """True when this role allows everything `other` allows."""
        return self.rank >= other.rank

    @classmethod
    def parse(cls, text: str) -> Role:
        """The role named `text` (case-insensitive).

        Raises:
            InvalidInputError: not one of reader, editor, admin.
        """
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InvalidInputError(
                f"unknown role {text!r}; expected one of reader, editor, admin",
                field="role",
            ) from None


_RANKS = {Role.READER: 1, Role.EDITOR: 2, Role.ADMIN: 3}


def higher_role(first: Role | None, second: Role | None) -> Role | None:
    """The higher of two roles, where None (no role) is the lowest."""
    if first is None:
        return second
    if second is None:
        return first
    return first if first.rank >= second.rank else second


@dataclass(frozen=True, slots=True)
class User:
    """A user of the tracking server.

    Attributes:
        name: the login name; it becomes the `actor` of audit events and a run's `user_id`.
        role: the global role, or None when the user only has per-experiment grants.
        experiment_roles: role per experiment id, on top of the global role.
        has_password: True when the user can log in with a password (HTTP basic auth).
        created_at_ms: when the user was created, milliseconds since the epoch.
    """

    name: str
    role: Role | None
    experiment_roles: dict[str, Role] = field(default_factory=dict)
    has_password: bool = False
    created_at_ms: int = 0

    def role_in(self, experiment_id: str | None) -> Role | None:
        """The role that applies in an experiment (the global role when `experiment_id` is None)."""
        if experiment_id is None:
            return self.role
        return higher_role(self.role, self.experiment_roles.get(experiment_id))


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An API token as stored: never its secret, which is shown once when it is created.

    Attributes:
        token_id: the public id (12 hex characters), part of the token text.
        user: the name of the user it acts as.
        name: a label chosen at creation ("ci", "laptop" ...).
        created_at_ms: creation time.
        revoked_at_ms: when it was revoked, or None while it is valid.
    """

    token_id: str
    user: str
    name: str
    created_at_ms: int
    revoked_at_ms: int | None = None

    @property
    def is_revoked(self) -> bool:
        """True once the token was revoked."""
        return self.revoked_at_ms is not None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A newly created token: the stored record and the secret text, shown only this once.

    Attributes:
        token: the stored record.
        secret: the whole token text (`mloop_<id>_<secret>`) to send as a bearer token.
    """

    token: ApiToken
    secret: str


def validate_user_name(name: str) -> str:
    """Check a user name: 1-128 letters, digits and `_ . @ -`, starting with a letter or digit.

    Raises:
        InvalidInputError: the name breaks the rule.
    """
    if not isinstance(name, str) or not _USER_NAME_RE.match(name):
        raise InvalidInputError(
            f"invalid user name {name!r}: use 1-128 letters, digits and _ . @ -, starting with "
            "a letter or digit",
            field="name",
        )
    return name


def new_token() -> tuple[str, str, str]:
    """A fresh token: (token_id, full token text, hash of its secret to store)."""
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return token_id, f"{TOKEN_PREFIX}{token_id}_{secret}", hash_token_secret(secret)


def parse_token(text: str) -> tuple[str, str] | None:
    """Split token text into (token_id, secret), or None when it is not an mloop token."""
    match = _TOKEN_RE.match(text.strip())
    return (match.group(1), match.group(2)) if match else None


def hash_token_secret(secret: str) -> str:
    """The SHA-256 of a token secret, as stored.

    A plain fast hash is enough here, unlike for passwords: the secret carries 256 random bits,
    so no dictionary or brute-force search over the hash can find it, and a slow hash would cost
    tens of milliseconds on every request.
    """
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def token_matches(secret: str, stored_hash: str) -> bool:
    """True when `secret` hashes to `stored_hash`; compared in constant time."""
    return secrets.compare_digest(hash_token_secret(secret), stored_hash)
