"""`mloop users ...`, `mloop tokens ...`: users, roles and API tokens of `mloop server --auth`.

They work on the server's database directly (MLOOP_TRACKING_URI or `--backend-uri`), so the
first admin can be created before any server runs.
"""

from __future__ import annotations

import dataclasses
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mloop.cli.output import console, format_ms, print_json
from mloop.errors import ConfigurationError, InvalidInputError

if TYPE_CHECKING:
    from mloop.entities.auth import Role, User
    from mloop.storage.protocols import AuthStore

users_app = typer.Typer(
    help="Manage the users and roles of `mloop server --auth`.", no_args_is_help=True
)
tokens_app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)

BackendOption = typer.Option(
    None,
    "--backend-uri",
    help="Database of the server (default: MLOOP_TRACKING_URI or the local store).",
)
ROLES = "reader, editor or admin"


@contextmanager
def _auth_store(backend_uri: str | None) -> Iterator[AuthStore]:
    """The auth store of the database named by `--backend-uri` or the settings."""
    from mloop.settings import Settings
    from mloop.storage.sql.store import SqlStore

    settings = Settings.from_env()
    uri = backend_uri or settings.tracking_uri
    if uri.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"users and tokens are managed on the server's database, not through a server "
            f"({uri}); pass --backend-uri sqlite:///... or postgresql://... as the server uses"
        )
    if backend_uri is None and settings.is_embedded:
        settings.home.mkdir(parents=True, exist_ok=True)
    store = SqlStore(uri, artifact_root=settings.artifact_uri)
    try:
        yield store.auth
    finally:
        store.close()


def _actor() -> str:
    """Who runs the command, for the audit log: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "cli"


def _role(text: str | None) -> Role | None:
    from mloop.entities.auth import Role

    if text is None or text.strip().lower() == "none":
        return None
    return Role.parse(text)


def _read_password() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InvalidInputError(
            "--password-stdin read an empty line; pipe the password in", field="password"
        )
    return password


def _user_json(user: User) -> dict[str, object]:
    return {
        "name": user.name,
        "role": user.role.value if user.role else None,
        "experiment_roles": {k: v.value for k, v in sorted(user.experiment_roles.items())},
        "has_password": user.has_password,
        "created_at_ms": user.created_at_ms,
    }


@users_app.command("create")
def create_user(
    name: str = typer.Argument(..., help="Login name."),
    role: str = typer.Option("reader", "--role", help=f"Global role: {ROLES}, or none."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read a password (for HTTP basic auth) from stdin."
    ),
    backend_uri: str | None = BackendOption,
) -> None:
    """Create a user; give it a token with `mloop tokens create --user NAME`."""
    password = _read_password() if password_stdin else None
    with _auth_store(backend_uri) as auth:
        user = auth.create_user(name, role=_role(role), password=password, actor=_actor())
    held = user.role.value if user.role else "no global role"
    console.print(f"created user [bold]{user.name}[/] ({held})")


@users_app.command("list")
def list_users(
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    backend_uri: str | None = BackendOption,
) -> None:
    """List users with their global and per-experiment roles."""
    with _auth_store(backend_uri) as auth:
        users = auth.list_users()
    if as_json:
        print_json([_user_json(u) for u in users])
        return
    table = Table("name", "role", "experiment roles", "password", "created (UTC)")
    for user in users:
        grants = ", ".join(f"{e}: {r.value}" for e, r in sorted(user.experiment_roles.items()))
        table.add_row(
            user.name, user.role.value if user.role else "-", grants or "-",
            "yes" if user.has_password else "no", format_ms(user.created_at_ms),
        )  # fmt: skip
    console.print(table)


@users_app.command("grant")
def grant(
    name: str = typer.Argument(..., help="The user."),
    role: str = typer.Option(..., "--role", help=f"{ROLES}, or none to take the role away."),
    experiment: str | None = typer.Option(
        None, "--experiment", help="Experiment id: grant in this experiment only."
    ),
    backend_uri: str | None = BackendOption,
) -> None:
    """Give a user a role, globally or in one experiment (`--role none` takes it away)."""
    granted = _role(role)
    with _auth_store(backend_uri) as auth:
        auth.grant(name, granted, experiment_id=experiment, actor=_actor())
    where = f"in experiment {experiment}" if experiment is not None else "globally"
    what = granted.value if granted else "no role"
    console.print(f"user [bold]{name}[/] now has {what} {where}")


@users_app.command("set-password")
def set_password(
    name: str = typer.Argument(..., help="The user."),
    remove: bool = typer.Option(False, "--remove", help="Remove the password (tokens only)."),
    backend_uri: str | None = BackendOption,
) -> None:
    """Set a user's password from stdin (one line), or remove it with --remove."""
    password = None if remove else _read_password()
    with _auth_store(backend_uri) as auth:
        auth.set_password(name, password, actor=_actor())
    console.print(f"{'removed' if remove else 'set'} the password of user [bold]{name}[/]")


@users_app.command("delete")
def delete_user(
    name: str = typer.Argument(..., help="The user."),
    backend_uri: str | None = BackendOption,
) -> None:
    """Delete a user with its tokens and grants."""
    with _auth_store(backend_uri) as auth:
        auth.delete_user(name, actor=_actor())
    console.print(f"deleted user [bold]{name}[/] and its tokens")


@tokens_app.command("create")
def create_token(
    user: str = typer.Option(..., "--user", help="The user the token acts as."),
    name: str = typer.Option("", "--name", help="A label, e.g. ci or laptop."),
    backend_uri: str | None = BackendOption,
) -> None:
    """Issue an API token and print it once; it is stored hashed and cannot be shown again."""
    with _auth_store(backend_uri) as auth:
        issued = auth.create_token(user, name=name, actor=_actor())
    console.print(
        f"token [bold]{issued.token.token_id}[/] for user {user}; copy it now, it is not shown "
        "again (send it as MLOOP_TRACKING_TOKEN, or MLFLOW_TRACKING_TOKEN for MLflow clients):",
        highlight=False,
    )
    # The bare token on its own line of stdout, so `... | tail -1` captures it.
    print(issued.secret)  # noqa: T201 - CLI output


@tokens_app.command("list")
def list_tokens(
    user: str | None = typer.Option(None, "--user", help="Only this user's tokens."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    backend_uri: str | None = BackendOption,
) -> None:
    """List API tokens (ids and labels; never the secrets)."""
    with _auth_store(backend_uri) as auth:
        tokens = auth.list_tokens(user=user)
    if as_json:
        print_json([dataclasses.asdict(t) for t in tokens])
        return
    table = Table("id", "user", "name", "created (UTC)", "revoked (UTC)")
    for t in tokens:
        table.add_row(
            t.token_id,
            t.user,
            t.name or "-",
            format_ms(t.created_at_ms),
            format_ms(t.revoked_at_ms),
        )
    console.print(table)


@tokens_app.command("revoke")
def revoke_token(
    token_id: str = typer.Argument(..., help="The token id (`mloop tokens list`)."),
    backend_uri: str | None = BackendOption,
) -> None:
    """Revoke a token; servers refuse it within their credential cache time (10 s)."""
    with _auth_store(backend_uri) as auth:
        auth.revoke_token(token_id, actor=_actor())
    console.print(f"revoked token [bold]{token_id}[/]")
