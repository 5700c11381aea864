"""Auth routes: whoami, user and token management, the roles of one experiment.

`/api/v1/auth/whoami`; `/api/v1/users` and `/api/v1/tokens` for admins; the roles of one
experiment for that experiment's admins (`/api/v1/experiments/{id}/roles`).
Mounted only with auth on. The middleware lets only global admins reach `/api/v1/users` and
`/api/v1/tokens`, admins of an experiment (or global admins) its `roles`, and any authenticated
user whoami (`auth_rules.RULES`); every change is audited with the admin as its actor, like the
`mloop users` / `mloop tokens` commands.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from mloop.entities.auth import ApiToken, Role, User
from mloop.server.auth import auth_store_of
from mloop.storage.protocols import AuthStore

router = APIRouter(prefix="/api/v1", tags=["auth"])

RoleName = Annotated[str, Field(pattern="^(reader|editor|admin)$")]
UserName = Annotated[str, Path(min_length=1, max_length=128)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserOut(_Body):
    """A user and its roles."""

    name: str
    role: str | None
    experiment_roles: dict[str, str]
    has_password: bool = False
    created_at_ms: int = 0


class UserList(_Body):
    """Users, by name."""

    users: list[UserOut]


class UserCreate(_Body):
    """A new user: a global role (or none) and, for basic auth, a password."""

    name: Annotated[str, Field(min_length=1, max_length=128)]
    role: RoleName | None = "reader"
    password: Annotated[str, Field(min_length=8, max_length=1024)] | None = None


class RoleGrant(_Body):
    """A role (none takes it away), globally or in one experiment."""

    role: RoleName | None
    experiment_id: Annotated[str, Field(pattern=r"^\d{1,18}$")] | None = None


class TokenOut(_Body):
    """An API token as stored (never its secret)."""

    token_id: str
    user: str
    name: str
    created_at_ms: int
    revoked_at_ms: int | None


class TokenList(_Body):
    """Tokens, oldest first."""

    tokens: list[TokenOut]


class TokenCreate(_Body):
    """A new token for a user, with an optional label."""

    user: Annotated[str, Field(min_length=1, max_length=128)]
    name: Annotated[str, Field(max_length=250)] = ""


class IssuedTokenOut(TokenOut):
    """A new token with its secret, shown only in this answer."""

    token: str


def _user_out(user: User) -> UserOut:
    return UserOut(
        name=user.name,
        role=user.role.value if user.role else None,
        experiment_roles={k: v.value for k, v in sorted(user.experiment_roles.items())},
        has_password=user.has_password,
        created_at_ms=user.created_at_ms,
    )


def _token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        token_id=token.token_id,
        user=token.user,
        name=token.name,
        created_at_ms=token.created_at_ms,
        revoked_at_ms=token.revoked_at_ms,
    )


def _auth(request: Request) -> AuthStore:
    return auth_store_of(request.app.state.store)


def _actor(request: Request) -> str:
    user: User = request.state.user
    return user.name


def _role(name: str | None) -> Role | None:
    return Role(name) if name else None


@router.get("/auth/whoami", response_model_exclude={"has_password", "created_at_ms"})
def whoami(request: Request) -> UserOut:
    """The user the request's credentials belong to, with its global and per-experiment roles."""
    return _user_out(request.state.user)


@router.get("/users")
def list_users(request: Request) -> UserList:
    """Every user with its roles (global admin only)."""
    return UserList(users=[_user_out(u) for u in _auth(request).list_users()])


@router.post("/users", status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, request: Request) -> UserOut:
    """Create a user (409 when the name is taken)."""
    created = _auth(request).create_user(
        body.name, role=_role(body.role), password=body.password, actor=_actor(request)
    )
    return _user_out(created)


@router.put("/users/{name}/role")
def grant_role(name: UserName, body: RoleGrant, request: Request) -> UserOut:
    """Set a user's global role, or its role in one experiment."""
    granted = _auth(request).grant(
        name, _role(body.role), experiment_id=body.experiment_id, actor=_actor(request)
    )
    return _user_out(granted)


@router.delete("/users/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(name: UserName, request: Request) -> Response:
    """Delete a user with its tokens and grants."""
    _auth(request).delete_user(name, actor=_actor(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/tokens")
def list_tokens(
    request: Request, user: Annotated[str | None, Query(max_length=128)] = None
) -> TokenList:
    """API tokens (never their secrets), optionally one user's."""
    return TokenList(tokens=[_token_out(t) for t in _auth(request).list_tokens(user=user)])


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, request: Request) -> IssuedTokenOut:
    """Issue a token; its secret is in this answer and nowhere else."""
    issued = _auth(request).create_token(body.user, name=body.name, actor=_actor(request))
    return IssuedTokenOut(**_token_out(issued.token).model_dump(), token=issued.secret)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    token_id: Annotated[str, Path(min_length=1, max_length=64)], request: Request
) -> TokenOut:
    """Revoke a token (revoking it again changes nothing)."""
    return _token_out(_auth(request).revoke_token(token_id, actor=_actor(request)))


class ExperimentRoles(_Body):
    """Who has a role in one experiment (on top of their global roles)."""

    experiment_id: str
    roles: dict[str, str]


class ExperimentRoleIn(_Body):
    """A user's role in one experiment."""

    role: RoleName


ExperimentPath = Annotated[str, Path(pattern=r"^\d{1,18}$")]


def _experiment_roles(auth: AuthStore, experiment_id: str) -> ExperimentRoles:
    roles = {
        u.name: u.experiment_roles[experiment_id].value
        for u in auth.list_users()
        if experiment_id in u.experiment_roles
    }
    return ExperimentRoles(experiment_id=experiment_id, roles=roles)


@router.get("/experiments/{experiment_id}/roles")
def list_experiment_roles(experiment_id: ExperimentPath, request: Request) -> ExperimentRoles:
    """The per-experiment roles granted in an experiment (its admins only)."""
    request.app.state.store.experiments.get(experiment_id)  # 404 for a missing experiment
    return _experiment_roles(_auth(request), experiment_id)


@router.put("/experiments/{experiment_id}/roles/{name}")
def set_experiment_role(
    experiment_id: ExperimentPath, name: UserName, body: ExperimentRoleIn, request: Request
) -> ExperimentRoles:
    """Give a user a role in this experiment (its admins only)."""
    auth = _auth(request)
    auth.grant(name, Role(body.role), experiment_id=experiment_id, actor=_actor(request))
    return _experiment_roles(auth, experiment_id)


@router.delete("/experiments/{experiment_id}/roles/{name}")
def remove_experiment_role(
    experiment_id: ExperimentPath, name: UserName, request: Request
) -> ExperimentRoles:
    """Take a user's role in this experiment away (its global role stays)."""
    auth = _auth(request)
    auth.grant(name, None, experiment_id=experiment_id, actor=_actor(request))
    return _experiment_roles(auth, experiment_id)
