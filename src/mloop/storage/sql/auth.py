"""SQL implementation of the auth store: users, API tokens, roles, and credential checks.

Every change (user created, role granted, token created or revoked ...) is recorded in the audit
log in the same transaction, with the actor that made it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Row, delete, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mloop.entities.auth import (
    ApiToken,
    IssuedToken,
    Role,
    User,
    new_token,
    parse_token,
    token_matches,
    validate_user_name,
)
from mloop.entities.clock import now_ms
from mloop.entities.validation import validate_experiment_id, validate_name
from mloop.errors import (
    ExperimentNotFoundError,
    TokenNotFoundError,
    UserAlreadyExistsError,
    UserNotFoundError,
)
from mloop.storage.passwords import dummy_hash, hash_password, verify_password
from mloop.storage.sql import schema
from mloop.storage.sql.audit import append_event
from mloop.storage.sql.dialect import upsert
from mloop.storage.sql.engine import read_transaction, with_retries, write_transaction
from mloop.storage.sql.schema_auth import api_tokens, experiment_roles, users

_TOKEN_COLUMNS = (
    api_tokens.c.token_id,
    users.c.name.label("user_name"),
    api_tokens.c.name,
    api_tokens.c.created_at_ms,
    api_tokens.c.revoked_at_ms,
)


class SqlAuthStore:
    """Users, API tokens and roles in a SQLite or PostgreSQL database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- users -------------------------------------------------------------------------------

    def create_user(
        self, name: str, *, role: Role | None, password: str | None = None, actor: str
    ) -> User:
        """Create a user.

        Args:
            name: the login name.
            role: the global role; None for a user who only gets per-experiment grants.
            password: a password for HTTP basic auth (hashed with argon2); None for token-only.
            actor: who creates it, for the audit log.

        Raises:
            UserAlreadyExistsError: the name is taken.
            InvalidInputError: the name or password breaks the rules.
        """
        validate_user_name(name)
        password_hash = hash_password(password) if password is not None else None

        def run() -> None:
            with write_transaction(self._engine) as conn:
                if _find_user_id(conn, name) is not None:
                    raise UserAlreadyExistsError(name)
                try:
                    conn.execute(
                        users.insert().values(
                            name=name,
                            role=role.value if role else None,
                            password_hash=password_hash,
                            created_at_ms=now_ms(),
                        )
                    )
                except IntegrityError as exc:  # a concurrent create of the same name won
                    raise UserAlreadyExistsError(name) from exc
                details = {"role": role.value if role else None, "password": password is not None}
                append_event(
                    conn, actor=actor, action="user.create", entity=("user", name), details=details
                )

        with_retries(run, what=f"creating user {name!r}")
        return self.get_user(name)

    def get_user(self, name: str) -> User:
        """The user with this name and all its roles.

        Raises:
            UserNotFoundError: no such user.
        """
        with read_transaction(self._engine) as conn:
            row = conn.execute(select(users).where(users.c.name == name)).one_or_none()
            if row is None:
                raise UserNotFoundError(name)
            return _to_user(row, _experiment_roles(conn, row.id))

    def list_users(self) -> list[User]:
        """Every user, by name."""
        with read_transaction(self._engine) as conn:
            rows = conn.execute(select(users).order_by(users.c.name)).all()
            grants: dict[int, dict[str, Role]] = {}
            for grant in conn.execute(select(experiment_roles)):
                grants.setdefault(grant.user_id, {})[str(grant.experiment_id)] = Role(grant.role)
        return [_to_user(row, grants.get(row.id, {})) for row in rows]

    def set_password(self, name: str, password: str | None, *, actor: str) -> None:
        """Set or (with None) remove a user's password.

        Raises:
            UserNotFoundError: no such user.
            InvalidInputError: the password breaks the length rule.
        """
        password_hash = hash_password(password) if password is not None else None
        self._update_user(
            name, {"password_hash": password_hash}, actor=actor, action="user.set_password"
        )

    def grant(
        self, name: str, role: Role | None, *, experiment_id: str | None = None, actor: str
    ) -> User:
        """Give a user a role globally or in one experiment; None takes the role away.

        Raises:
            UserNotFoundError: no such user.
            ExperimentNotFoundError: no such experiment.
        """
        if experiment_id is None:
            self._update_user(
                name,
                {"role": role.value if role else None},
                actor=actor,
                action="user.grant",
                details={"role": role.value if role else None, "experiment_id": None},
            )
            return self.get_user(name)
        numeric = validate_experiment_id(experiment_id)

        def run() -> None:
            with write_transaction(self._engine) as conn:
                user_id = _user_id(conn, name)
                exists = conn.execute(
                    select(schema.experiments.c.experiment_id).where(
                        schema.experiments.c.experiment_id == numeric
                    )
                ).first()
                if exists is None:
                    raise ExperimentNotFoundError(experiment_id)
                if role is None:
                    conn.execute(
                        delete(experiment_roles).where(
                            experiment_roles.c.user_id == user_id,
                            experiment_roles.c.experiment_id == numeric,
                        )
                    )
                else:
                    statement = upsert(
                        conn, experiment_roles, keys=("user_id", "experiment_id"), update=("role",)
                    )
                    conn.execute(
                        statement.values(user_id=user_id, experiment_id=numeric, role=role.value)
                    )
                details = {"role": role.value if role else None, "experiment_id": experiment_id}
                append_event(
                    conn, actor=actor, action="user.grant", entity=("user", name), details=details
                )

        with_retries(run, what=f"granting a role to user {name!r}")
        return self.get_user(name)

    def delete_user(self, name: str, *, actor: str) -> None:
        """Delete a user with its tokens and grants.

        Raises:
            UserNotFoundError: no such user.
        """

        def run() -> None:
            with write_transaction(self._engine) as conn:
                user_id = _user_id(conn, name)
                # Explicit rather than relying on ON DELETE CASCADE, which SQLite applies only
                # with foreign keys enabled on the connection.
                conn.execute(delete(api_tokens).where(api_tokens.c.user_id == user_id))
                conn.execute(delete(experiment_roles).where(experiment_roles.c.user_id == user_id))
                conn.execute(delete(users).where(users.c.id == user_id))
                append_event(conn, actor=actor, action="user.delete", entity=("user", name))

        with_retries(run, what=f"deleting user {name!r}")

    def _update_user(
        self,
        name: str,
        values: dict[str, Any],
        *,
        actor: str,
        action: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        def run() -> None:
            with write_transaction(self._engine) as conn:
                changed = conn.execute(
                    update(users).where(users.c.name == name).values(**values)
                ).rowcount
                if changed == 0:
                    raise UserNotFoundError(name)
                append_event(
                    conn, actor=actor, action=action, entity=("user", name), details=details
                )

        with_retries(run, what=f"updating user {name!r}")

    # -- tokens ------------------------------------------------------------------------------

    def create_token(self, user: str, *, name: str = "", actor: str) -> IssuedToken:
        """Issue an API token acting as `user`; its secret is in the result and nowhere else.

        Raises:
            UserNotFoundError: no such user.
            InvalidInputError: the label is invalid.
        """
        if name:
            validate_name(name, kind="token")
        token_id, secret, secret_hash = new_token()
        created = now_ms()

        def run() -> None:
            with write_transaction(self._engine) as conn:
                conn.execute(
                    api_tokens.insert().values(
                        token_id=token_id,
                        user_id=_user_id(conn, user),
                        name=name,
                        secret_hash=secret_hash,
                        created_at_ms=created,
                    )
                )
                append_event(
                    conn,
                    actor=actor,
                    action="token.create",
                    entity=("token", token_id),
                    details={"user": user, "name": name},
                )

        with_retries(run, what=f"creating a token for user {user!r}")
        record = ApiToken(token_id=token_id, user=user, name=name, created_at_ms=created)
        return IssuedToken(token=record, secret=secret)

    def list_tokens(self, *, user: str | None = None) -> list[ApiToken]:
        """Tokens (revoked ones too), oldest first; only one user's when `user` is given."""
        query = (
            select(*_TOKEN_COLUMNS)
            .join(users, users.c.id == api_tokens.c.user_id)
            .order_by(api_tokens.c.created_at_ms, api_tokens.c.token_id)
        )
        if user is not None:
            query = query.where(users.c.name == user)
        with read_transaction(self._engine) as conn:
            return [_to_token(row) for row in conn.execute(query)]

    def revoke_token(self, token_id: str, *, actor: str) -> ApiToken:
        """Revoke a token; it stops working at once (servers cache credentials briefly).

        Revoking a revoked token changes nothing.

        Raises:
            TokenNotFoundError: no such token.
        """

        def run() -> None:
            with write_transaction(self._engine) as conn:
                row = conn.execute(
                    select(api_tokens.c.revoked_at_ms).where(api_tokens.c.token_id == token_id)
                ).one_or_none()
                if row is None:
                    raise TokenNotFoundError(token_id)
                if row.revoked_at_ms is not None:
                    return
                conn.execute(
                    update(api_tokens)
                    .where(api_tokens.c.token_id == token_id)
                    .values(revoked_at_ms=now_ms())
                )
                append_event(conn, actor=actor, action="token.revoke", entity=("token", token_id))

        with_retries(run, what=f"revoking token {token_id!r}")
        query = (
            select(*_TOKEN_COLUMNS)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.token_id == token_id)
        )
        with read_transaction(self._engine) as conn:
            return _to_token(conn.execute(query).one())

    # -- credentials -------------------------------------------------------------------------

    def find_user_by_token(self, text: str, *, user: str | None = None) -> User | None:
        """The user an API token acts as, or None when the token is unknown, wrong or revoked.

        Args:
            text: the whole token text (`mloop_<id>_<secret>`).
            user: when given (HTTP basic auth with a token as password), the token must be
                this user's.
        """
        parsed = parse_token(text)
        if parsed is None:
            return None
        token_id, secret = parsed
        query = (
            select(api_tokens.c.secret_hash, api_tokens.c.revoked_at_ms, users)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.token_id == token_id)
        )
        with read_transaction(self._engine) as conn:
            row = conn.execute(query).one_or_none()
            if row is None or row.revoked_at_ms is not None:
                return None
            if not token_matches(secret, row.secret_hash):
                return None
            if user is not None and row.name != user:
                return None
            return _to_user(row, _experiment_roles(conn, row.id))

    def find_user_by_password(self, name: str, password: str) -> User | None:
        """The user when `password` is theirs, or None (unknown user, no password, mismatch)."""
        with read_transaction(self._engine) as conn:
            row = conn.execute(select(users).where(users.c.name == name)).one_or_none()
            grants = _experiment_roles(conn, row.id) if row is not None else {}
        # Verified outside the transaction: argon2 takes ~0.1 s on purpose. A user that does
        # not exist (or has no password) costs the same check, so timing tells no user names.
        if row is None or row.password_hash is None:
            verify_password(password, dummy_hash())
            return None
        return _to_user(row, grants) if verify_password(password, row.password_hash) else None

    def find_experiment_of_run(self, run_id: str) -> str | None:
        """The experiment id of a run, or None when there is no such run (request scoping)."""
        query = select(schema.runs.c.experiment_id).where(schema.runs.c.run_uuid == run_id)
        with read_transaction(self._engine) as conn:
            found = conn.execute(query).scalar_one_or_none()
        return None if found is None else str(found)


def _find_user_id(conn: Connection, name: str) -> int | None:
    found = conn.execute(select(users.c.id).where(users.c.name == name)).scalar_one_or_none()
    return None if found is None else int(found)


def _user_id(conn: Connection, name: str) -> int:
    found = _find_user_id(conn, name)
    if found is None:
        raise UserNotFoundError(name)
    return found


def _experiment_roles(conn: Connection, user_id: int) -> dict[str, Role]:
    query = select(experiment_roles.c.experiment_id, experiment_roles.c.role).where(
        experiment_roles.c.user_id == user_id
    )
    return {str(row.experiment_id): Role(row.role) for row in conn.execute(query)}


def _to_user(row: Row[Any], grants: dict[str, Role]) -> User:
    return User(
        name=row.name,
        role=Role(row.role) if row.role else None,
        experiment_roles=grants,
        has_password=row.password_hash is not None,
        created_at_ms=row.created_at_ms,
    )


def _to_token(row: Any) -> ApiToken:
    return ApiToken(
        token_id=row.token_id,
        user=row.user_name,
        name=row.name,
        created_at_ms=row.created_at_ms,
        revoked_at_ms=row.revoked_at_ms,
    )
