"""`/api/v1/auth`: who the credentials of a request belong to (present only with auth on)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from mloop.entities.auth import User

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class WhoAmI(BaseModel):
    """The authenticated user and its roles."""

    name: str
    role: str | None
    experiment_roles: dict[str, str]


@router.get("/whoami")
def whoami(request: Request) -> WhoAmI:
    """The user the request's credentials belong to, with its global and per-experiment roles."""
    user: User = request.state.user
    return WhoAmI(
        name=user.name,
        role=user.role.value if user.role else None,
        experiment_roles={k: v.value for k, v in sorted(user.experiment_roles.items())},
    )
