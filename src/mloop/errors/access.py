"""Errors of server users, API tokens, authentication and roles."""

from __future__ import annotations

from mloop.errors.base import AlreadyExistsError, ConfigurationError, NotFoundError


class UserNotFoundError(NotFoundError):
    """No server user with the given name."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"user {name!r} does not exist; `mloop users list` shows the users there are, "
            "`mloop users create NAME` makes one"
        )
        self.name = name


class UserAlreadyExistsError(AlreadyExistsError):
    """A server user with this name exists."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"user {name!r} already exists; grant it a role with `mloop users grant {name} "
            "--role ROLE`, or pick another name"
        )
        self.name = name


class TokenNotFoundError(NotFoundError):
    """No API token with the given id."""

    def __init__(self, token_id: str) -> None:
        super().__init__(
            f"API token {token_id!r} does not exist; `mloop tokens list` shows the token ids"
        )
        self.token_id = token_id


class AuthenticationError(ConfigurationError):
    """The server needs credentials and got none, or ones it does not accept."""


class PermissionDeniedError(ConfigurationError):
    """The credentials are valid but their user lacks the role the request needs."""
