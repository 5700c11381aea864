"""Tables of server users, API tokens and roles (revision 0004_auth).

Declared on the shared `metadata` of `schema.py`, which imports this module so every table is
known to `create_all` and to the migration tests.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table

from mloop.storage.sql.schema import AutoId, Ref, metadata

# A user; `role` is the global role (NULL: only per-experiment grants). `password_hash` is an
# argon2 hash in PHC format, NULL for users who only use API tokens.
users = Table(
    "users",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("role", String(16), nullable=True),
    Column("password_hash", String(256), nullable=True),
    Column("created_at_ms", BigInteger, nullable=False),
)

# An API token: looked up by its public id, verified against the SHA-256 of its secret.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", String(12), primary_key=True),
    Column("user_id", Ref, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(250), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("revoked_at_ms", BigInteger, nullable=True),
    Index(None, "user_id"),
)

# A user's role in one experiment, on top of the global role.
experiment_roles = Table(
    "experiment_roles",
    metadata,
    Column("user_id", Ref, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "experiment_id",
        Ref,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("role", String(16), nullable=False),
)
